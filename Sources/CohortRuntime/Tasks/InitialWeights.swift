// `cohort train --init-from SOURCE`: a model starts from pretrained weights instead of
// its seeded initialisation. Every rank reads the same source and loads it before the
// Trainer starts (a resumed run then replaces them with its checkpoint's, so the first
// attempt of a `cohort launch` job starts from SOURCE and its restarts from their own
// checkpoints). Optimizer state, step and data cursor start fresh.
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

    public init(source: String, strict: Bool = true, nameMap: String? = nil) {
        self.source = source
        self.strict = strict
        self.nameMap = nameMap
    }

    /// Loads the source into `network` (built from `spec`, which picks a built-in name map) and logs (rank 0) what was loaded and, for a non-strict
    /// load, each tensor that was not.
    /// - Throws: the source's read errors; `CohortError.invalidParameter(name: "strict", …)` listing
    ///   every missing, unexpected and mismatched tensor when `strict` and the load is not exact;
    ///   `CohortError.invalidParameter(name: "nameMap", …)` for an unknown map or a tied tensor that differs.
    @discardableResult
    public func load(into network: any Module, spec: ModelSpec) throws -> LoadReport {
        var (arrays, _) = try PretrainedWeights.read(source)
        var sourceNames: [String: String] = [:]
        var notes: [String] = []
        if let nameMap {
            let settings = Dictionary(spec.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            let map = try NameMap.named(nameMap, model: spec.name, settings: settings)
            let modelNames = network.namedParameters().map(\.name) + network.namedBuffers().map(\.name)
            let mapped = try map.importing(arrays, modelNames: modelNames, source: source)
            (arrays, sourceNames, notes) = (mapped.arrays, mapped.sourceNames, mapped.notes)
        }
        let report = try network.load(arrays, strict: strict, source: source, sourceNames: sourceNames)
        Log.main("initial weights from \(source)\(nameMap.map { " (name map \($0))" } ?? ""): "
                 + ([report.description] + notes).joined(separator: "\n").replacingOccurrences(of: "\n", with: "\n  "))
        return report
    }
}
