// ZeRO (Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion Parameter
// Models", 2020) stages 1 and 2 over the flat parameter arena. The arena is cut into one
// contiguous, page-aligned shard per rank. Stage 1: each rank's optimizer keeps state for and
// updates only its shard, and an in-place allgather after the step gives every rank the new
// parameters. Stage 2 also shards the gradients: DataParallel reduce-scatters each bucket
// instead of allreducing it (this rank keeps the mean of its own shard) and hands the pages of
// the other ranks' parts back to the OS as soon as the bucket is reduced, so they cost no
// memory until backward writes them again. Updates are element-wise, so the partition changes
// no result: with the same gradients every rank computes the same bits as plain DDP.
import CohortCollectives
import CohortCore
import CohortKernels
import CohortNN
import CohortTensor
import Foundation

/// The ZeRO stage and this rank's part of the parameter arena.
public final class ZeroRedundancy {
    /// 1: optimizer state sharded; 2: gradients too.
    public let stage: Int
    public let communicator: any Communicator
    public let arena: ParameterArena
    /// Every rank's shard of the arena, in rank order (contiguous, covering it).
    public let shards: [Range<Int>]
    /// This rank's shard.
    public var shard: Range<Int> { shards[communicator.rank] }
    /// Whether gradients are sharded (stage 2 with DataParallel's reduce-scatter; deterministic
    /// mode's fixed tree gives every rank every gradient, so there stage 2 acts as stage 1).
    public let shardsGradients: Bool
    private let collectiveGuard: CollectiveGuard

    /// The shards of `arena` over `communicator`'s ranks; the caller restricts its optimizer to
    /// `shard` (`Optimizer.shard`). `shardsGradients`: whether DataParallel reduce-scatters.
    /// - Throws: `CohortError.invalidParameter(name: "zero")` for a stage other than 1 or 2.
    public init(stage: Int, arena: ParameterArena, communicator: any Communicator,
                shardsGradients: Bool, collectiveGuard: CollectiveGuard) throws {
        guard stage == 1 || stage == 2 else {
            throw CohortError.invalidParameter(name: "zero", "stage \(stage): ZeRO stages are 1 (optimizer state) and 2 (optimizer state and gradients)")
        }
        self.stage = stage
        self.communicator = communicator
        self.arena = arena
        self.shardsGradients = stage == 2 && shardsGradients
        self.collectiveGuard = collectiveGuard
        shards = ZeroRedundancy.partition(arena.count, ranks: communicator.size)
    }

    /// `count` elements cut into `ranks` contiguous shards of nearly equal size, each boundary on a
    /// page (1024 floats), so a shard's gradient pages belong to it alone.
    public static func partition(_ count: Int, ranks: Int, alignment: Int = 1024) -> [Range<Int>] {
        let pages = (count + alignment - 1) / alignment
        return (0..<ranks).map { r in
            let lo = min(pages * r / ranks * alignment, count), hi = min(pages * (r + 1) / ranks * alignment, count)
            return lo..<hi
        }
    }

    /// After the optimizer step: every rank's updated shard reaches every rank (in place).
    public func gatherParameters() throws {
        guard communicator.size > 1 else { return }
        let all = UnsafeMutableBufferPointer(start: arena.values.pointer, count: arena.count)
        try collectiveGuard("allgather of the ZeRO parameter shards", slack: 2) {
            try communicator.allgatherInPlace(all, counts: shards.map(\.count))
        }
    }

    /// The optimizer's whole state for a checkpoint, on rank 0 (nil on the others), from each rank's
    /// shard of every buffer (`Optimizer.stateBuffers` of a sharded optimizer). Collective.
    public func gatherState(_ buffers: [(name: String, storage: Storage)]) throws -> [(name: String, storage: Storage)]? {
        let rank = communicator.rank, tag = 7_301
        var whole: [(name: String, storage: Storage)] = []
        for (name, storage) in buffers {
            if rank != 0 {
                try collectiveGuard("sending this rank's ZeRO optimizer state (\(name)) to rank 0", peers: "rank 0", slack: 2) {
                    try communicator.send(UnsafeBufferPointer(start: storage.pointer, count: storage.count), to: 0, tag: tag)
                }
                continue
            }
            let all = try Storage(zeros: arena.count, for: "the gathered optimizer state \(name)")
            (all.pointer + shards[0].lowerBound).update(from: storage.pointer, count: storage.count)
            for r in 1..<communicator.size where !shards[r].isEmpty {
                try collectiveGuard("receiving rank \(r)'s ZeRO optimizer state (\(name))", peers: "rank \(r)", slack: 2) {
                    try communicator.receive(into: UnsafeMutableBufferPointer(start: all.pointer + shards[r].lowerBound, count: shards[r].count), from: r, tag: tag)
                }
            }
            whole.append((name, all))
        }
        return rank == 0 ? whole : nil
    }

    /// Stage 2: the global L2 norm of the gradients (each rank's shard, summed across ranks) and
    /// whether some rank's shard holds a NaN or infinity, with this rank's first such parameter.
    public func gradientNorm() throws -> (norm: Float, nonFinite: Bool, culprit: String?) {
        let g = arena.grads.pointer + shard.lowerBound
        let local = Double(Reduce.sumSquares(shard.count, g))
        let culprit = arena.firstNonFiniteGrad(in: shard)
        var sums = [local.isFinite ? local : 0, (culprit != nil || !local.isFinite) ? 1 : 0]
        try collectiveGuard("allreduce of the ZeRO gradient norm", slack: 2) {
            try sums.withUnsafeMutableBufferPointer { try communicator.allreduce($0, op: .sum) }
        }
        return (Float(sums[0].squareRoot()), sums[1] > 0, culprit)
    }

    /// Stage 2: scales this rank's shard of the gradients (the others' parts are not here).
    public func scaleGradients(by factor: Float) {
        Elementwise.scale(shard.count, alpha: factor, arena.grads.pointer + shard.lowerBound)
    }
}
