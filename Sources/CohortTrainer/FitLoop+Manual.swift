// The manual-optimization phases of the training loop (`ManualTrainingModule`):
// the sets' schedules before a step, and one `ManualStep.optimize` — backward over
// this rank's pieces, the set's gradient reduction, clipping, the NaN policy and
// the set's optimizer step.
import CohortCollectives
import CohortCore
import CohortDistributed
import CohortNN
import CohortOptim
import CohortTensor

/// A manual fit's optimizer sets and their gradient reductions.
struct ManualState {
    let sets: OptimizerSets
    /// Deterministic mode: one fixed-order reducer per set, over the set's ranges (empty: DDP averaging).
    let reducers: [String: VirtualShardReducer]

    /// The sets `hooks` configures, checked against the run's options.
    /// - Throws: `CohortError.invalidParameter` for overlapping sets, frozen parameters or a stateful schedule.
    init<B>(_ hooks: ManualHooks<B>, arena: ParameterArena, totalSteps: Int, options o: TrainerOptions, frozen: [Bool],
         communicator: any Communicator, watchdog: CollectiveWatchdog?) throws {
        guard !frozen.contains(true) else {
            throw CohortError.invalidParameter(name: "freeze", "cannot freeze parameters of a model trained with optimizer sets: leave them out of every set instead")
        }
        let sets = try OptimizerSets(try hooks.sets(arena, totalSteps))
        for s in sets.sets where s.schedule is any StatefulLRSchedule {
            throw CohortError.invalidParameter(name: "optimizerSets", "set \(s.name): a schedule that follows validation (plateau) is not supported in optimizer sets")
        }
        var reducers: [String: VirtualShardReducer] = [:]
        if let shards = o.virtualShards {
            for s in sets.sets {
                let r = try VirtualShardReducer(shards: shards, communicator: communicator, elements: arena.count, ranges: s.ranges)
                r.watchdog = watchdog
                reducers[s.name] = r
            }
        }
        self.sets = sets
        self.reducers = reducers
    }
}

extension FitLoop {
    /// Manual optimization's update phase before a step: each set's schedule sets its rate. Returns the first set's.
    func beginManualUpdate(_ m: ManualState) -> Float {
        for s in m.sets.sets { s.schedule.apply(to: s.optimizer) }
        arena.zeroGrad()
        return m.sets.learningRate
    }

    /// Runs the module's manual step on this rank's pieces; returns its loss.
    func manualStep(_ pieces: [M.Batch], step: Int, hooks: ManualHooks<M.Batch>, state: ManualState) throws -> Float {
        try hooks.step(ManualStep(step: step, pieces: pieces) { name, loss in
            try self.optimize(name, pieces, loss, step: step, state: state)
        })
    }

    /// One `ManualStep.optimize`: see its documentation.
    func optimize(_ name: String, _ pieces: [M.Batch], _ loss: (M.Batch) throws -> Tensor, step: Int, state: ManualState) throws -> Float {
        let set = try state.sets.set(name)
        var local: Float = 0
        if let reducer = state.reducers[name] {
            for (i, piece) in pieces.enumerated() {
                arena.zeroGrad()
                let l = try loss(piece)
                local += try l.item() / Float(pieces.count)
                try l.backward()
                reducer.store(local: i, from: arena.grads.pointer)
            }
            let c0 = monotonicSeconds()
            try reducer.reduce(into: arena.grads.pointer)
            commSeconds += monotonicSeconds() - c0
            phases.add(comm: monotonicSeconds() - c0)
            if comm.size > 1 { phases.add(bytes: reducer.bytesPerShard) }
        } else {
            arena.zeroGrad()
            let k = pieces.count
            for piece in pieces {
                let l = try loss(piece)
                local += try l.item() / Float(k)
                try (k == 1 ? l : l / Float(k)).backward()
            }
            if comm.size > 1 {
                let c0 = monotonicSeconds()
                for r in set.ranges {
                    try collectiveGuard("allreduce of the \(name) gradients") {
                        try comm.allreduceMean(UnsafeMutableBufferPointer(start: arena.grads.pointer + r.lowerBound, count: r.count))
                    }
                }
                commSeconds += monotonicSeconds() - c0
                phases.add(comm: monotonicSeconds() - c0)
                phases.add(bytes: set.ranges.reduce(0) { $0 + $1.count * 4 })
            }
        }
        let u0 = monotonicSeconds()
        if options.clipGradNorm > 0 { _ = set.clipGradNorm(maxNorm: options.clipGradNorm) }
        var skip = false
        if let bad = set.firstNonFiniteGrad() { skip = try decide(.gradient(step: step, parameter: bad, loss: local)) }
        try checkpoints.beforeParameterUpdate()
        if skip { skippedUpdates += 1 } else { set.optimizer.step() }
        phases.add(optimizer: monotonicSeconds() - u0)
        return local
    }
}
