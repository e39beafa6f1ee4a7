// The best checkpoint's test score at the end of `Trainer.fit`: the weights `BestCheckpoint`
// kept (selected on a validation metric) are loaded, tested once, and the final weights put
// back, so a run reports the test split for both the last and the best model without the
// test split ever taking part in a decision.
import CohortCheckpoint
import CohortCore
import CohortDistributed
import CohortNN

extension Trainer {
    /// With a `BestCheckpoint` callback and a checkpoint directory: the test metrics of the newest
    /// valid checkpoint in `<dir>/best` (`test` runs with its weights; the arena is restored after).
    /// Collective: every rank reads the checkpoint, as a resume does (waiting under `collectiveGuard`).
    func evaluateBest(arena: ParameterArena, collectiveGuard: CollectiveGuard, test: () throws -> [Metric]) throws -> BestEvaluation? {
        guard let keeper = callbacks.lazy.compactMap({ $0 as? BestCheckpoint }).first, let dir = options.checkpointDirectory else { return nil }
        if communicator.size > 1 {   // rank 0 may have written it in the final validation
            try collectiveGuard("barrier before reading the best checkpoint") { try communicator.barrier() }
        }
        guard let step = keeper.bestStep else { return nil }
        let path = dir + "/" + BestCheckpoint.directoryName
        guard let checkpoint = CheckpointStore(directory: path).latestValid(), checkpoint.manifest.step == step else {
            if isRankZero { Log.warning("the best checkpoint of step \(step) is not the newest valid one in \(path); its test metrics are not reported") }
            return nil
        }
        let values = Array(UnsafeBufferPointer(start: arena.values.pointer, count: arena.values.count))
        let buffers = Array(UnsafeBufferPointer(start: arena.buffers.pointer, count: arena.buffers.count))
        defer {
            arena.values.pointer.update(from: values, count: values.count)
            arena.buffers.pointer.update(from: buffers, count: buffers.count)
        }
        try TrainingCheckpoint.restore(checkpoint, arena: arena, optimizer: nil)
        let metrics = try test().map { Metric(name: "best_" + $0.name, value: $0.value, text: "best " + $0.text) }
        let saved = checkpoint.manifest.metadata.first { $0.key == BestCheckpoint.valueKey }.flatMap { Double($0.value) }
        return BestEvaluation(step: checkpoint.manifest.step, monitor: keeper.monitor, value: saved ?? keeper.best ?? .nan, testMetrics: metrics)
    }
}

extension BestEvaluation {
    /// The scalars logged for it: `best_step`, `best_<monitor>` and the `best_test_*` metrics.
    public var logged: [(name: String, value: Double)] {
        [("best_step", Double(step)), ("best_" + monitor, value)] + testMetrics.map { ($0.name, $0.value) }
    }
}
