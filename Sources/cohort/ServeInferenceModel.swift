// A trained model as a `ServableModel` for `cohort serve`: an `InferenceModel` (the one load path
// `cohort predict` uses, so a checkpoint or a quantized .cq file), one replica per compute thread so
// concurrent batches never share a module's buffers. Requests carry raw rows, as predict reads them
// (pixels 0…255, a CSV's values); the recorded normalization is applied here.
import CohortCore
import CohortRuntime
import CohortServe
import Foundation

/// A row model (mlp, cnn, resnet; classification or regression) from a checkpoint or a .cq file.
final class ServeInferenceModel: ServableModel, @unchecked Sendable {
    let name: String
    let version: String
    let input: TensorSignature
    let output: TensorSignature
    /// Where it was loaded from (for messages).
    let path: String
    private let condition = NSCondition()
    private var free: [InferenceModel]

    /// Loads the model at `path` (checkpoint, run directory or .cq file) `replicas` times, served as
    /// `name`, version `version` (a checkpoint's step).
    /// - Throws: `CohortError.badFlag` naming `flag` for a text model, and the load's errors.
    init(path: String, flag: String, name: String?, version: String, replicas: Int) throws {
        free = try (0..<max(replicas, 1)).map { _ in try InferenceModel(path: path) }
        let first = free[0], metadata = first.metadata
        guard metadata.task != .text else {
            throw CohortError.badFlag(flag: flag, "\(first.source) holds a '\(metadata.modelKind)' text model; serve runs row models (mlp, cnn, resnet)")
        }
        self.name = name ?? metadata.modelKind
        self.version = version
        self.path = first.source
        input = TensorSignature(name: "input", datatype: .fp32, shape: metadata.inputShape)
        output = metadata.task == .regression
            ? TensorSignature(name: "prediction", datatype: .fp32, shape: [1])
            : TensorSignature(name: "probabilities", datatype: .fp32, shape: [metadata.outputs])
    }

    func infer(rows: [Float], count: Int) throws -> [Float] {
        condition.lock()
        while free.isEmpty { condition.wait() }
        let model = free.removeLast()
        condition.unlock()
        defer { condition.withLock { free.append(model); condition.signal() } }
        return try model.outputs(rawRows: rows, count: count, batchSize: max(count, 1))
    }
}
