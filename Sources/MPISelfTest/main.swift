// Exercises every operation of the MPI wrapper with values each rank can check
// on its own; run it alone (singleton) or under mpirun. Prints
// "MPI SELFTEST OK rank r/N" on success, exits non-zero on the first failure.
// Also exercises DDP's shared-memory averager (CohortDistributed) on MPI's
// node-shared window, which only a multi-process run can.
import CohortCollectives
import CohortDistributed
import CohortMPI
import Foundation

func fail(_ message: String, _ rank: Int) -> Never {
    FileHandle.standardError.write(Data("MPI SELFTEST FAILED rank \(rank): \(message)\n".utf8))
    exit(1)
}

let world: MPICommunicator
do { world = try MPIRuntime.initialize() } catch { fail("\(error)", -1) }
let r = world.rank, n = world.size

func expect(_ ok: Bool, _ what: String) { if !ok { fail(what, r) } }

do {
    expect(n >= 1 && r < n, "rank \(r) size \(n)")
    expect(!world.processorName.isEmpty, "processor name")
    expect(world.localSize >= 1 && world.localRank < world.localSize, "local rank/size")
    try world.barrier()

    // broadcast from the last rank
    var b = [Float](repeating: Float(r), count: 1000)
    try b.withUnsafeMutableBufferPointer { try world.broadcast($0, root: n - 1) }
    expect(b.allSatisfy { $0 == Float(n - 1) }, "broadcast")

    // allreduce, every type and operation (and the mean on top): rank r contributes r + 1 + i
    let tri = Double(n * (n + 1) / 2)
    var f = (0..<37).map { Float(r + 1 + $0) }
    try f.withUnsafeMutableBufferPointer { try world.allreduce($0, op: .sum) }
    expect(f.enumerated().allSatisfy { $0.element == Float(tri) + Float(n * $0.offset) }, "allreduce sum Float")
    var d = [Double](repeating: Double(r + 1), count: 5)
    try d.withUnsafeMutableBufferPointer { try world.allreduceMean($0) }
    expect(d.allSatisfy { Swift.abs($0 - tri / Double(n)) < 1e-12 }, "allreduceMean Double")
    expect(try world.allreduce([Int32(r)], op: .max) == [Int32(n - 1)], "allreduce max Int32")
    expect(try world.allreduce([Int64(r) + 5_000_000_000], op: .min) == [5_000_000_000], "allreduce min Int64")
    expect(try world.allreduce([UInt8(1)], op: .sum) == [UInt8(truncatingIfNeeded: n)], "allreduce sum UInt8")

    // non-blocking mean with a deadline
    var a = [Float](repeating: Float(r), count: 1 << 20)
    let req = try a.withUnsafeMutableBufferPointer { try world.allreduceMeanAsync($0) }
    try req.wait(timeout: 60)
    expect(a.allSatisfy { Swift.abs($0 - Float(n - 1) / 2) < 1e-5 }, "allreduceMeanAsync")

    // allgather
    expect(try world.allgather(Int64(r * 10)) == (0..<n).map { Int64($0 * 10) }, "allgather")

    // allgatherv: rank k sends k + 1 copies of k
    let counts = (0..<n).map { $0 + 1 }
    var gathered = [Int32](repeating: -1, count: counts.reduce(0, +))
    try [Int32](repeating: Int32(r), count: r + 1).withUnsafeBufferPointer { s in
        try gathered.withUnsafeMutableBufferPointer { try world.allgatherv(s, counts: counts, into: $0) }
    }
    expect(gathered == (0..<n).flatMap { [Int32](repeating: Int32($0), count: $0 + 1) }, "allgatherv")

    // reduce-scatter: every rank sends [0, 1, …, 2n-1]; rank k gets block k summed
    var block = [Float](repeating: 0, count: 2)
    try (0..<(2 * n)).map(Float.init).withUnsafeBufferPointer { s in
        try block.withUnsafeMutableBufferPointer { try world.reduceScatter(s, into: $0, op: .sum) }
    }
    expect(block == [Float(2 * r * n), Float((2 * r + 1) * n)], "reduceScatter sum")

    // ring send/receive (even ranks send first to avoid a cycle of blocking sends)
    if n > 1 {
        let next = (r + 1) % n, prev = (r + n - 1) % n
        var got = [Int32](repeating: -1, count: 3)
        let msg = [Int32(r), Int32(r), Int32(r)]
        if r % 2 == 0 {
            try msg.withUnsafeBufferPointer { try world.send($0, to: next, tag: 7) }
            try got.withUnsafeMutableBufferPointer { try world.receive(into: $0, from: prev, tag: 7) }
        } else {
            try got.withUnsafeMutableBufferPointer { try world.receive(into: $0, from: prev, tag: 7) }
            try msg.withUnsafeBufferPointer { try world.send($0, to: next, tag: 7) }
        }
        expect(got == [Int32(prev), Int32(prev), Int32(prev)], "send/receive ring")
    }

    // split into even/odd ranks, and a duplicate of the world
    let half = try world.split(color: r % 2, key: r)
    let members = (0..<n).filter { $0 % 2 == r % 2 }
    expect(half.size == members.count && half.rank == members.firstIndex(of: r), "split rank/size")
    expect(try half.allreduce([Int32(r)], op: .sum) == [Int32(members.reduce(0, +))], "split allreduce")
    let dup = try world.duplicate()
    expect(dup.size == n && dup.rank == r, "duplicate")

    // shared-memory averaging (only when every rank is on this node): uneven
    // buckets marked in different orders per rank, several steps, then a timeout
    // when one rank never marks its bucket.
    let count = 1000 + 37
    let buckets = [900..<count, 17..<900, 0..<17]
    if let avg = try SharedMemoryAverager.make(communicator: world, count: count, buckets: buckets) {
        expect(world.localSize == n, "shared memory only within one node")
        for step in 0..<5 {
            for i in 0..<count { avg.buffer[i] = Float(r * 1000 + i + step) }
            let order = r % 2 == 0 ? Array(buckets.indices) : buckets.indices.reversed()
            for b in order { avg.markReady(bucket: b); avg.progress() }
            try avg.finish(timeout: 60)
            let ok = (0..<count).allSatisfy { i in Swift.abs(avg.buffer[i] - (Float(1000 * (n - 1)) / 2 + Float(i + step))) < 1e-3 }
            expect(ok, "shared average step \(step)")
        }
        avg.close()   // collective: every rank frees the window together
        print("shared-memory averaging: ok on rank \(r)")
    } else if n > 1 && world.localSize == n {
        fail("no shared-memory averager although all \(n) ranks share this node", r)
    }

    if n > 1 { try checkCompressedWire(world) }
    if n > 1 { try checkZeroCollectives(world) }
    if n > 1 { try checkHierarchical(world) }

    // a bad argument is an error, not a crash
    do {
        var x = [Float](repeating: 0, count: 1)
        try x.withUnsafeMutableBufferPointer { try world.broadcast($0, root: n) }
        fail("broadcast to root \(n) did not throw", r)
    } catch CommunicationError.invalidArgument(let m) {
        expect(m.contains("\(n)"), "error names the rank")
    }
    try world.barrier()
} catch {
    fail("\(error)", r)
}
print("MPI SELFTEST OK rank \(r)/\(n)")
MPIRuntime.finalize()
