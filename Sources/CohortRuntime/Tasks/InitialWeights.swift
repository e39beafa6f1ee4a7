// `cohort train --init-from SOURCE`: a model starts from pretrained weights instead of
// its seeded initialisation. Every rank reads the same source and loads it before the
// Trainer starts (a resumed run then replaces them with its checkpoint's, so the first
// attempt of a `cohort launch` job starts from SOURCE and its restarts from their own
// checkpoints). Optimizer state, step and data cursor start fresh. A name map renames the
// source's tensors (`--name-map`); `--reinit GLOB` keeps the network's own seeded
// initialisation for some tensors (a new head, e.g. for another class count): the source's
// tensors of those names are set aside, so their shape mismatches are expected, not problems.
import CohortCheckpoint
import CohortCore
import CohortNN

/// Pretrained weights to start a model from.
public struct InitialWeights: Sendable {
    /// A checkpoint directory, a `.safetensors` file or a `.npz` file.
    public var source: String
    /// Refuse unless every model tensor is loaded and every source array used.
    public var strict: Bool
    /// A built-in map's name (`torch`) or a map file, applied to the source's names; nil: none.
    public var nameMap: String?
    /// Shell-style globs over the model's tensor names that keep the model's own initialisation.
    public var reinitialize: [String]

    public init(source: String, strict: Bool = true, nameMap: String? = nil, reinitialize: [String] = []) {
        self.source = source
        self.strict = strict
        self.nameMap = nameMap
        self.reinitialize = reinitialize
    }

    /// Loads the source into `network` (built from `spec`, which picks a built-in name map) and logs (rank 0) what was loaded and, for a non-strict
    /// load, each tensor that was not.
    /// - Throws: the source's read errors; `CohortError.invalidParameter(name: "strict", …)` listing
    ///   every missing, unexpected and mismatched tensor when `strict` and the load is not exact;
    ///   `CohortError.invalidParameter(name: "nameMap", …)` for an unknown map or a tied tensor that differs;
    ///   `CohortError.invalidParameter(name: "reinit", …)` for a glob matching no tensor of the model.
    @discardableResult
    public func load(into network: any Module, spec: ModelSpec) throws -> LoadReport {
        let tensors = network.namedParameters() + network.namedBuffers()
        for glob in reinitialize where !tensors.contains(where: { globMatches(glob, $0.name) }) {
            let names = tensors.map(\.name)
            throw CohortError.invalidParameter(name: "reinit", "'\(glob)' matches no tensor of the model (its names: "
                                               + names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", …" : "") + ")")
        }
        var (arrays, _) = try PretrainedWeights.read(source)
        var sourceNames: [String: String] = [:]
        var notes: [String] = []
        if let nameMap {
            let settings = Dictionary(spec.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            let map = try NameMap.named(nameMap, model: spec.name, settings: settings)
            let mapped = try map.importing(arrays, modelNames: tensors.map(\.name), source: source)
            (arrays, sourceNames, notes) = (mapped.arrays, mapped.sourceNames, mapped.notes)
        }
        let reinitialized = tensors.filter { t in reinitialize.contains { globMatches($0, t.name) } }
        if !reinitialized.isEmpty {
            // The re-initialised tensors are given their own values: a strict load then checks only the rest.
            arrays = arrays.filter { a in !reinitialize.contains { globMatches($0, a.name) } }
                + reinitialized.map { NamedArray(name: $0.name, shape: $0.tensor.shape, values: $0.tensor.scalars) }
            notes.append("re-initialising " + reinitialized.map(\.name).joined(separator: ", ") + " (the model's own initialisation)")
        }
        let report = try network.load(arrays, strict: strict, source: source, sourceNames: sourceNames)
        Log.main("initial weights from \(source)\(nameMap.map { " (name map \($0))" } ?? ""): "
                 + ([report.description] + notes).joined(separator: "\n").replacingOccurrences(of: "\n", with: "\n  "))
        return report
    }
}
