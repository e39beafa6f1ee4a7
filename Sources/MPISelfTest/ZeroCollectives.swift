// ZeRO's collectives under a real MPI world: the in-place reduce-scatter (this rank's block
// moved to its own offset when the request completes) and the in-place allgather, with uneven
// and empty blocks; and DataParallel reduce-scattering buckets into shards (stage 2), each
// rank left with the mean of its own shard.
import CohortCollectives
import CohortDistributed
import CohortMPI
import CohortNN
import CohortTensor
import Foundation

func checkZeroCollectives(_ world: MPICommunicator) throws {
    let r = world.rank, n = world.size
    // Uneven blocks, one of them empty: 5, 0, 5+1, 5+2, …
    let counts = (0..<n).map { $0 == 1 ? 0 : 5 + $0 }, total = counts.reduce(0, +)
    let start = counts[..<r].reduce(0, +)
    var values = (0..<total).map { Float(r + 1) * Float($0 + 1) }
    let request = try values.withUnsafeMutableBufferPointer { try world.reduceScatterAsync($0, counts: counts, op: .sum) }
    try request.wait(timeout: 60)
    let sum = Float(n * (n + 1) / 2)
    expect((start..<(start + counts[r])).allSatisfy { values[$0] == sum * Float($0 + 1) }, "reduce-scatter in place: block \(r) at its offset")
    var gathered = [Float](repeating: -1, count: total)
    for i in start..<(start + counts[r]) { gathered[i] = Float(i) * 3 }
    try gathered.withUnsafeMutableBufferPointer { try world.allgatherInPlace($0, counts: counts) }
    expect(gathered == (0..<total).map { Float($0) * 3 }, "allgather in place")
    do {
        var x = [Float](repeating: 0, count: 3)
        try x.withUnsafeMutableBufferPointer { try world.allgatherInPlace($0, counts: [Int](repeating: 1, count: n + 1)) }
        expect(false, "allgatherInPlace with wrong counts did not throw")
    } catch CommunicationError.invalidArgument {}

    // Stage 2: small buckets cut across the shards; each rank gets the mean of its shard only.
    var generator = RandomGenerator(seed: 11)
    let model = Linear(300, 40, generator: &generator)   // 12,040 elements: shards of whole pages
    let arena = try ParameterArena(allocating: model)
    let shards = ZeroRedundancy.partition(arena.count, ranks: n)
    let ddp = try DataParallel(model: model, arena: arena, communicator: world, bucketMegabytes: 0.01, gradientShards: shards)
    expect(ddp.transport == "reduce-scatter" && ddp.buckets.count > 1, "stage 2 transport: \(ddp.transport), \(ddp.buckets.count) buckets")
    for step in 0..<3 {
        ddp.zeroGradients()
        for i in 0..<arena.count { arena.grads.pointer[i] = Float(r + 1) * 0.5 + Float(i % 97) + Float(step) }
        try ddp.synchronize(timeout: 60)
        let mine = shards[r], mean = Float(n + 1) / 4
        let ok = mine.allSatisfy { arena.grads.pointer[$0] == mean + Float($0 % 97) + Float(step) }
        expect(ok, "stage 2 step \(step): the mean of rank \(r)'s shard \(mine)")
    }
    print("ZeRO collectives: ok on rank \(r)")
}
