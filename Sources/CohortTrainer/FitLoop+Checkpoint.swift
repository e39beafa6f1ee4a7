// The checkpoint phases of the training loop: resume (the model, optimizer, loss
// history and data position from a checkpoint), periodic saves, and the saves
// callbacks request during the fit (`Trainer.saveCheckpoint`). Rank 0 writes.
import CohortCheckpoint
import CohortCore
import CohortData
import CohortNN
import CohortOptim
import CohortTensor

extension FitLoop {
    /// Resume phase: loads the checkpoint `options.resume` names, if any, into the parameters,
    /// optimizer and loss history, and moves the data loader to its position.
    func resume() throws {
        let rank0 = comm.rank == 0
        // A checkpoint past the unfreeze step was saved with every parameter in the optimizer's groups.
        let prepare = { (step: Int) throws in if self.unfreezes(atStep: step + 1) { try self.thawOptimizer() } }
        if let point = try checkpoints.resume(options.resume, arena: arena, optimizer: optimizer, model: net, recentLosses: history.recentCapacity,
                                              movesDamaged: rank0, data: { rank0 ? try dataIdentity() : nil }, beforeRestore: prepare) {
            guard point.step <= totalSteps else {
                throw ResumeError(CohortError.invalidParameter(name: "resume", "\(point.path) is at step \(point.step), past this run's \(totalSteps) steps"))
            }
            startStep = point.step
            history = point.history
            extensions = point.extensions
            try loader.seek(to: point.samplesConsumed, step: point.step)
            try resumeSchedule(point)
        }
        completed = startStep
        trainer.step = startStep
    }

    /// A stateful schedule continues from the checkpoint's state. A validation due at the checkpoint's
    /// step ran after that save in the interrupted run, so it runs again here, feeding only the schedule
    /// (no callbacks, no log): the resumed schedule then holds what the uninterrupted one held.
    func resumeSchedule(_ point: ResumePoint) throws {
        guard let stateful = schedule as? any StatefulLRSchedule else { return }
        stateful.restore(point.schedule.parameters.map { ($0.name, $0.value) })
        guard let every = options.validateEvery, point.step > 0, point.step % every == 0, point.step < totalSteps else { return }
        try ddp.averageBuffers()
        net.eval()
        defer { net.train() }
        let metrics = try withNoGrad { try module.validate(evaluation) }
        try stateful.observe(metrics.map { ($0.name, $0.value) })
    }

    /// The module's data identity, asked once.
    func dataIdentity() throws -> DataIdentity? {
        if let identity { return identity }
        let found = try module.dataIdentity
        identity = .some(found)
        return found
    }

    /// Checkpoint phase: after `step`, when one is due, the BatchNorm statistics of every rank
    /// become one model's and rank 0 saves.
    func checkpointIfDue(after step: Int) throws {
        guard checkpoints.due(afterStep: step, total: totalSteps) else { return }
        try traced(.checkpoint, argument: Int64(step)) { try saveCheckpoint(after: step) }
    }

    /// Collective: the checkpoint of the state after `completed` steps — every rank writing its
    /// part (`shardedSaves`), or gathered and written by rank 0.
    func saveCheckpoint(after completed: Int) throws {
        if shardedSaves { try saveSharded(after: completed, into: checkpoints); return }
        let state = try prepareSave()
        if comm.rank == 0 { try savePeriodic(after: completed, state: state) } else { checkpoints.markSaved(completed) }
    }

    /// Collective, before rank 0 saves: every rank's BatchNorm statistics become one model's and,
    /// under ZeRO, rank 0 receives the optimizer's whole state (nil elsewhere and without ZeRO).
    func prepareSave() throws -> [(name: String, storage: Storage)]? {
        try ddp.averageBuffers()
        return try zero.flatMap { try $0.gatherState(optimizer.stateBuffers) }
    }

    /// Rank 0: a periodic save of the state after `completed` steps (fault injection may kill it).
    func savePeriodic(after completed: Int, state: [(name: String, storage: Storage)]?) throws {
        if trainer.supervision.crashesCheckpoint(atStep: completed) { checkpoints.crashDuringNextSave = true }
        try save(after: completed, into: checkpoints, state: state)
    }

    /// Rank 0: writes the state after `completed` steps into `store` (`state`: from `prepareSave`).
    func save(after completed: Int, into store: TrainCheckpointing, metadata extra: [KeyValue] = [],
              state: [(name: String, storage: Storage)]?) throws {
        try store.save(try manifest(after: completed, for: store, metadata: extra), arena: arena, optimizer: optimizer, optimizerState: state)
    }

    /// Rank 0: the manifest of the state after `completed` steps, for `store`.
    func manifest(after completed: Int, for store: TrainCheckpointing, metadata extra: [KeyValue] = []) throws -> Manifest {
        let o = options
        var cursor = DataCursorRecord()
        cursor.shuffleSeed = o.seed
        cursor.epoch = loader.epoch
        cursor.sampleInEpoch = loader.positionInEpoch
        cursor.samplesConsumed = loader.cursor
        cursor.dataset = module.dataName
        cursor.datasetSize = loader.dataset.count
        var model = o.modelRecord ?? ModelRecord()
        if o.modelRecord == nil { model.name = String(describing: type(of: module)) }
        model.parameterCount = net.parameterCount
        var scheduleRecord = o.scheduleRecord
        scheduleRecord.step = completed
        if let stateful = schedule as? any StatefulLRSchedule { scheduleRecord.parameters += stateful.state.map { NamedValue($0.name, $0.value) } }
        return store.manifest(step: completed, epoch: loader.epoch, cursor: cursor, batchSize: o.globalBatch, model: model,
                              optimizer: optimizer, schedule: scheduleRecord, history: history,
                              rng: o.randomStates + net.namedRandomStates().map { RNGRecord(name: "module/" + $0.name, words: $0.state) },
                              metadata: o.metadata + extensions + extra, data: try dataIdentity())
    }

    /// Lets callbacks save during the fit (`Trainer.saveCheckpoint`) into a subdirectory with its own retention.
    func acceptSaveRequests() {
        trainer.saveInto = { sub, keep, extra in
            guard let dir = self.options.checkpointDirectory else { throw CohortError.invalidArgument("saving a checkpoint needs a checkpoint directory") }
            let store = TrainCheckpointing(directory: dir + "/" + sub, every: 1, keepLast: keep, keepEvery: 0, async: false,
                                           config: self.options.config, onSaved: { _ in })
            if self.shardedSaves { try self.saveSharded(after: self.trainer.step, into: store, metadata: extra); return }
            let state = try self.prepareSave()
            if self.comm.rank == 0 { try self.save(after: self.trainer.step, into: store, metadata: extra, state: state) }
        }
    }
}
