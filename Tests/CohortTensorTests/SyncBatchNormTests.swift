// batchNorm with a BatchStatisticsSync (SyncBatchNorm) in one process: with one process it is
// bit for bit the plain op; through a sync mirroring K identical processes it has correct
// finite-difference gradients; and one process's part of a batch split with a fixed peer gives
// the values, input gradients and running statistics of one process over the whole batch.
import CohortCore
@testable import CohortTensor
import CohortTestSupport
import Testing

/// One process: the statistics pass through unchanged.
private final class SoloSync: BatchStatisticsSync {
    var calls = 0
    var processCount: Int { 1 }
    func allgather(_ values: [Float]) throws -> [Float] { calls += 1; return values }
    func allreduceSum(_ values: inout [Float]) throws { calls += 1 }
}

/// `copies` processes holding the same batch.
private final class MirrorSync: BatchStatisticsSync {
    let copies: Int
    init(copies: Int) { self.copies = copies }
    var processCount: Int { copies }
    func allgather(_ values: [Float]) throws -> [Float] { Array([[Float]](repeating: values, count: copies).joined()) }
    func allreduceSum(_ values: inout [Float]) throws { for i in values.indices { values[i] *= Float(copies) } }
}

/// Process `rank` of two whose peer's forward statistics and backward sums are given.
private final class FixedPeerSync: BatchStatisticsSync {
    let rank: Int, peerStatistics: [Float], peerSums: [Float]
    init(rank: Int, peerStatistics: [Float], peerSums: [Float]) { (self.rank, self.peerStatistics, self.peerSums) = (rank, peerStatistics, peerSums) }
    var processCount: Int { 2 }
    func allgather(_ values: [Float]) throws -> [Float] { rank == 0 ? values + peerStatistics : peerStatistics + values }
    func allreduceSum(_ values: inout [Float]) throws { for i in values.indices { values[i] += peerSums[i] } }
}

@Suite struct SyncBatchNormTests {
    @Test(arguments: [[6, 3], [3, 2, 5], [2, 3, 3, 4]])
    func oneProcessIsThePlainOpBitForBit(_ shape: [Int]) throws {
        let C = shape[1]
        func run(_ sync: (any BatchStatisticsSync)?) throws -> [[Float]] {
            let x = Fixtures.uniform(shape, -2, 2, seed: 11), w = Fixtures.uniform([C], 0.5, 1.5, seed: 12), b = Fixtures.uniform([C], seed: 13)
            let rm = Tensor.zeros([C]), rv = Tensor.ones([C])
            let y = try Tensor.batchNorm(x, runningMean: rm, runningVar: rv, weight: w, bias: b, training: true, sync: sync)
            try (y * Fixtures.uniform(shape, seed: 14, requiresGrad: false)).sum().backward()
            return [y.scalars, x.grad!.scalars, w.grad!.scalars, b.grad!.scalars, rm.scalars, rv.scalars]
        }
        let solo = SoloSync()
        #expect(try run(solo) == run(nil))
        #expect(solo.calls == 2, "one gather in forward, one sum in backward")
    }

