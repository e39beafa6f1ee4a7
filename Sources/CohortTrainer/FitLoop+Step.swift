// The phases of one training step: its data, forward and backward over this
// rank's micro-batches (or virtual shards), the gradient reduction, the
// agreement on the global loss, the non-finite policy and the optimizer update.
// Called in this order by `FitLoop.run`.
import CohortCollectives
import CohortCore
import CohortData
import CohortDistributed
import CohortNN
import CohortOptim
import CohortTensor
import Foundation

/// A module's training samples as the `Dataset` the Trainer's `DataLoader` serves: the module
/// makes each piece (`trainingBatch`), with prefetch on the loader's background thread, where
/// it only reads shared state (the `TrainingModule` contract).
struct TrainingSamples<M: TrainingModule>: Dataset, @unchecked Sendable {
    let module: M
    let name: String
    let count: Int

    init(_ module: M) {
        self.module = module
        name = module.dataName
        count = module.trainingSamples
    }

    /// The samples `indices` outside a step (the loader always names the step).
    func batch(_ indices: [Int]) throws -> M.Batch { try module.trainingBatch(indices, step: 0) }
    func batch(_ indices: [Int], step: Int) throws -> M.Batch { try module.trainingBatch(indices, step: step) }
}

extension FitLoop {
    /// Data phase: this rank's batch of `step` (prepared ahead with prefetch) and the seconds waited for it.
    func load(_ step: Int) throws -> (batch: LoadedBatch<M.Batch>, waited: Double) {
        let d0 = monotonicSeconds()
        let event = tracing?.recorder.begin() ?? 0
        let batch = try loader.next()
        tracing?.recorder.end(.dataWait, event)
        let waited = monotonicSeconds() - d0
        if comm.rank == 0, let onBatchIndices = trainer.onBatchIndices { try onBatchIndices(step, batch.globalIndices) }
        dataSeconds += waited
        phases.add(data: waited)
        return (batch, waited)
    }

    /// Runs `body` as the timeline event `name` when tracing (one branch otherwise).
    @inline(__always)
    func traced<R>(_ name: TraceName, argument: Int64 = 0, _ body: () throws -> R) rethrows -> R {
        guard let tracing else { return try body() }
        return try tracing.recorder.span(name, argument: argument, body)
    }

    /// Applies the step's learning rate and zeroes the gradients; returns the learning rate.
    func beginUpdate() -> Float {
        schedule.apply(to: optimizer)
        let learningRate = optimizer.learningRate
        ddp.zeroGradients()
        return learningRate
    }

    /// Step phase: this rank's loss and gradients. Deterministic: one backward per virtual shard,
    /// each shard's gradient kept for the fixed-order tree. Otherwise gradient accumulation: one
    /// backward per micro-batch, DDP communicating only after the last.
    func forwardBackward(_ pieces: [M.Batch]) throws -> Float {
        var localLoss: Float = 0
        if let reducer, let lockstep {
            localLoss = try runInLockstep(lockstep, pieces, storingInto: reducer)
        } else if let reducer {
            for (i, piece) in pieces.enumerated() {
                arena.zeroGrad()
                let loss = try traced(.forward) { try module.trainingStep(piece) }
                localLoss += try loss.item() / Float(reducer.perRank)
                try traced(.backward) { try loss.backward() }
                reducer.store(local: i, from: arena.grads.pointer)
            }
        } else {
            let k = options.accumulate
            for (m, piece) in pieces.enumerated() {
                ddp.noSync = m < k - 1
                let loss = try traced(.forward) { try module.trainingStep(piece) }
                localLoss += try loss.item() / Float(k)
                let scaled = try k == 1 ? loss : loss / Float(k)
                try traced(.backward) { try scaled.backward() }
            }
        }
        return localLoss
    }

    /// Deterministic SyncBatchNorm: this rank's virtual shards, forward and backward, all at once in
    /// `lockstep` (their batch norms share statistics), one BLAS thread each. Each shard's gradients
    /// (returned, not accumulated: the threads share the arena) go to `reducer` through the gradient
    /// arena, as in the one-after-another path. Returns this rank's mean loss.
    func runInLockstep(_ lockstep: ShardLockstep, _ pieces: [M.Batch], storingInto reducer: VirtualShardReducer) throws -> Float {
        let trainable = arena.tensors.indices.filter { arena.tensors[$0].requiresGrad }
        let parameters = trainable.map { arena.tensors[$0] }
        let shards = try traced(.forward) {
            try lockstep.run { i in
                let loss = try self.module.trainingStep(pieces[i])
                return (loss: try loss.item(), grads: try Autograd.gradients(of: loss, withRespectTo: parameters))
            }
        }
        var loss: Float = 0
        for (i, shard) in shards.enumerated() {
            arena.zeroGrad()
            for (e, g) in zip(trainable, shard.grads) {
                g.withContiguousBuffer { (arena.grads.pointer + arena.entries[e].offset).update(from: $0, count: g.count) }
            }
            reducer.store(local: i, from: arena.grads.pointer)
            loss += shard.loss / Float(reducer.perRank)
        }
        return loss
    }

