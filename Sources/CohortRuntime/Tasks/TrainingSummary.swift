// `cohort summary` and the summary lines `cohort train` prints at start: a model's
// `ModelSummary` (per-layer shapes, parameters, FLOPs) for one sample of its data, and the
// memory training it with an optimizer needs on each rank (weights, gradients, optimizer
// state, and an estimate of the activations of one per-rank batch), as text or JSON.
import CohortCore
import CohortNN
import CohortTensor
import Foundation

/// Bytes training a model needs on one rank (float32 throughout).
public struct TrainingMemory: Sendable, Equatable {
    /// Parameters (trainable and frozen) and buffers.
    public var weights: Double
    /// One gradient per trainable parameter.
    public var gradients: Double
    /// The optimizer's state per trainable parameter: SGD with momentum 1×, Adam/AdamW 2×,
    /// RMSprop 1× (2× with momentum), SGD without momentum none.
    public var optimizerState: Double
    /// An estimate: the floats the forward keeps for the backward (`ModelSummary.activationElements`)
    /// for one per-rank (micro-)batch; workspace and the backward's temporaries are not included.
    public var activations: Double

    /// All four.
    public var total: Double { weights + gradients + optimizerState + activations }
}

extension ModelMemory {
    /// The memory training the model of `summary` with `optimizer` takes per rank, with
    /// activations for `batch` samples (scaled from the summary's batch). With ZeRO (`zero` 1 or 2 over
    /// `ranks`) a rank keeps its shard of the optimizer state, and with stage 2 of the gradients (once
    /// each bucket is reduced; backward briefly holds the buckets in flight too).
    /// `checkpointActivations`: the transformer blocks keep only their inputs (`--checkpoint-activations`).
    public static func training(_ summary: ModelSummary, optimizer: String, momentum: Float, batch: Int,
                                zero: Int = 0, ranks: Int = 1, checkpointActivations: Bool = false) -> TrainingMemory {
        let stateCopies = copiesPerParameter(optimizer: optimizer, momentum: momentum) - 2
        let trainable = Double(summary.trainableParameters)
        let kept = checkpointActivations ? summary.activationElements(checkpointing: "TransformerBlock") : summary.activationElements
        let perSample = Double(kept) / Double(max(summary.batch, 1))
        let shards = Double(max(ranks, 1))
        return TrainingMemory(weights: 4 * Double(summary.parameters + summary.bufferElements), gradients: 4 * trainable / (zero >= 2 ? shards : 1),
                              optimizerState: 4 * trainable * Double(stateCopies) / (zero >= 1 ? shards : 1), activations: 4 * perSample * Double(batch))
    }
}

/// A model's summary for one sample of its data and its training memory per rank.
public struct TrainingSummary {
    /// The model's name (`mlp`, `gpt`, …).
    public let model: String
    /// Per-layer rows and totals for an input of one sample (`[1, inputs]`).
    public let summary: ModelSummary
    /// Memory per rank.
    public let memory: TrainingMemory
    /// The optimizer the memory is for.
    public let optimizer: String
    /// Samples per rank in one forward pass (the per-rank batch, divided by gradient accumulation).
    public let batch: Int
    /// The ZeRO stage (0: none) and the ranks it shards over.
    public let zero: Int, ranks: Int
    /// Whether the activation estimate is for recomputing transformer blocks (`--checkpoint-activations`).
    public let checkpointActivations: Bool

    /// Summarises `net`, built for data of `shape`, trained with `optimizer` on `batch` samples per rank,
    /// with the parameters matching the `frozen` globs (the Trainer's `freeze`) frozen.
    /// `zero` (a ZeRO stage) shards optimizer state (1) and gradients (2) over `ranks`.
    public init(_ net: any Module, model: String, shape: ModelShape, optimizer: String, momentum: Float, batch: Int,
                frozen: [String] = [], zero: Int = 0, ranks: Int = 1, checkpointActivations: Bool = false) throws {
        self.model = model
        self.optimizer = optimizer
        self.batch = batch
        (self.zero, self.ranks) = (zero, ranks)
        self.checkpointActivations = checkpointActivations
        summary = try net.summary(inputShape: [1, shape.inputs], frozen: frozen)
        memory = ModelMemory.training(summary, optimizer: optimizer, momentum: momentum, batch: batch, zero: zero, ranks: ranks,
                                      checkpointActivations: checkpointActivations)
    }

