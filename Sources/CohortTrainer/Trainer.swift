// The training loop behind `cohort train` and any `TrainingModule`: seeded data
// order with a resumable cursor, optional background prefetch, data-parallel
// gradient averaging (bucketed and overlapped with backward, or deterministic
// virtual shards), gradient accumulation, clipping, the non-finite guard,
// periodic and best checkpoints, validation, and callbacks. Every rank runs the
// same loop; every decision that changes the run is agreed across ranks.
import CohortCheckpoint
import CohortCollectives
import CohortCore
import CohortData
import CohortDistributed
import CohortNN
import CohortOptim
import CohortTensor
import Foundation

/// Fits `TrainingModule`s, in the spirit of PyTorch Lightning's `Trainer`.
///
///     let trainer = try Trainer(options, callbacks: [ConsoleProgress(), EarlyStopping(monitor: "val_loss")])
///     let result = try trainer.fit(MyModel())
public final class Trainer {
    public let options: TrainerOptions
    /// The training group (MPI's world under `mpirun`, else a single process).
    public let communicator: any Communicator
    public let supervision: any TrainingSupervision
    public var callbacks: [any Callback]
    /// Called on rank 0 with each step's global sample ids (1-based step), before the step trains.
    public var onBatchIndices: ((Int, [Int]) throws -> Void)?

    /// Steps completed so far (during `fit`), the run's total, and steps per epoch.
    public private(set) var step = 0, totalSteps = 0, stepsPerEpoch = 0
    /// The parameters and optimizer of the current `fit`.
    public private(set) var parameters: ParameterArena?
    public private(set) var optimizer: (any Optimizer)?

    public var rank: Int { communicator.rank }
    public var worldSize: Int { communicator.size }
    public var isRankZero: Bool { communicator.rank == 0 }

    private var finishReason: String?
    private var finishNow = false
    private var pending: [(name: String, value: Double)] = []
    private var saveInto: ((String, Int, [KeyValue]) throws -> Void)?

    /// - Parameters:
    ///   - communicator: the group to train in; nil: a single process. Under a launcher that
    ///     started more than one rank (mpirun, srun, `cohort launch`), pass CohortRuntime's
    ///     communicator (`CohortRuntime.main`), which starts MPI and the rank's supervision.
    ///   - supervision: job-supervisor hooks; nil: `LocalSupervision`.
    public init(_ options: TrainerOptions = TrainerOptions(), callbacks: [any Callback] = [ConsoleProgress()],
                communicator: (any Communicator)? = nil, supervision: (any TrainingSupervision)? = nil) throws {
        self.options = options
        self.callbacks = callbacks
        self.supervision = supervision ?? LocalSupervision()
        if let communicator { self.communicator = communicator } else if LauncherDetection.current.needsMPI {
            let launcher = LauncherDetection.current
            throw CohortError.invalidArgument("Trainer(communicator: nil) trains in a single process, but \(launcher.kind.map { "\($0)" } ?? "a launcher") "
                + "started \(launcher.size.map(String.init) ?? "several") ranks: start them with CohortRuntime (`CohortRuntime.main { runtime in … }`, "
                + "or pass `communicator:` a CohortRuntime's communicator)")
        } else {
            self.communicator = SingleProcessCommunicator()
        }
    }

    /// Asks the run to finish (the final checkpoint and validation still run); the first reason
    /// given is kept. The request is agreed across ranks: it takes effect after the next step, or
    /// at once during a validation. With `onEveryRank`, the caller promises every rank makes the
    /// same request at the same step (a fixed step, values all ranks share): it takes effect after this step.
    public func requestFinish(_ reason: String, onEveryRank: Bool = false) {
        if finishReason == nil { finishReason = reason }
        if onEveryRank { finishNow = true }
    }

    /// Adds a scalar to the next log record (the latest value per name wins).
    public func log(_ name: String, _ value: Double) {
        if let i = pending.firstIndex(where: { $0.name == name }) { pending[i].value = value } else { pending.append((name, value)) }
    }

    /// Saves the current state as a checkpoint in `<checkpoint dir>/<subdirectory>`, keeping the
    /// newest `keepLast` there, with `metadata` after the run's. Collective (BatchNorm statistics
    /// are averaged first); rank 0 writes.
    public func saveCheckpoint(subdirectory: String, keepLast: Int, metadata: [KeyValue] = []) throws {
        guard let saveInto else { throw CohortError.invalidArgument("Trainer.saveCheckpoint: only during fit, with a checkpoint directory") }
        try saveInto(subdirectory, keepLast, metadata)
    }