    @Test(arguments: [[6, 3], [2, 3, 3, 4]])
    func gradientsThroughAMirroredSync(_ shape: [Int]) throws {
        let C = shape[1]
        let x = Fixtures.uniform(shape, -2, 2, seed: 21), w = Fixtures.uniform([C], 0.5, 1.5, seed: 22), b = Fixtures.uniform([C], seed: 23)
        let sync = MirrorSync(copies: 3)
        // Three copies of a batch have its mean and biased variance: the same values as the plain op.
        let plain = try Tensor.batchNorm(x, runningMean: nil, runningVar: nil, weight: w, bias: b, training: true)
        let synced = try Tensor.batchNorm(x, runningMean: nil, runningVar: nil, weight: w, bias: b, training: true, sync: sync)
        assertClose(synced, plain.scalars, atol: 1e-5)
        try expectGradients([x, w, b], "shape \(shape)") {
            try Tensor.batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true, sync: sync)
        }
        // The running variance is unbiased over the global count 3·M.
        let rm = Tensor.zeros([C]), rv = Tensor.zeros([C]), M = x.count / C
        _ = try Tensor.batchNorm(x.detached(), runningMean: rm, runningVar: rv, weight: nil, bias: nil, training: true, momentum: 1, sync: sync)
        let ref = Tensor.zeros([C]), refVar = Tensor.zeros([C])
        _ = try Tensor.batchNorm(x.detached(), runningMean: ref, runningVar: refVar, weight: nil, bias: nil, training: true, momentum: 1)
        let factor = Float(M - 1) * 3 / Float(3 * M - 1)
        assertClose(rv.scalars, refVar.scalars.map { $0 * factor }, atol: 1e-5)
        assertClose(rm.scalars, ref.scalars, atol: 1e-6)
    }

    /// Rows `range` of `x` (`[N, C, S…]`) as a new tensor.
    func rows(_ x: Tensor, _ range: Range<Int>) throws -> Tensor {
        let per = x.count / x.shape[0]
        return try Tensor(Array(x.scalars[range.lowerBound * per..<range.upperBound * per]), shape: [range.count] + x.shape.dropFirst(), requiresGrad: true)
    }

    @Test func splitBatchMatchesOneProcessOverTheWholeBatch() throws {
        let (N, C, S) = (5, 3, 4), shape = [5, 3, 2, 2]
        let x = Fixtures.uniform(shape, -2, 3, seed: 31), w = Fixtures.uniform([C], 0.5, 1.5, seed: 32), b = Fixtures.uniform([C], seed: 33)
        let proj = Fixtures.uniform(shape, seed: 34, requiresGrad: false)
        let rm = Tensor.zeros([C]), rv = Tensor.ones([C])
        let y = try Tensor.batchNorm(x, runningMean: rm, runningVar: rv, weight: w, bias: b, training: true)
        try (y * proj).sum().backward()
        let xs = x.scalars.map(Double.init), ps = proj.scalars.map(Double.init)
        func channel(_ r: Range<Int>, _ c: Int) -> [Int] { r.flatMap { n in (0..<S).map { (n * C + c) * S + $0 } } }
        let globalMean = (0..<C).map { c in channel(0..<N, c).map { xs[$0] }.reduce(0, +) / Double(N * S) }
        for (rank, mine, peer) in [(0, 0..<2, 2..<5), (1, 2..<5, 0..<2)] {
            // The peer's (count, mean, squared deviations) and backward sums (Σdy, Σdy·(x - global mean)).
            let means = (0..<C).map { c in channel(peer, c).map { xs[$0] }.reduce(0, +) / Double(peer.count * S) }
            let m2 = (0..<C).map { c in channel(peer, c).map { (xs[$0] - means[c]) * (xs[$0] - means[c]) }.reduce(0, +) }
            let sumDy = (0..<C).map { c in channel(peer, c).map { ps[$0] }.reduce(0, +) }
            let sumDyXmu = (0..<C).map { c in channel(peer, c).map { ps[$0] * (xs[$0] - globalMean[c]) }.reduce(0, +) }
            let sync = FixedPeerSync(rank: rank, peerStatistics: SyncedBatchStatistics.encode(peer.count * S) + (means + m2).map(Float.init),
                                     peerSums: (sumDy + sumDyXmu).map(Float.init))
            let xr = try rows(x, mine), pr = try rows(proj, mine).detached()
            let wr = w.detached(), br = b.detached()
            wr.requiresGrad = true; br.requiresGrad = true
            let rmr = Tensor.zeros([C]), rvr = Tensor.ones([C])
            let yr = try Tensor.batchNorm(xr, runningMean: rmr, runningVar: rvr, weight: wr, bias: br, training: true, sync: sync)
            try (yr * pr).sum().backward()
            assertClose(yr, try rows(y, mine).scalars, atol: 1e-5, "rank \(rank) values")
            assertClose(xr.grad!, try rows(x.grad!, mine).scalars, atol: 1e-5, "rank \(rank) input gradient")
            assertClose(rmr, rm.scalars, atol: 1e-6, "rank \(rank) running mean")
            assertClose(rvr, rv.scalars, atol: 1e-5, "rank \(rank) running variance")
            // The bias gradient is this process's own sum (data parallelism averages it).
            assertClose(br.grad!, (0..<C).map { c in Float(channel(mine, c).map { ps[$0] }.reduce(0, +)) }, atol: 1e-5, "rank \(rank) bias gradient")
        }
    }

    @Test func oneValuePerProcessIsEnoughWhenTheGlobalBatchHasMore() throws {
        let x = Fixtures.uniform([1, 2], seed: 41, requiresGrad: false)
        #expect(throws: CohortError.self) { try Tensor.batchNorm(x, runningMean: nil, runningVar: nil, weight: nil, bias: nil, training: true) }
        let y = try Tensor.batchNorm(x, runningMean: nil, runningVar: nil, weight: nil, bias: nil, training: true, sync: MirrorSync(copies: 2))
        #expect(y.scalars.allSatisfy { $0 == 0 }, "two equal values normalise to 0: \(y.scalars)")
        #expect(throws: CohortError.self) {
            try Tensor.batchNorm(x, runningMean: nil, runningVar: nil, weight: nil, bias: nil, training: true, sync: SoloSync())
        }
    }
}
