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

    public init(source: String, strict: Bool = true) {
        self.source = source
        self.strict = strict
    }

    /// Loads the source into `network` and logs (rank 0) what was loaded and, for a non-strict
    /// load, each tensor that was not.
    /// - Throws: the source's read errors; `CohortError.invalidParameter(name: "strict", …)` listing
    ///   every missing, unexpected and mismatched tensor when `strict` and the load is not exact.
    @discardableResult
    public func load(into network: any Module) throws -> LoadReport {
        let (arrays, _) = try PretrainedWeights.read(source)
        let report = try network.load(arrays, strict: strict, source: source)
        Log.main("initial weights from \(source): " + report.description.replacingOccurrences(of: "\n", with: "\n  "))
        return report
    }
}
