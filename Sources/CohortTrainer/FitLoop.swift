// The training loop of `Trainer.fit`, readable top to bottom in `run()`: resume,
// then each step (data → forward/backward → reduce → agree → NaN policy → update
// → checkpoint → log → validate or stop), then finish. What a run carries from
// step to step lives here as named state; the phases are in FitLoop+Step (step,
// reduce, NaN policy), +Checkpoint (resume, saves), +Log and +Finish.
import CohortCheckpoint
import CohortCollectives
import CohortCore
import CohortData
import CohortDistributed
import CohortNN
import CohortOptim
import CohortTensor
import Foundation

/// One `Trainer.fit` in progress: the model and its gradient reduction, the data, the
/// checkpoints, and the counters of the run. Every rank runs the same loop; every decision
/// that changes the run is agreed across ranks.
final class FitLoop<M: TrainingModule> {
    let trainer: Trainer
    let module: M
    let options: TrainerOptions
    let comm: any Communicator
    let net: any Module
    let arena: ParameterArena
    /// Gradient averaging bucketed and overlapped with backward (idle in deterministic mode).
    let ddp: DataParallel
    /// Deterministic mode's fixed-order tree over virtual shards (nil: DDP averages).
    var reducer: VirtualShardReducer?
    /// ZeRO's shards of the optimizer state (and with stage 2 of the gradients); nil without `options.zero`.
    let zero: ZeroRedundancy?
    /// Whether periodic saves are sharded: every rank writes its part (FitLoop+ShardedSave).
    let shardedSaves: Bool
    let optimizer: any Optimizer
    let schedule: any LRSchedule
    /// A `ManualTrainingModule`'s entry points and optimizer sets (nil: automatic optimization).
    let manual: (hooks: ManualHooks<M.Batch>, state: ManualState)?
    /// The seeded order of training samples: this rank's pieces of each step, the resumable cursor.
    let loader: DataLoader<TrainingSamples<M>>
    let checkpoints: TrainCheckpointing
    /// Every collective wait of the loop outside DDP's, under the supervision's deadline.
    let collectiveGuard: CollectiveGuard
    let evaluation: ValidationContext
    let totalSteps: Int, stepsPerEpoch: Int
    /// Whether a callback wants the gradient norm when clipping is off.
    let wantsNorm: Bool
    /// Per arena entry: frozen by `options.freeze`; the optimizer's groups before freezing; and
    /// whether unfreezing has given the optimizer, then the reduction, every parameter back.
    let frozen: [Bool]
    let fullGroups: [ParameterGroup]
    var optimizerThawed = false, reductionThawed = false
    /// Whether this fit installed SyncBatchNorm on the model's BatchNorm layers (removed when it ends).
    let syncsBatchNorm: Bool
    /// Deterministic SyncBatchNorm: the lock-step this rank's virtual shards run in (nil otherwise).
    let lockstep: ShardLockstep?
    /// The timeline being recorded (`options.trace`; nil: tracing off).
    let tracing: FitTracing?
    /// The run's extensions so far (`ResumePoint.extensions`), saved with every checkpoint.
    var extensions: [KeyValue] = []

    /// The step this process started from (0, or the resumed checkpoint's), and the steps completed.
    var startStep = 0, completed = 0
    var history: LossHistory
    /// Set when the job must checkpoint and stop now (a signal, the coordinator): why.
    var preemption: String?
    var lastValidation: (step: Int, metrics: [Metric])?
    var skippedUpdates = 0
    /// What the training data is: asked of the module once, on rank 0, when a checkpoint is saved or resumed.
    var identity: DataIdentity??
    /// Seconds training, waiting for gradients and waiting for data; and every step's phase times.
    var trainSeconds = 0.0, commSeconds = 0.0, dataSeconds = 0.0
    var phases = StepTimes()
    /// The current log window: when it began, its samples and its finite losses.
    var windowStart = 0.0, windowSamples = 0, windowLosses: [Float] = []

