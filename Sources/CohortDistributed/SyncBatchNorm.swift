// SyncBatchNorm (`cohort train --sync-bn`): the BatchNorm layers of a data-parallel model
// normalise with the statistics of the global batch. Each layer gathers every rank's
// per-channel (count, mean, squared deviations) in forward and sums two per-channel
// gradient sums in backward, on a communicator of its own (a split of the training group),
// so these blocking collectives never interleave with DDP's bucket allreduces in flight.
import CohortCollectives
import CohortNN
import CohortTensor

/// A `BatchStatisticsSync` over a communicator's ranks: blocking allgather and allreduce
/// of float32 arrays, each wait under the collective guard's deadline.
public final class CommunicatorStatisticsSync: BatchStatisticsSync {
    /// The ranks that share the batch (rank order is the order statistics are combined in).
    public let communicator: any Communicator
    let collectiveGuard: CollectiveGuard

    /// Synchronises over `communicator`'s ranks; every wait runs under `collectiveGuard`.
    public init(communicator: any Communicator, collectiveGuard: CollectiveGuard = .unguarded) {
        self.communicator = communicator
        self.collectiveGuard = collectiveGuard
    }

    public var processCount: Int { communicator.size }

    public func allgather(_ values: [Float]) throws -> [Float] {
        var all = [Float](repeating: 0, count: values.count * communicator.size)
        try values.withUnsafeBufferPointer { send in
            try all.withUnsafeMutableBufferPointer { receive in
                try collectiveGuard("batch-norm statistics allgather") { try communicator.allgather(send, into: receive) }
            }
        }
        return all
    }

    public func allreduceSum(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { buffer in
            try collectiveGuard("batch-norm gradient sums allreduce") { try communicator.allreduce(buffer, op: .sum) }
        }
    }
}

/// Installs and removes SyncBatchNorm on a model's BatchNorm layers.
public enum SyncBatchNorm {
    /// Every `BatchNormBase` layer (`BatchNorm1d`, `BatchNorm2d`) of `model`, depth-first in
    /// declaration order, each once.
    public static func layers(of model: any Module) -> [BatchNormBase] {
        var out: [BatchNormBase] = [], seen = Set<ObjectIdentifier>()
        func visit(_ m: any Module) {
            if let bn = m as? BatchNormBase, seen.insert(ObjectIdentifier(bn)).inserted { out.append(bn) }
            for (_, child) in m.children { visit(child) }
        }
        visit(model)
        return out
    }

    /// Makes every BatchNorm layer of `model` normalise with statistics over all of
    /// `communicator`'s ranks, on a communicator split off it (collective: every rank calls it
    /// at the same point). With one rank nothing changes. Returns the number of layers.
    /// - Throws: the split's `CommunicationError`.
    @discardableResult
    public static func install(on model: any Module, communicator: any Communicator,
                               collectiveGuard: CollectiveGuard = .unguarded) throws -> Int {
        let found = layers(of: model)
        guard communicator.size > 1, !found.isEmpty else { return found.count }
        let sync = CommunicatorStatisticsSync(communicator: try communicator.split(color: 0, key: communicator.rank),
                                              collectiveGuard: collectiveGuard)
        for bn in found { bn.statisticsSync = sync }
        return found.count
    }

    /// Deterministic mode: makes every BatchNorm layer of `model` normalise with the statistics of
    /// all K virtual shards (`localShards` per rank of `communicator`), combined in shard order, on a
    /// communicator split off it (collective). Even one rank synchronises: its shards share the batch.
    /// The returned lock-step must run the rank's shards (`ShardLockstep.run`).
    /// - Throws: the split's `CommunicationError`.
    public static func installLockstep(on model: any Module, localShards: Int, communicator: any Communicator,
                                       collectiveGuard: CollectiveGuard = .unguarded) throws -> ShardLockstep {
        let split = communicator.size > 1 ? try communicator.split(color: 0, key: communicator.rank) : communicator
        let lockstep = ShardLockstep(localShards: localShards, communicator: split, collectiveGuard: collectiveGuard)
        for bn in layers(of: model) { bn.statisticsSync = lockstep }
        return lockstep
    }

    /// Returns `model`'s BatchNorm layers to per-process statistics.
    public static func remove(from model: any Module) {
        for bn in layers(of: model) { bn.statisticsSync = nil }
    }
}