    /// Reduce phase, deterministic mode: the virtual shards' gradients combined by the fixed tree.
    func reduceShards() throws {
        guard let reducer else { return }
        let c0 = monotonicSeconds()
        try reducer.reduce(into: arena.grads.pointer)
        commSeconds += monotonicSeconds() - c0
        phases.add(comm: monotonicSeconds() - c0)
        if comm.size > 1 { phases.add(bytes: reducer.bytesPerShard) }
    }

    /// The global loss (mean over ranks): every rank sees the same value and decisions,
    /// including whether to stop after this step (a signal or command on any rank).
    func agree(_ localLoss: Float, step: Int) throws -> StepAgreement {
        let a0 = monotonicSeconds()
        let agreed = try traced(.lossAgreement) { try trainer.supervision.agree(loss: localLoss, finishRequested: trainer.finishReason != nil, step: step, comm: comm) }
        phases.add(comm: monotonicSeconds() - a0)
        return agreed
    }

    /// Reduce phase, DDP: waits for the bucketed allreduce that overlapped backward.
    func awaitBuckets() throws {
        guard reducer == nil else { return }
        try ddp.synchronize(timeout: options.collectiveTimeout)
        commSeconds += ddp.lastWaitSeconds
        phases.add(comm: ddp.lastWaitSeconds)
        phases.add(bytes: ddp.lastBytes)
    }

    /// NaN policy for the agreed loss: whether the update is skipped (see `decide`).
    func skipsNonFiniteLoss(_ loss: Float, step: Int) throws -> Bool {
        guard !loss.isFinite else { return false }
        return try decide(.loss(step: step, value: loss, culprit: arena.firstNonFiniteValue()))
    }

    /// What a non-finite step does: the first callback's answer (true: skip the update), else stop with an error.
    func decide(_ problem: NonFiniteProblem) throws -> Bool {
        for c in trainer.callbacks { if let action = c.onNonFinite(trainer, problem) { if action == .skip { return true }; break } }
        throw CohortError.nonFinite("\(problem). Try a smaller learning rate (now \(optimizer.learningRate)), gradient clipping (--clip-grad-norm) "
                                    + "or the NaN guard (--on-nan skip)")
    }

    /// Update phase: clipping (or the norm a callback wants), the non-finite-gradient policy, and the
    /// optimizer step unless `skip`. Returns the gradient norm before clipping, when measured.
    func update(step: Int, loss: Float, skip: inout Bool) throws -> Float? {
        let u0 = monotonicSeconds()
        var norm: Float?
        if !skip, let zero, zero.shardsGradients {   // ZeRO stage 2: each rank holds its shard of the gradients
            let (total, nonFinite, culprit) = try zero.gradientNorm()
            norm = options.clipGradNorm > 0 || wantsNorm ? total : nil
            if options.clipGradNorm > 0 && total > options.clipGradNorm && total.isFinite { zero.scaleGradients(by: options.clipGradNorm / (total + 1e-6)) }
            if nonFinite { skip = try decide(.gradient(step: step, parameter: culprit ?? "a parameter in another rank's ZeRO shard", loss: loss)) }
        } else if !skip {
            if options.clipGradNorm > 0 { norm = CohortOptim.clipGradNorm(arena, maxNorm: options.clipGradNorm) } else if wantsNorm { norm = arena.gradNorm() }
            if let bad = arena.firstNonFiniteGrad() { skip = try decide(.gradient(step: step, parameter: bad, loss: loss)) }
        }
        try checkpoints.beforeParameterUpdate()
        if skip { skippedUpdates += 1 } else {
            try traced(.optimizer) {   // with ZeRO: this rank's shard, then the allgather of every shard
                optimizer.step()
                try zero?.gatherParameters()
            }
        }
        phases.add(optimizer: monotonicSeconds() - u0)
        return norm
    }
}
