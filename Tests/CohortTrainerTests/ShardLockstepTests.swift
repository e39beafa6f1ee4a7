// ShardLockstep, deterministic SyncBatchNorm's meeting point of a rank's virtual shards (one
// thread each): every exchange hands every shard all shards' values in shard order (or their
// sum); batch norm through it over shards of a batch matches one process over the whole batch
// and updates the running statistics once; a failing or diverging shard ends `run` with an
// error instead of a hang. The multi-rank bitwise claim is CLITests/SyncBNTests'.
import CohortCollectives
import CohortCore
import CohortDistributed
import CohortTensor
import Foundation
import Testing

@Suite struct ShardLockstepTests {
    @Test func everyShardSeesEveryShardsValuesInShardOrder() throws {
        let lockstep = ShardLockstep(localShards: 3, communicator: SingleProcessCommunicator())
        let seen = try lockstep.run { i -> [[Float]] in
            var out: [[Float]] = []
            for round in 0..<200 {
                out.append(try lockstep.allgather([Float(i), Float(round)]))
                var sums: [Float] = [Float(i), 1]
                try lockstep.allreduceSum(&sums)
                out.append(sums)
                out.append([lockstep.updatesRunningStatistics ? 1 : 0])
            }
            return out
        }
        for (i, rounds) in seen.enumerated() {
            for round in 0..<200 {
                #expect(rounds[3 * round] == [0, Float(round), 1, Float(round), 2, Float(round)])
                #expect(rounds[3 * round + 1] == [3, 3])
                #expect(rounds[3 * round + 2] == [i == 0 ? 1 : 0], "only local shard 0 updates running statistics")
            }
        }
        #expect(lockstep.processCount == 3)
    }

    @Test func batchNormOverShardsIsBatchNormOverTheWholeBatch() throws {
        let (N, C, H, W) = (8, 3, 2, 2)
        let x = try Tensor((0..<(N * C * H * W)).map { Float(sin(Double($0) * 0.7)) * 2 + Float($0 % 5) }, shape: [N, C, H, W])
        let seedGrad = try Tensor((0..<(N * C * H * W)).map { Float(cos(Double($0) * 1.3)) }, shape: [N, C, H, W])
        // One process over the whole batch.
        let xw = x.detached(), rmW = Tensor.zeros([C]), rvW = Tensor.ones([C])
        xw.requiresGrad = true
        let yw = try Tensor.batchNorm(xw, runningMean: rmW, runningVar: rvW, weight: nil, bias: nil, training: true)
        try (yw * seedGrad).sum().backward()
        // Four shards of two samples, in lock-step.
        let lockstep = ShardLockstep(localShards: 4, communicator: SingleProcessCommunicator())
        let rm = Tensor.zeros([C]), rv = Tensor.ones([C])
        let parts = try lockstep.run { i -> (y: [Float], dx: [Float]) in
            let xi = try x.slice(axis: 0, i * 2, i * 2 + 2).contiguous().detached()
            xi.requiresGrad = true
            let y = try Tensor.batchNorm(xi, runningMean: rm, runningVar: rv, weight: nil, bias: nil, training: true, sync: lockstep)
            try (y * seedGrad.slice(axis: 0, i * 2, i * 2 + 2).contiguous()).sum().backward()
            return (y.scalars, xi.grad!.scalars)
        }
        let y = parts.flatMap(\.y), dx = parts.flatMap(\.dx)
        for (a, b) in zip(y, yw.scalars) { #expect(abs(a - b) <= 1e-5) }
        for (a, b) in zip(dx, xw.grad!.scalars) { #expect(abs(a - b) <= 1e-5) }
        // Updated once (momentum 0.1 from 0 and 1), not four times.
        for (a, b) in zip(rm.scalars + rv.scalars, rmW.scalars + rvW.scalars) { #expect(abs(a - b) <= 1e-5) }
    }

    @Test func aFailingShardEndsTheRunWithItsError() throws {
        let lockstep = ShardLockstep(localShards: 3, communicator: SingleProcessCommunicator())
        #expect(throws: CohortError.self) {
            _ = try lockstep.run { i -> Int in
                _ = try lockstep.allgather([1])
                if i == 1 { throw CohortError.invalidArgument("shard 1 broke") }
                _ = try lockstep.allgather([2])   // shards 0 and 2 wait here: they must be released
                return i
            }
        }
        // The lock-step is usable again afterwards.
        #expect(try lockstep.run { i in try lockstep.allgather([Float(i)]) } == Array(repeating: [0, 1, 2], count: 3))
    }

    @Test func shardsThatRunDifferentCollectivesAreAnErrorNotAHang() throws {
        let lockstep = ShardLockstep(localShards: 2, communicator: SingleProcessCommunicator())
        do {
            _ = try lockstep.run { i -> Int in
                _ = try lockstep.allgather([1])
                if i == 0 { _ = try lockstep.allgather([2]) }   // shard 1 returns instead
                return i
            }
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("finished while 1 wait at a batch-norm collective"), "\(error)")
        }
        do {
            _ = try lockstep.run { i -> Int in _ = try lockstep.allgather(Array(repeating: 1, count: i + 1)); return i }
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("posted different batch-norm collectives"), "\(error)")
        }
    }

    @Test func outsideTheLockstepIsAnError() throws {
        let lockstep = ShardLockstep(localShards: 2, communicator: SingleProcessCommunicator())
        #expect(throws: CohortError.self) { _ = try lockstep.allgather([1]) }
    }
}
