// The hierarchical allreduce under a real MPI world: the same random data summed by
// the hierarchical and the flat allreduce (blocking, non-blocking, the mean) agree
// within 1e-6 on every rank; integer sums and maxima are exact; `auto` picks by
// topology and size. Nodes come from MPI, or from COHORT_NODE_SIZE (groups of that
// many consecutive ranks), which also reaches the leader path when nodes are uneven.
import CohortCollectives
import CohortCore
import CohortMPI
import Foundation

func checkHierarchical(_ world: MPICommunicator) throws {
    let r = world.rank, n = world.size
    let forced = try HierarchicalCommunicator.nodeSizeOverride()
    let h = try HierarchicalCommunicator(world, algorithm: .hierarchical, ranksPerNode: forced)
    if let k = forced {
        expect(h.nodes == (n + k - 1) / k && h.localRank == r % k, "COHORT_NODE_SIZE=\(k): \(h.nodes) nodes, local rank \(h.localRank)")
        expect(h.uniform == (n % k == 0 || n < k), "COHORT_NODE_SIZE=\(k): uniform \(h.uniform)")
    } else {
        expect(h.localSize == world.localSize && h.localRank == world.localRank, "nodes from MPI_Comm_split_type")
    }
    func worst(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { max($0, Swift.abs($1.0 - $1.1)) } }
    for count in [1, 3, 1000, (1 << 20) + 3] {
        var rng = SplitMix64(seed: UInt64(r * 7919 + count))
        let data = (0..<count).map { _ in Float(rng.nextDouble() * 2 - 1) }
        var hier = data, flat = data, async = data
        try hier.withUnsafeMutableBufferPointer { try h.allreduce($0, op: .sum) }
        try flat.withUnsafeMutableBufferPointer { try world.allreduce($0, op: .sum) }
        let request = try async.withUnsafeMutableBufferPointer { try h.allreduceAsync($0, op: .sum) }
        while try !request.test() {}
        expect(worst(hier, flat) <= 1e-6, "hierarchical vs flat sum of \(count): differ by \(worst(hier, flat))")
        expect(worst(async, flat) <= 1e-6, "non-blocking hierarchical vs flat sum of \(count): differ by \(worst(async, flat))")
        // Every rank holds the same bits (the gather copies one reduced block to all).
        let bits = hier.reduce(UInt64(0)) { SplitMix64.mix($0 ^ UInt64($1.bitPattern)) }
        let low = Int64(bitPattern: bits & 0xffff_ffff), high = Int64(bitPattern: bits >> 32)
        expect(try world.allreduce([low, high], op: .max) == [low, high], "ranks disagree on the hierarchical sum of \(count)")
    }
    var mean = [Float](repeating: Float(r), count: 1 << 18)
    let m = try mean.withUnsafeMutableBufferPointer { try h.allreduceMeanAsync($0) }
    try m.wait(timeout: 60)
    expect(mean.allSatisfy { Swift.abs($0 - Float(n - 1) / 2) < 1e-6 }, "hierarchical allreduceMeanAsync")
    expect(try h.allreduce((0..<9).map { Int32(r * 100 + $0) }, op: .sum) == (0..<9).map { Int32(100 * n * (n - 1) / 2 + n * $0) },
           "hierarchical Int32 sum")
    expect(try h.allreduce([Double(r), -Double(r)], op: .max) == [Double(n - 1), 0], "hierarchical Double max")
    expect(try h.allreduce([Int64(r)], op: .min) == [0], "hierarchical Int64 min")
    // auto: small messages stay flat; large ones go hierarchical only on several nodes with several ranks on one.
    let auto = try HierarchicalCommunicator(world, algorithm: .auto, thresholdBytes: 4096, ranksPerNode: forced)
    expect(!auto.isHierarchical(count: 10, bytes: 40), "auto: 40 bytes went hierarchical")
    expect(auto.isHierarchical(count: 1 << 20, bytes: 4 << 20) == (auto.nodes > 1 && auto.maxRanksPerNode > 1), "auto: 4 MiB choice")
    // One node (real) keeps DDP's shared-memory window; a forced split into several nodes does not.
    let window = try h.allocateNodeSharedWindow(bytesPerRank: 64)
    expect((window != nil) == (h.nodes == 1 && world.localSize == n), "node-shared window with \(h.nodes) nodes")
    window?.free()
    print("hierarchical allreduce: ok on rank \(r) (\(h.nodes) nodes, up to \(h.maxRanksPerNode) ranks each\(h.uniform ? "" : ", uneven"))")
}