    /// Trains `module` for `options.steps` (or `options.epochs`), resuming first when
    /// `options.resume` says so, then validates. Collective: every rank calls it.
    @discardableResult
    public func fit<M: TrainingModule>(_ module: M) throws -> FitResult {
        let comm = communicator, o = options
        let localBatch = try o.localBatch(worldSize: comm.size)
        // One writer per checkpoint directory, held for the whole fit: rank 0 writes every
        // checkpoint (and moves damaged ones aside); the other ranks only read.
        let directoryLock = try comm.rank == 0 ? o.checkpointDirectory.map { try TrainCheckpointing.lock($0, job: o.jobID) } : nil
        defer { directoryLock?.release() }
        let net = module.network
        let arena = try ParameterArena(allocating: net)
        let ddp = try DataParallel(model: net, arena: arena, communicator: comm, bucketMegabytes: o.bucketMegabytes)
        ddp.watchdog = supervision.watchdog
        var reducer: VirtualShardReducer?
        if let shards = o.virtualShards {
            guard o.accumulate == 1 else { throw CohortError.badFlag(flag: "--accumulate", "cannot be combined with --deterministic (use --virtual-shards)") }
            guard o.globalBatch % shards == 0 else {
                throw CohortError.badFlag(flag: "--virtual-shards", "\(shards) shards do not divide the global batch \(o.globalBatch)")
            }
            reducer = try VirtualShardReducer(shards: shards, communicator: comm, elements: arena.count)
            reducer?.watchdog = supervision.watchdog
            ddp.noSync = true   // gradients are combined by the fixed tree instead
        }
        let count = module.trainingSamples
        stepsPerEpoch = count / o.globalBatch
        guard stepsPerEpoch > 0 else {
            throw CohortError.badFlag(flag: "--batch-size", "\(o.globalBatch) is larger than the training set (\(count) samples)")
        }
        totalSteps = o.steps ?? o.epochs * stepsPerEpoch
        let (opt, schedule) = module.configureOptimizers(arena, totalSteps: totalSteps)
        parameters = arena
        optimizer = opt
        finishReason = nil
        finishNow = false
        pending = []

        var batches = try BatchIterator(count: count, name: module.dataName, batchSize: o.globalBatch, shuffle: true, dropLast: true, seed: o.seed)
        let checkpoints = TrainCheckpointing(directory: o.checkpointDirectory, every: o.checkpointEvery, keepLast: o.keepLast, keepEvery: o.keepEvery,
                                             async: o.asyncCheckpoint, config: o.config, onSaved: supervision.reportSaved)
        defer { try? checkpoints.finish() }   // on an error, a background save ends before the lock is released
        // What the training data is: asked once, on rank 0, when a checkpoint is saved or resumed.
        var identity: DataIdentity??
        func dataIdentity() throws -> DataIdentity? {
            if let identity { return identity }
            let found = try module.dataIdentity
            identity = .some(found)
            return found
        }
        var history = LossHistory(recentCapacity: LossHistory.recentCapacity(stepsPerEpoch: stepsPerEpoch))
        var startStep = 0
        if let point = try checkpoints.resume(o.resume, arena: arena, optimizer: opt, model: net, recentLosses: history.recentCapacity,
                                              movesDamaged: comm.rank == 0, data: { comm.rank == 0 ? try dataIdentity() : nil }) {
            guard point.step <= totalSteps else {
                throw ResumeError(CohortError.badFlag(flag: "--resume", "\(point.path) is at step \(point.step), past this run's \(totalSteps) steps"))
            }
            startStep = point.step
            history = point.history
            try batches.seek(to: point.samplesConsumed)
        }
        step = startStep

        /// Rank 0: writes the state after `completed` steps into `store`.
        func save(after completed: Int, into store: TrainCheckpointing, metadata extra: [KeyValue] = []) throws {
            var cursor = DataCursorRecord()
            cursor.shuffleSeed = o.seed
            cursor.epoch = batches.epoch
            cursor.sampleInEpoch = batches.positionInEpoch
            cursor.samplesConsumed = batches.cursor
            cursor.dataset = module.dataName
            cursor.datasetSize = count
            var model = o.modelRecord ?? ModelRecord()
            if o.modelRecord == nil { model.name = String(describing: type(of: module)) }
            model.parameterCount = net.parameterCount
            var scheduleRecord = o.scheduleRecord
            scheduleRecord.step = completed
            try store.save(step: completed, epoch: batches.epoch, cursor: cursor, batchSize: o.globalBatch, model: model,
                           arena: arena, optimizer: opt, schedule: scheduleRecord, history: history,
                           rng: o.randomStates + net.namedRandomStates().map { RNGRecord(name: "module/" + $0.name, words: $0.state) },
                           metadata: o.metadata + extra, data: try dataIdentity())
        }
        func savePeriodic(after completed: Int) throws {
            if supervision.crashesCheckpoint(atStep: completed) { checkpoints.crashDuringNextSave = true }
            try save(after: completed, into: checkpoints)
        }
        saveInto = { sub, keep, extra in
            guard let dir = o.checkpointDirectory else { throw CohortError.invalidArgument("saving a checkpoint needs a checkpoint directory") }
            try ddp.averageBuffers()
            if comm.rank == 0 {
                let store = TrainCheckpointing(directory: dir + "/" + sub, every: 1, keepLast: keep, keepEvery: 0, async: false,
                                               config: o.config, onSaved: { _ in })
                try save(after: self.step, into: store, metadata: extra)
            }
        }
        defer { saveInto = nil }

        var trainSeconds = 0.0, commSeconds = 0.0, dataSeconds = 0.0
        var phases = StepTimes()
        var preemption: String?
        var windowStart = monotonicSeconds(), windowSamples = 0, windowLosses: [Float] = []
        let wantsNorm = callbacks.contains { $0.wantsGradientNorm }
        var skippedUpdates = 0
        var lastValidation: (step: Int, metrics: [Metric])?
        /// This rank's batches of one step (virtual shards, or micro-batches of its slice), from the step's global sample ids.
        func stepBatches(_ global: [Int], step: Int) throws -> [M.Batch] {
            if let reducer {
                let shardSize = o.globalBatch / reducer.shards
                return try (0..<reducer.perRank).map { i in
                    let j = reducer.firstShard + i
                    return try module.trainingBatch(Array(global[(j * shardSize)..<((j + 1) * shardSize)]), step: step)
                }
            }
            let first = comm.rank * localBatch, micro = localBatch / o.accumulate
            return try (0..<o.accumulate).map { m in
                try module.trainingBatch(Array(global[(first + m * micro)..<(first + (m + 1) * micro)]), step: step)
            }
        }
        let evaluation = ValidationContext(communicator: comm) { [supervision] op, body in try supervision.guarding(op, body) }
        /// The test split, for reporting only (after the final validation; BatchNorm statistics already averaged).
        func test() throws -> [Metric] {
            net.eval()
            defer { net.train() }
            return try withNoGrad { try module.test(evaluation) }
        }
        /// What a non-finite step does: the first callback's answer, else stop with an error.
        func decide(_ problem: NonFiniteProblem) throws -> Bool {
            for c in callbacks { if let action = c.onNonFinite(self, problem) { if action == .skip { return true }; break } }
            throw CohortError.nonFinite("\(problem). Try a smaller learning rate (now \(opt.learningRate)), gradient clipping (--clip-grad-norm) "
                                        + "or the NaN guard (--on-nan skip)")
        }
        func validate(at completed: Int) throws -> [Metric] {
            try ddp.averageBuffers()   // every rank: BatchNorm statistics become one model's
            net.eval()
            defer { net.train() }
            let metrics = try withNoGrad { try module.validate(evaluation) }
            for c in callbacks { try c.onValidationEnd(self, step: completed, metrics: metrics) }
            if !metrics.isEmpty {
                for c in callbacks { try c.onLog(self, step: completed, phase: .validation, values: metrics.map { ($0.name, $0.value) }) }
            }
            return metrics
        }

        // Prefetch: a copy of the data iterator runs `prefetch` steps ahead of `batches` and the
        // worker prepares those steps' batches during compute; the order (and the checkpointed
        // cursor, which stays with `batches`) is exactly the same as without it.
        let prefetcher = o.prefetch > 0 ? Prefetcher<(ids: [Int], batches: [M.Batch])>() : nil
        var ahead = batches
        var submitted = startStep
        func refill() {
            guard let prefetcher else { return }
            while prefetcher.pending < o.prefetch && submitted < totalSteps {
                let ids = ahead.nextIndices().indices
                let forStep = submitted + 1
                prefetcher.submit { (ids, try stepBatches(ids, step: forStep)) }
                submitted += 1
            }
        }
        refill()
        for c in callbacks { try c.onFitStart(self) }
        net.train()
        var stepIndex = startStep
        while stepIndex < totalSteps {
            let current = stepIndex + 1
            let t0 = monotonicSeconds()   // the step's time includes the supervisor's work (and injected slowness)
            supervision.beginStep(current)
            let global = batches.nextIndices().indices
            if comm.rank == 0, let onBatchIndices { try onBatchIndices(current, global) }
            let d0 = monotonicSeconds()
            let stepData: [M.Batch]
            if let prefetcher {
                let (prepared, _) = try prefetcher.next()
                guard prepared.ids == global else {
                    throw CohortError.invalidArgument("step \(current): prefetched batch does not match the data order (internal error)")
                }
                stepData = prepared.batches
                refill()
            } else {
                stepData = try stepBatches(global, step: current)
            }
            let waitedForData = monotonicSeconds() - d0
            dataSeconds += waitedForData
            phases.add(data: waitedForData)
            schedule.apply(to: opt)
            let learningRate = opt.learningRate
            opt.zeroGrad()
            var localLoss: Float = 0
            if let reducer {
                // Deterministic: one backward per virtual shard, then the fixed-order tree.
                for i in 0..<reducer.perRank {
                    arena.zeroGrad()
                    let loss = try module.trainingStep(stepData[i])
                    localLoss += try loss.item() / Float(reducer.perRank)
                    try loss.backward()
                    reducer.store(local: i, from: arena.grads.pointer)
                }
                let c0 = monotonicSeconds()
                try reducer.reduce(into: arena.grads.pointer)
                commSeconds += monotonicSeconds() - c0
                phases.add(comm: monotonicSeconds() - c0)
            } else {
                // Gradient accumulation: k micro-batches, communication only after the last.
                for m in 0..<o.accumulate {
                    ddp.noSync = m < o.accumulate - 1
                    let loss = try module.trainingStep(stepData[m])
                    localLoss += try loss.item() / Float(o.accumulate)
                    try (o.accumulate == 1 ? loss : loss / Float(o.accumulate)).backward()
                }
            }
            // The global loss (mean over ranks): every rank sees the same value and decisions,
            // including whether to stop after this step (a signal or command on any rank).
            let a0 = monotonicSeconds()
            let agreed = try supervision.agree(loss: localLoss, finishRequested: finishReason != nil, step: current, comm: comm)
            phases.add(comm: monotonicSeconds() - a0)
            let value = agreed.loss
            var skip = false
            if !value.isFinite {
                skip = try decide(.loss(step: current, value: value, culprit: arena.firstNonFiniteValue()))
            }
            if reducer == nil {
                try ddp.synchronize(timeout: o.collectiveTimeout)
                commSeconds += ddp.lastWaitSeconds
                phases.add(comm: ddp.lastWaitSeconds)
            }
            let u0 = monotonicSeconds()
            var norm: Float?
            if !skip {
                if o.clipGradNorm > 0 { norm = CohortOptim.clipGradNorm(arena, maxNorm: o.clipGradNorm) } else if wantsNorm { norm = arena.gradNorm() }
                if let bad = arena.firstNonFiniteGrad() { skip = try decide(.gradient(step: current, parameter: bad, loss: value)) }
            }
            try checkpoints.beforeParameterUpdate()
            if skip { skippedUpdates += 1 } else { opt.step() }
            phases.add(optimizer: monotonicSeconds() - u0)
            phases.finishStep(total: monotonicSeconds() - t0)   // checkpoint saves are not part of a step's phases
            history.append(value)
            step = current
            if checkpoints.due(afterStep: current, total: totalSteps) {
                try ddp.averageBuffers()   // every rank: BatchNorm statistics become one model's
                if comm.rank == 0 { try savePeriodic(after: current) }
            }
            supervision.completed(step: current)
            trainSeconds += monotonicSeconds() - t0
            windowSamples += o.globalBatch
            if value.isFinite { windowLosses.append(value) }
            let report = StepReport(step: current, totalSteps: totalSteps, epoch: stepIndex / stepsPerEpoch + 1, loss: value,
                                    learningRate: learningRate, gradientNorm: norm, skipped: skip, samples: o.globalBatch,
                                    seconds: monotonicSeconds() - t0, dataSeconds: waitedForData)
            for c in callbacks { try c.onTrainStepEnd(self, report) }
            if current % o.logEvery == 0 || current == totalSteps {
                let t = monotonicSeconds()
                let meanLoss = windowLosses.isEmpty ? Double.nan : Double(windowLosses.reduce(0, +)) / Double(windowLosses.count)
                let record = [("train_loss", meanLoss), ("samples_per_sec", Double(windowSamples) / max(t - windowStart, 1e-9))] + pending
                for c in callbacks { try c.onLog(self, step: current, phase: .train, values: record) }
                pending = []
                windowStart = t; windowSamples = 0; windowLosses = []
            }
            stepIndex = current
            if agreed.preemption != nil && current < totalSteps { preemption = agreed.preemption; break }
            var finish = agreed.finishRequested || finishNow
            if let every = o.validateEvery, current % every == 0, current < totalSteps {
                lastValidation = (current, try validate(at: current))
                finish = try agreeFinish() || finish   // a decision of the validation's callbacks takes effect now
            }
            if finish && current < totalSteps {
                if finishReason == nil { finishReason = "finish requested on another rank" }
                break
            }
        }
        let completedSteps = stepIndex
        if let preemption {
            try ddp.averageBuffers()
            if comm.rank == 0 && checkpoints.lastSavedStep != completedSteps { try savePeriodic(after: completedSteps) }
            try checkpoints.finish()
            let stopped = result(preemption: preemption)
            ddp.close()   // collective frees on the success path only (never while an error unwinds)
            return stopped
        }
        let finishedEarly = completedSteps < totalSteps ? finishReason : nil
        if let finishedEarly {
            Log.main("finishing at step \(completedSteps) of \(totalSteps): \(finishedEarly)")
            try ddp.averageBuffers()
            if comm.rank == 0 && o.checkpointDirectory != nil && checkpoints.lastSavedStep != completedSteps { try savePeriodic(after: completedSteps) }
        }
        try checkpoints.finish()
        // After an early finish right at a validation, that validation is the final one
        // (`validate` averages the BatchNorm statistics first).
        let metrics = lastValidation?.step == completedSteps ? lastValidation!.metrics : try validate(at: completedSteps)
        // The test split, once for the final weights and once for the best checkpoint, after every selection is made.
        let best = try evaluateBest(arena: arena, test: test)   // first, so outputs of `test` (confusion.json) end as the final model's
        let testMetrics = try test()
        let reported: [(name: String, value: Double)] = testMetrics.map { (name: $0.name, value: $0.value) } + (best?.logged ?? [])
        if !reported.isEmpty { for c in callbacks { try c.onLog(self, step: completedSteps, phase: .test, values: reported) } }
        let times = o.recordStepTimes ? try supervision.guarding("allreduce of the step times") { try phases.gathered(comm) } : nil
        var fit = result(preemption: nil, metrics: metrics + testMetrics, stepTimes: times)
        (fit.validationMetrics, fit.testMetrics, fit.best) = (metrics, testMetrics, best)
        fit.finishedEarly = finishedEarly
        for c in callbacks { try c.onFitEnd(self, fit) }
        ddp.close()
        return fit

        func result(preemption: String?, metrics: [Metric] = [], stepTimes: [[[Double]]]? = nil) -> FitResult {
            let losses = history.recentLosses
            let recent = losses.suffix(stepsPerEpoch).filter(\.isFinite)
            let ran = completedSteps - startStep
            let transport = comm.size == 1 ? "none" : reducer != nil ? "virtual shards" : ddp.transport
            return FitResult(steps: completedSteps, startStep: startStep, totalSteps: totalSteps, losses: losses,
                             trainLoss: recent.reduce(0, +) / Float(max(recent.count, 1)), metrics: metrics,
                             trainSeconds: trainSeconds, commSeconds: commSeconds, dataSeconds: dataSeconds,
                             samplesPerSecond: Double(ran * o.globalBatch) / max(trainSeconds, 1e-9), stepTimes: stepTimes,
                             transport: transport, preemption: preemption, finishedEarly: nil, skippedUpdates: skippedUpdates,
                             weightsSHA256: arena.sha256())
        }
    }

    /// Whether any rank's callbacks asked to finish (collective).
    private func agreeFinish() throws -> Bool {
        guard communicator.size > 1 else { return finishReason != nil }
        let flags = try supervision.guarding("allreduce of the finish request") {
            try communicator.allreduce([Int64(finishReason != nil ? 1 : 0)], op: .sum)
        }
        return flags[0] > 0
    }
}
