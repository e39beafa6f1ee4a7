// A checkpoint as a `ServableModel` for `cohort serve`: built and restored as `cohort eval` does
// (ModelZoo.build + TrainingCheckpoint.restore, eval mode, no grad), one replica per compute thread
// so concurrent batches never share a module's buffers.
import CohortCheckpoint
import CohortCore
import CohortNN
import CohortRuntime
import CohortServe
import CohortTensor
import Foundation

/// A feature-vector model (mlp, cnn, resnet; classification or regression) restored from a checkpoint.
final class ServeCheckpointModel: ServableModel, @unchecked Sendable {
    let name: String
    let version: String
    let input: TensorSignature
    let output: TensorSignature
    /// Where it was loaded from (for --watch: a newer checkpoint has another path).
    let path: String
    private let condition = NSCondition()
    private var free: [any Module]

    /// Loads `checkpoint` with `replicas` copies of the network, served as `name`.
    /// - Throws: `CohortError.badFlag` for a sequence model or a checkpoint without recorded sizes.
    init(checkpoint c: Checkpoint, name: String, replicas: Int) throws {
        let record = c.manifest.model
        let settings = Dictionary(record.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard !ModelZoo.sequenceModels.contains(record.name) else {
            throw CohortError.badFlag(flag: "--checkpoint", "\(c.path) holds a '\(record.name)' sequence model; serve runs feature-vector models (mlp, cnn, resnet)")
        }
        guard let inputs = settings["inputs"].flatMap(Int.init), let classes = settings["classes"].flatMap(Int.init) else {
            throw CohortError.badFlag(flag: "--checkpoint", "\(c.path) does not record its input and output sizes (saved by an older cohort?)")
        }
        let config = Dictionary(c.manifest.trainingConfig.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        self.name = name
        version = String(c.manifest.step)
        path = c.path
        input = TensorSignature(name: "input", datatype: .fp32, shape: [inputs])
        output = TensorSignature(name: config["task"] == "regression" ? "prediction" : "logits", datatype: .fp32, shape: [classes])
        free = try (0..<max(replicas, 1)).map { _ in
            var g = RandomGenerator(seed: 0)
            let model = try ModelZoo.build(ModelSpec(name: record.name, settings: settings),
                                           shape: ModelShape(inputs: inputs, outputs: classes, sequence: false), generator: &g)
            try TrainingCheckpoint.restore(c, arena: ParameterArena(model), optimizer: nil)
            model.eval()
            return model
        }
    }

    func infer(rows: [Float], count: Int) throws -> [Float] {
        condition.lock()
        while free.isEmpty { condition.wait() }
        let model = free.removeLast()
        condition.unlock()
        defer { condition.withLock { free.append(model); condition.signal() } }
        return try withNoGrad {
            let x = try Tensor(rows, shape: [count, input.elementsPerRow])
            return try model(x).contiguous().scalars
        }
    }
}
