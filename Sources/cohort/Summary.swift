// `cohort summary`: per-layer output shapes, parameters (trainable/frozen) and forward FLOPs, totals and per-rank training
// memory of the model `cohort train` builds from the same flags; `--json` for machines (TrainingSummary, Module.summary).
import ArgumentParser
import CohortRuntime

struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Per-layer output shapes, parameters (trainable/frozen) and FLOPs of the model `cohort train` builds from the same flags (model sizes, --data, --optimizer, --global-batch, --freeze; the others are ignored), and the memory training needs per rank.", usage: "cohort summary [--model NAME] [model flags] [--data …] [--optimizer NAME] [--global-batch N] [--np N] [--freeze GLOBS] [--json] (any cohort train flag)")
    @OptionGroup var train: Train
    @Option(parsing: .unconditional, help: "Ranks the global batch is split over (the per-rank batch the activation memory is estimated for).") var np = 1
    @Flag(help: "Print the summary as JSON.") var json = false
    func run() throws { try exitingOnErrors {
        var spec = ModelSpec(name: train.model, hidden: train.hiddenSizes!, layers: train.layers, heads: train.heads, dModel: train.dModel, embedding: train.embedding)
        spec.dropout = train.dropout
        try train.activations.validate(model: train.model)
        let task = try train.makeTask(), shape = task.modelShape
        let summary = try TrainingSummary(spec: spec, shape: shape, optimizer: train.optimizer, momentum: train.momentum,
                                          globalBatch: train.batchSize, ranks: np, accumulate: train.accumulate, seed: train.seed,
                                          frozen: train.freezeGlobs, zero: try train.gradComm.zeroStage(deterministic: train.deterministic),
                                          checkpointActivations: train.activations.checkpointActivations,
                                          build: { try train.network(for: task, spec, shape: shape, generator: &$0) })   // as `cohort train` builds it
        print(json ? summary.json : summary.table)
    } }
}
