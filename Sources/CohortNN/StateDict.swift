// Loading named weights from elsewhere — another framework's state dict, an .npz, a
// Cohort checkpoint — into a model, the way PyTorch's `load_state_dict` does:
// parameters and buffers are matched by name, and the report says which model
// tensors got no value (missing), which source arrays fit no tensor (unexpected)
// and which names matched with another shape (mismatched). Strict loading checks
// everything before it writes anything, so a refused load leaves the model as it was.
import CohortCore
import CohortTensor

/// One named array of Float32 values and its shape: an entry of a state dict.
public struct NamedArray: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "NamedArray \(name): \(values.count) values for shape \(shape)")
        (self.name, self.shape, self.values) = (name, shape, values)
    }
}

/// What a load matched and what it did not, by name.
public struct LoadReport: Sendable, Equatable, CustomStringConvertible {
    /// A name present on both sides with different shapes.
    public struct Mismatch: Sendable, Equatable {
        public var name: String
        public var modelShape: [Int]
        public var sourceShape: [Int]

        public init(name: String, modelShape: [Int], sourceShape: [Int]) {
            (self.name, self.modelShape, self.sourceShape) = (name, modelShape, sourceShape)
        }
    }

    /// Model tensors that received the source's values, in model order.
    public internal(set) var loaded: [String] = []
    /// Model parameters and buffers the source has no array for (PyTorch's `missing_keys`).
    public internal(set) var missing: [String] = []
    /// Source arrays no model tensor is called (PyTorch's `unexpected_keys`).
    public internal(set) var unexpected: [String] = []
    /// Names on both sides whose shapes differ (left as they were).
    public internal(set) var mismatched: [Mismatch] = []
    /// Model tensors the source calls otherwise (a name map's), named so in `problems`.
    public internal(set) var sourceNames: [String: String] = [:]

    /// True when every model tensor was loaded and every source array used.
    public var isExact: Bool { missing.isEmpty && unexpected.isEmpty && mismatched.isEmpty }

    /// One line per problem, each naming the tensor (empty when `isExact`).
    public var problems: [String] {
        func named(_ m: String) -> String { sourceNames[m].map { "\(m) (\($0) in the source)" } ?? m }
        return missing.map { "missing: the model's \(named($0)) has no value in the source" }
            + unexpected.map { "unexpected: the source's \($0) matches no model tensor" }
            + mismatched.map { "shape mismatch: \(named($0.name)) is \(describeShape($0.modelShape)) in the model, \(describeShape($0.sourceShape)) in the source" }
    }

    public var description: String {
        (["loaded \(loaded.count) tensor\(loaded.count == 1 ? "" : "s")"] + problems).joined(separator: "\n")
    }
}

extension Module {
    /// Copies `arrays` into this model's parameters and buffers by name.
    /// - Parameters:
    ///   - strict: when true, nothing is written unless the load is exact; the error lists every
    ///     missing, unexpected and mismatched name. When false, what matches is loaded and the
    ///     report says what did not.
    ///   - source: names the source (a file) in errors.
    ///   - sourceNames: the source's names of model tensors where they differ (a name map's), for messages.
    /// - Returns: the report of what was and was not loaded.
    /// - Throws: `CohortError.invalidParameter(name: "strict", …)` naming `source` and every problem
    ///   when `strict` and the load is not exact; `CohortError.invalidArgument` for a source array
    ///   listed twice.
    @discardableResult
    public func load(_ arrays: [NamedArray], strict: Bool = true, source: String,
                     sourceNames: [String: String] = [:]) throws -> LoadReport {
        var bySource: [String: NamedArray] = [:]
        for a in arrays {
            guard bySource.updateValue(a, forKey: a.name) == nil else {
                throw CohortError.invalidArgument("\(source): \(a.name) is listed twice")
            }
        }
        let targets = namedParameters() + namedBuffers()
        var report = LoadReport()
        report.sourceNames = sourceNames
        var writes: [(Tensor, NamedArray)] = []
        for (name, tensor) in targets {
            guard let a = bySource[name] else { report.missing.append(name); continue }
            if a.shape == tensor.shape {
                writes.append((tensor, a))
                report.loaded.append(name)
            } else {
                report.mismatched.append(.init(name: name, modelShape: tensor.shape, sourceShape: a.shape))
            }
        }
        let known = Set(targets.map(\.name))
        report.unexpected = arrays.map(\.name).filter { !known.contains($0) }
        if strict && !report.isExact {
            throw CohortError.invalidParameter(name: "strict", "\(source) does not load strictly into this model (\(report.problems.count) problem"
                + "\(report.problems.count == 1 ? "" : "s"); a non-strict load takes what matches):\n  "
                + report.problems.joined(separator: "\n  "))
        }
        for (tensor, a) in writes { try tensor.assign(try Tensor(a.values, shape: a.shape)) }
        return report
    }
}