    /// Builds the run: the parameter arena, its gradient reduction, the optimizer, the data
    /// loader and the checkpoints, after checking the settings fit the module's data.
    init(_ trainer: Trainer, _ module: M) throws {
        let o = trainer.options, comm = trainer.communicator, net = module.network
        // A set-up that fails part-way leaves no trace recorder installed and no synchronised layer behind.
        var built = false, installedTrace = false, installedSync = false
        defer {
            if !built {
                if installedTrace { Trace.install(nil) }
                if installedSync { SyncBatchNorm.remove(from: net) }
            }
        }
        let arena = try ParameterArena(allocating: net)
        let frozen = try frozenEntries(o, arena)
        let hooks = manualHooks(module)
        let zero = try ZeroRedundancy.forTraining(o, arena: arena, communicator: comm, manual: hooks != nil,
                                                  guard: CollectiveGuard(watchdog: trainer.supervision.watchdog, groupSize: comm.size))
        let ddp = try DataParallel(model: net, arena: arena, communicator: comm, bucketMegabytes: o.bucketMegabytes,
                                   trainable: frozen.contains(true) ? frozen.map { !$0 } : nil,
                                   wire: o.gradientWire, errorFeedback: o.gradientErrorFeedback,
                                   gradientShards: zero?.shardsGradients == true ? zero?.shards : nil)
        ddp.watchdog = trainer.supervision.watchdog
        let sync = try SyncBatchNorm.forTraining(o, net: net, modelName: o.modelRecord?.name ?? String(describing: type(of: module)),
                                                 communicator: comm, manual: hooks != nil,
                                                 guard: CollectiveGuard(watchdog: trainer.supervision.watchdog, groupSize: comm.size))
        (syncsBatchNorm, lockstep) = sync
        installedSync = sync.installed
        var reducer = try FitLoop.shardReducer(o, arena: arena, ddp: ddp, frozen: frozen, manual: hooks != nil, communicator: comm,
                                               watchdog: trainer.supervision.watchdog)
        let piecesPerRank = reducer?.perRank
        let samples = TrainingSamples(module)
        let stepsPerEpoch = samples.count / o.globalBatch
        trainer.stepsPerEpoch = stepsPerEpoch
        guard stepsPerEpoch > 0 else {
            throw CohortError.invalidParameter(name: "globalBatch", "\(o.globalBatch) is larger than the training set (\(samples.count) samples)")
        }
        let totalSteps = o.steps ?? o.epochs * stepsPerEpoch
        trainer.totalSteps = totalSteps
        let optimizer: any Optimizer, schedule: any LRSchedule
        if let hooks {
            guard o.gradientWire == .fp32 else {
                throw CohortError.invalidParameter(name: "gradientWire", "\(o.gradientWire.rawValue): a module with several optimizer sets (manual optimization) exchanges float32 gradients only")
            }
            let state = try ManualState(hooks, arena: arena, totalSteps: totalSteps, options: o, frozen: frozen, communicator: comm,
                                        watchdog: trainer.supervision.watchdog)
            (optimizer, schedule) = (state.sets, FirstSetSchedule(first: state.sets.sets[0].schedule))
            manual = (hooks, state)
            ddp.noSync = true   // each set's gradients are reduced when it steps
            reducer = nil       // and in deterministic mode by the set's own tree (the loader still cuts virtual shards)
        } else {
            (optimizer, schedule) = module.configureOptimizers(arena, totalSteps: totalSteps)
            manual = nil
        }
        fullGroups = optimizer.parameterGroups
        if let zero { try optimizer.shard(zero.shard) }
        if frozen.contains(true) { try optimizer.setParameterGroups(withoutFrozen(fullGroups, frozen)) }
        trainer.parameters = arena
        trainer.optimizer = optimizer
        trainer.finishReason = nil
        trainer.finishNow = false
        trainer.pending = []
        let tracing = try o.trace.map { try FitTracing($0, communicator: comm, net: net) }   // before the loader's prefetch thread starts
        self.tracing = tracing
        installedTrace = tracing != nil
        loader = try DataLoader(samples, batchSize: o.globalBatch, shuffle: true, dropLast: true, seed: o.seed, rank: comm.rank, worldSize: comm.size,
                                prefetch: max(o.prefetch, 0), microBatches: piecesPerRank ?? o.accumulate, steps: totalSteps)
        let sharded = try FitLoop.shardsCheckpoints(o, communicator: comm)
        if sharded && o.asyncCheckpoint && comm.rank == 0 {
            Log.main("checkpoints: sharded saves are written in the step that makes them (every rank its part); --async-checkpoint applies to rank-0 saves")
        }
        let checkpoints = TrainCheckpointing(directory: o.checkpointDirectory, every: o.checkpointEvery, keepLast: o.keepLast, keepEvery: o.keepEvery,
                                             async: o.asyncCheckpoint && !sharded, config: o.config, onSaved: trainer.supervision.reportSaved)
        guard !o.extend || o.resume != nil else { throw CohortError.invalidParameter(name: "extend", "needs a checkpoint to continue (`resume`)") }
        if o.extend { checkpoints.extendable = TrainerOptions.extendableSettings }
        checkpoints.flags = o.configFlags
        self.checkpoints = checkpoints
        history = LossHistory(recentCapacity: LossHistory.recentCapacity(stepsPerEpoch: stepsPerEpoch))
        collectiveGuard = CollectiveGuard(watchdog: trainer.supervision.watchdog, groupSize: comm.size)
        evaluation = ValidationContext(communicator: comm, collectiveGuard: collectiveGuard)
        wantsNorm = trainer.callbacks.contains { $0.wantsGradientNorm }
        self.trainer = trainer
        self.module = module
        self.options = o
        self.comm = comm
        self.net = net
        self.arena = arena
        self.ddp = ddp
        self.reducer = reducer
        self.zero = zero
        shardedSaves = sharded
        self.optimizer = optimizer
        self.schedule = schedule
        self.totalSteps = totalSteps
        self.stepsPerEpoch = stepsPerEpoch
        self.frozen = frozen
        built = true
    }

