// SyncBatchNorm's link to the other processes of a data-parallel job: batch norm's
// per-channel statistics gathered and combined over every process's part of the global
// batch (Chan's parallel formula, in process order). The tensor layer knows no
// communicator; the Trainer hands each BatchNorm layer an implementation (CohortDistributed).
import CohortCore

/// The two collectives a synchronised batch norm needs, over the processes that share a
/// global batch. Every process must call them in the same order with the same counts.
public protocol BatchStatisticsSync: AnyObject {
    /// How many processes take part (1: the statistics are this process's own).
    var processCount: Int { get }
    /// Every process's `values` (the same count on each), concatenated in process order:
    /// `processCount × values.count` elements.
    /// - Throws: the transport's error (a failed or timed-out collective).
    func allgather(_ values: [Float]) throws -> [Float]
    /// The element-wise sum of every process's `values`, in place.
    /// - Throws: the transport's error (a failed or timed-out collective).
    func allreduceSum(_ values: inout [Float]) throws
    /// Whether this caller updates the running statistics. Several callers that share one
    /// layer (deterministic mode's virtual shards, each on its own thread) compute the same
    /// global statistics, and one of them updates the layer's buffers.
    var updatesRunningStatistics: Bool { get }
}

extension BatchStatisticsSync {
    /// One process per layer: it always updates its running statistics.
    public var updatesRunningStatistics: Bool { true }
}

/// Batch norm's per-channel statistics of several processes combined into those of their union.
enum SyncedBatchStatistics {
    /// A count split into two floats, each exact (counts up to 2^44).
    static func encode(_ count: Int) -> [Float] { [Float(count >> 20), Float(count & 0xFFFFF)] }
    static func decode(_ hi: Float, _ lo: Float) -> Int { Int(hi) << 20 + Int(lo) }

    /// Replaces this process's per-channel `mean` and `m2` (sum of squared deviations from
    /// the mean, over `count` values per channel) with those of every process's values
    /// together, and returns the global count. Chan's formula in process order, in Double:
    /// every process computes the same bits. One process's own statistics pass unchanged.
    static func combine(_ sync: any BatchStatisticsSync, channels C: Int, count: Int,
                        mean: UnsafeMutablePointer<Float>, m2: UnsafeMutablePointer<Float>) throws -> Int {
        var mine = encode(count)
        mine.reserveCapacity(2 + 2 * C)
        for c in 0..<C { mine.append(mean[c]) }
        for c in 0..<C { mine.append(m2[c]) }
        let all = try sync.allgather(mine)
        let stride = mine.count, processes = all.count / stride
        guard processes >= 1, all.count == processes * stride else {
            throw CohortError.invalidArgument("batchNorm: the statistics sync returned \(all.count) values, not a multiple of \(stride)")
        }
        var total = decode(all[0], all[1])
        var means = (0..<C).map { Double(all[2 + $0]) }, m2s = (0..<C).map { Double(all[2 + C + $0]) }
        for p in 1..<max(processes, 1) {
            let base = p * stride, n = decode(all[base], all[base + 1])
            guard n > 0 else { continue }
            let na = Double(total), nb = Double(n), sum = na + nb
            for c in 0..<C {
                let delta = Double(all[base + 2 + c]) - means[c]
                means[c] += delta * nb / sum
                m2s[c] += Double(all[base + 2 + C + c]) + delta * delta * na * nb / sum
            }
            total += n
        }
        for c in 0..<C { mean[c] = Float(means[c]); m2[c] = Float(m2s[c]) }
        return total
    }
}