    /// Builds `spec` for data of `shape` as `cohort train` does (after the same memory check)
    /// and summarises it for `globalBatch` split over `ranks` and `accumulate` micro-batches.
    /// `build` makes the network when the task has its own models (forecasters, the detector);
    /// nil: `ModelZoo.build`.
    /// - Throws: `CohortError.invalidParameter(name: "np")` when the ranks do not divide the batch.
    public init(spec: ModelSpec, shape: ModelShape, optimizer: String, momentum: Float, globalBatch: Int, ranks: Int,
                accumulate: Int = 1, seed: UInt64, frozen: [String] = [], zero: Int = 0, checkpointActivations: Bool = false,
                build: ((inout RandomGenerator) throws -> any Module)? = nil) throws {
        guard ranks >= 1, globalBatch % ranks == 0 else {
            throw CohortError.invalidParameter(name: "np", "\(ranks) ranks do not divide the `globalBatch` \(globalBatch)")
        }
        guard accumulate >= 1, (globalBatch / ranks) % accumulate == 0 else {
            throw CohortError.invalidParameter(name: "accumulate", "\(accumulate) must be ≥ 1 and divide the per-rank batch \(globalBatch / ranks)")
        }
        try ModelMemory.check(spec, shape: shape, optimizer: optimizer, momentum: momentum, ranksOnNode: 1)
        var generator = RandomGenerator(seed: seed)
        let net = try build.map { try $0(&generator) } ?? ModelZoo.build(spec, shape: shape, generator: &generator)
        try self.init(net, model: spec.name, shape: shape, optimizer: optimizer, momentum: momentum, batch: globalBatch / ranks / accumulate,
                      frozen: frozen, zero: zero, ranks: ranks, checkpointActivations: checkpointActivations)
    }

    /// The memory line: total, then each part.
    var memoryText: String {
        let state = memory.optimizerState > 0 ? "\(optimizer) state \(mib(memory.optimizerState))" : "no \(optimizer) state"
        let sharded = zero == 0 || ranks < 2 ? "" : zero == 1 ? "; ZeRO stage 1: optimizer state is 1/\(ranks) per rank" : "; ZeRO stage 2: gradients and optimizer state are 1/\(ranks) per rank"
        return "memory per rank ≈ \(mib(memory.total)) (weights \(mib(memory.weights)), gradients \(mib(memory.gradients)), "
            + "\(state), activations ≈ \(mib(memory.activations)) for a batch of \(batch)"
            + "\(checkpointActivations ? " with the transformer blocks recomputing theirs" : "")\(sharded))"
    }

    /// One line for `cohort train`'s start: parameters (trainable, frozen), FLOPs per sample, memory per rank.
    public var shortForm: String {
        "summary: \(ModelSummary.grouped(summary.parameters)) parameters (\(ModelSummary.grouped(summary.trainableParameters)) trainable, "
            + "\(ModelSummary.grouped(summary.frozenParameters)) frozen), \(ModelSummary.flopsText(summary.flopsPerSample)) forward per sample, "
            + memoryText
    }

    /// The per-layer table, the totals and the memory, for `cohort summary`.
    public var table: String {
        """
        model \(model): input \(describeShape(summary.inputShape)) (one sample), output \(describeShape(summary.outputShape))
        \(summary.table())

        parameters: \(ModelSummary.grouped(summary.parameters)) (\(ModelSummary.grouped(summary.trainableParameters)) trainable, \(ModelSummary.grouped(summary.frozenParameters)) frozen)\(summary.bufferElements > 0 ? ", buffers: \(ModelSummary.grouped(summary.bufferElements))" : "")
        forward FLOPs per sample: \(ModelSummary.grouped(Int(summary.flopsPerSample))) (\(ModelSummary.flopsText(summary.flopsPerSample)))
        FLOP convention: \(ModelSummary.flopConvention).
        \(memoryText)
        """
    }

    /// Everything in `table` as a JSON object (memory in bytes).
    public var jsonObject: [String: Any] {
        let layers: [[String: Any]] = summary.layers.map { l in
            ["name": l.name, "type": l.type, "depth": l.depth, "output_shape": l.outputShape, "parameters": l.parameters,
             "trainable_parameters": l.trainableParameters, "frozen_parameters": l.frozenParameters, "flops": l.flops,
             "activation_elements": l.activationElements, "group": l.isGroup]
        }
        return ["model": model, "type": summary.type, "input_shape": summary.inputShape, "output_shape": summary.outputShape, "layers": layers,
                "parameters": summary.parameters, "trainable_parameters": summary.trainableParameters,
                "frozen_parameters": summary.frozenParameters, "buffer_elements": summary.bufferElements,
                "flops_per_sample": summary.flopsPerSample, "flop_convention": ModelSummary.flopConvention,
                "optimizer": optimizer, "batch_per_rank": batch, "zero": zero, "ranks": ranks, "checkpoint_activations": checkpointActivations,
                "memory_bytes": ["weights": memory.weights, "gradients": memory.gradients, "optimizer_state": memory.optimizerState,
                                 "activations_estimate": memory.activations, "total": memory.total]]
    }

    /// `jsonObject` as pretty, key-sorted JSON text.
    public var json: String {
        let data = (try? JSONSerialization.data(withJSONObject: jsonObject, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private func mib(_ bytes: Double) -> String { String(format: "%.1f MiB", bytes / 1_048_576) }
}
