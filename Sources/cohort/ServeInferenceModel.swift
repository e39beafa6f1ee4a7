// A trained model as a `ServableModel` for `cohort serve`: an `InferenceModel` (the one load path
// `cohort predict` uses, so a checkpoint or a quantized .cq file), one replica per compute thread so
// concurrent batches never share a module's buffers. Row models' requests carry raw rows, as predict
// reads them (pixels 0…255, a CSV's values; the recorded normalization is applied here); text models'
// carry prompts, continued greedily as `cohort predict` continues them.
import CohortCore
import CohortRuntime
import CohortServe
import Foundation

/// A row model (mlp, cnn, resnet; classification or regression) or a text model (lstm, gpt) from a
/// checkpoint or a .cq file.
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
    /// - Throws: the load's errors.
    init(path: String, name: String?, version: String, replicas: Int) throws {
        free = try (0..<max(replicas, 1)).map { _ in try InferenceModel(path: path) }
        let first = free[0], metadata = first.metadata
        self.name = name ?? metadata.modelKind
        self.version = version
        self.path = first.source
        switch metadata.task {
        case .text:
            input = TensorSignature(name: "prompt", datatype: .bytes, shape: [])   // metadata: [-1]
            output = TensorSignature(name: "text", datatype: .bytes, shape: [])
        case .regression:
            input = TensorSignature(name: "input", datatype: .fp32, shape: metadata.inputShape)
            output = TensorSignature(name: "prediction", datatype: .fp32, shape: [1])
        default:
            input = TensorSignature(name: "input", datatype: .fp32, shape: metadata.inputShape)
            output = TensorSignature(name: "probabilities", datatype: .fp32, shape: [metadata.outputs])
        }
    }

    func infer(rows: [Float], count: Int) throws -> [Float] {
        try withReplica { try $0.outputs(rawRows: rows, count: count, batchSize: max(count, 1)) }
    }

    func generate(prompt: String, maxTokens: Int) throws -> String {
        do { return try withReplica { try $0.continueText(prompt, tokens: maxTokens) } } catch CohortError.invalidArgument(let why) {
            throw ServeError.badRequest(why)   // an empty prompt or a character outside the vocabulary
        }
    }

    /// Runs `body` on a replica no other thread is using.
    private func withReplica<T>(_ body: (InferenceModel) throws -> T) throws -> T {
        condition.lock()
        while free.isEmpty { condition.wait() }
        let model = free.removeLast()
        condition.unlock()
        defer { condition.withLock { free.append(model); condition.signal() } }
        return try body(model)
    }
}
