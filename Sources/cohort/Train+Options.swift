// `cohort train`'s flags as the Trainer's options: batch, steps, reduction, checkpoints,
// logging, and the records a checkpoint keeps (model, schedule, random state, config).
import ArgumentParser
import CohortCore
import CohortCheckpoint
import CohortCollectives
import CohortControl
import CohortData
import CohortDistributed
import CohortOptim
import CohortRunLog
import CohortRuntime
import CohortTensor
import CohortTrainer
import Foundation

extension Train {
    /// `--freeze` as a list of globs (empty without it).
    var freezeGlobs: [String] { freeze?.split(separator: ",").map(String.init) ?? [] }

    /// The `TrainerOptions` these flags ask for, for `task` and the model `spec` built with `generator`.
    func trainerOptions(task: any TrainTask, spec: ModelSpec, shape: ModelShape, totalSteps: Int,
                        generator: RandomGenerator) throws -> TrainerOptions {
        var options = TrainerOptions()
        options.globalBatch = batchSize
        options.steps = totalSteps
        options.accumulate = accumulate
        options.virtualShards = deterministic ? virtualShards : nil
        options.bucketMegabytes = bucketMB
        options.gradientWire = try gradComm.wire(deterministic: deterministic)
        options.gradientErrorFeedback = gradComm.errorFeedback
        options.zero = try gradComm.zeroStage(deterministic: deterministic)
        options.syncBatchNorm = syncBN.syncBN
        options.clipGradNorm = clipGradNorm
        options.seed = seed
        options.prefetch = prefetch
        options.logEvery = logEvery
        options.validateEvery = model == "dcgan" ? gan.sampleEvery : valEvery
        options.collectiveTimeout = collectiveTimeout
        options.recordStepTimes = stepTimes
        (options.freeze, options.unfreezeAt) = (freezeGlobs, unfreezeAt)
        options.checkpointDirectory = checkpointDir
        options.checkpointEvery = checkpointEvery
        options.keepLast = keepLast
        options.keepEvery = keepEvery
        options.asyncCheckpoint = checkpointWrites.asyncCheckpoint
        options.checkpointSharding = try checkpointWrites.sharding()
        (options.resume, options.extend) = (resume, extend)
        options.jobID = ProcessInfo.processInfo.environment[ControlEnvironment.runID]   // set by cohort launch, the same for every attempt
        // The tokenizer first: another one changes the dataset's size too, and --tokenizer is the flag to name.
        options.config = TokenizerFlags.config(task) + runConfig(task: task, totalSteps: totalSteps)   // and the freeze settings when set (older checkpoints resume)
            + (freeze.map { [KeyValue("freeze", $0)] } ?? []) + (unfreezeAt.map { [KeyValue("unfreeze_at", "\($0)")] } ?? []) + syncBN.config
        options.configFlags = ["tokenizer": "--tokenizer", "data": "--data"]
        options.metadata = try parsedMetadata() + CheckpointExport.inferenceRecords(task.inference)
        var modelRecord = ModelRecord()
        modelRecord.name = task is ForecastTask ? ForecastModels.recordName(model) : model
        modelRecord.settings = spec.settings + [KeyValue("inputs", "\(shape.inputs)"), KeyValue("classes", "\(shape.outputs)")]
            + (task.tokenizer.map { [KeyValue("tokenizer", $0.serialized)] } ?? [])
        options.modelRecord = modelRecord
        options.scheduleRecord.kind = schedule.kind
        options.scheduleRecord.parameters = [NamedValue("base_lr", Double(lr)), NamedValue("total_steps", Double(totalSteps))]
        options.randomStates = [RNGRecord(name: "init", words: generator.state)]
        options.trace = try trace.settings()

        return options
    }
}