    /// Deterministic mode's fixed-order tree over the virtual shards (nil without `virtualShards`);
    /// DDP then only keeps its buckets (no sync). With manual optimization it only checks the shards
    /// and cuts the batch: each optimizer set reduces with its own tree.
    static func shardReducer(_ o: TrainerOptions, arena: ParameterArena, ddp: DataParallel, frozen: [Bool], manual: Bool,
                             communicator comm: any Communicator, watchdog: CollectiveWatchdog?) throws -> VirtualShardReducer? {
        guard let shards = o.virtualShards else { return nil }
        guard o.accumulate == 1 else {
            // `deterministic` names deterministic mode as the command line does (its flag turns `virtualShards` on).
            throw CohortError.invalidParameter(name: "accumulate", "cannot be combined with `deterministic` (use `virtualShards`)")
        }
        guard o.globalBatch % shards == 0 else {
            throw CohortError.invalidParameter(name: "virtualShards", "\(shards) shards do not divide the global batch \(o.globalBatch)")
        }
        let trainable = frozen.contains(true) ? ddp.buckets.sorted { $0.lowerBound < $1.lowerBound } : nil
        let reducer = try VirtualShardReducer(shards: shards, communicator: comm, elements: arena.count, ranges: manual ? [] : trainable,
                                              wire: o.gradientWire)
        reducer.watchdog = watchdog
        ddp.noSync = true   // gradients are combined by the fixed tree instead
        return reducer
    }

    /// Trains from the resume point to the last step (or a stop every rank agreed on), then
    /// finishes: a preemption's checkpoint, or the final checkpoint, validation and test.
    func run() throws -> FitResult {
        defer { if syncsBatchNorm { SyncBatchNorm.remove(from: net) } }
        try resume()
        acceptSaveRequests()
        windowStart = monotonicSeconds()
        for c in trainer.callbacks { try c.onFitStart(trainer) }
        net.train()
        while completed < totalSteps {
            let step = completed + 1
            tracing?.recorder.beginStep(step)
            let stepEvent = tracing?.recorder.begin() ?? 0
            defer { tracing?.recorder.end(.step, stepEvent, argument: Int64(step)) }
            try unfreezeIfDue(beforeStep: step)
            let t0 = monotonicSeconds()   // the step's time includes the supervisor's work (and injected slowness)
            trainer.supervision.beginStep(step)
            let (batch, dataWait) = try load(step)
            let learningRate: Float, localLoss: Float
            if let manual {   // the module's own optimization calls: each reduces and steps its set
                learningRate = beginManualUpdate(manual.state)
                localLoss = try manualStep(batch.pieces, step: step, hooks: manual.hooks, state: manual.state)
            } else {
                learningRate = beginUpdate()
                localLoss = try forwardBackward(batch.pieces)
                try reduceShards()   // deterministic mode: the fixed-order tree, now
            }
            let agreed = try agree(localLoss, step: step)
            var skip = try skipsNonFiniteLoss(agreed.loss, step: step)
            var norm: Float?
            if manual == nil {
                try awaitBuckets()   // DDP: the allreduce overlapped with backward
                norm = try update(step: step, loss: agreed.loss, skip: &skip)
            }
            phases.finishStep(total: monotonicSeconds() - t0)   // checkpoint saves are not part of a step's phases
            history.append(agreed.loss)
            trainer.step = step
            try checkpointIfDue(after: step)
            trainer.supervision.completed(step: step)
            trainSeconds += monotonicSeconds() - t0
            try log(StepReport(step: step, totalSteps: totalSteps, epoch: completed / stepsPerEpoch + 1, loss: agreed.loss,
                               learningRate: learningRate, gradientNorm: norm, skipped: skip, samples: options.globalBatch,
                               seconds: monotonicSeconds() - t0, dataSeconds: dataWait))
            completed = step
            if try stops(after: step, agreed) { break }
        }
        let result = try preemption.map { try finishPreempted($0) } ?? finish()
        try tracing?.write()
        return result
    }

    /// Whether the run stops before its last step, after `step`: a preemption, or an early
    /// finish some rank asked for (a validation's callbacks decide at once).
    func stops(after step: Int, _ agreed: StepAgreement) throws -> Bool {
        guard step < totalSteps else { return false }
        if let reason = agreed.preemption {
            preemption = reason
            return true
        }
        var finish = agreed.finishRequested || trainer.finishNow
        if let every = options.validateEvery, step % every == 0 {
            lastValidation = (step, try validate(at: step))
            finish = try trainer.agreeFinish(collectiveGuard) || finish   // a decision of the validation's callbacks takes effect now
        }
        if finish && trainer.finishReason == nil { trainer.finishReason = "finish requested on another rank" }
        return finish
    }
}
