// The 16-bit gradient wire under a real MPI world: bfloat16/binary16 allreduce sums
// through the user operators, and DataParallel with `--grad-comm`-style wires on both
// transports (node-shared memory and MPI messages), including binary16's overflow
// fallback to float32 and its scale backing off.
import CohortCollectives
import CohortDistributed
import CohortMPI
import CohortNN
import CohortTensor
import Foundation

func checkCompressedWire(_ world: MPICommunicator) throws {
    let r = world.rank, n = world.size
    // Sums of exactly representable values (multiples of 1/4 below 64): exact in both formats.
    let values = (0..<41).map { Float(r + 1) * 0.25 * Float(1 + $0 % 8) }
    let expected = (0..<41).map { Float(n * (n + 1) / 2) * 0.25 * Float(1 + $0 % 8) }
    var bf = values.map { BFloat16Word(bits: UInt16(truncatingIfNeeded: $0.bitPattern >> 16)) }
    try bf.withUnsafeMutableBufferPointer { try world.allreduce($0, op: .sum) }
    expect(bf.map { Float(bitPattern: UInt32($0.bits) << 16) } == expected, "bfloat16 allreduce sum")
    var half = values.map { Float16Word(bits: Float16($0).bitPattern) }
    let request = try half.withUnsafeMutableBufferPointer { try world.allreduceAsync($0, op: .sum) }
    try request.wait(timeout: 60)
    expect(half.map { Float(Float16(bitPattern: $0.bits)) } == expected, "binary16 allreduce sum (non-blocking)")
    do {
        _ = try world.allreduce([BFloat16Word(bits: 0)], op: .max)
        expect(false, "a max of bfloat16 words did not throw")
    } catch CommunicationError.invalidArgument {}

    // DataParallel on each transport and wire.
    for sharedMemory in [true, false] {
        setenv("COHORT_SHARED_MEMORY", sharedMemory ? "1" : "0", 1)
        defer { unsetenv("COHORT_SHARED_MEMORY") }
        for wire in [GradientWire.bf16, .fp16] {
            var generator = RandomGenerator(seed: 7)
            let model = Linear(5, 3, generator: &generator)
            let arena = try ParameterArena(allocating: model)
            let ddp = try DataParallel(model: model, arena: arena, communicator: world, bucketMegabytes: 0.00004, wire: wire)
            let what = "\(wire) wire over \(ddp.transport)"
            expect(ddp.buckets.count > 1 && ddp.bytesPerStep == arena.count * 2, "\(what): \(ddp.buckets.count) buckets, \(ddp.bytesPerStep) bytes")
            // Representable gradients come back as the exact mean.
            for i in 0..<arena.count { arena.grads.pointer[i] = Float(r + 1) * 0.25 * Float(1 + i % 4) }
            try ddp.synchronize(timeout: 60)
            let mean = Float(n + 1) / 2
            expect((0..<arena.count).allSatisfy { arena.grads.pointer[$0] == mean * 0.25 * Float(1 + $0 % 4) }, "\(what): mean")
            expect(ddp.wireOverflows == 0 && ddp.lastBytes == arena.count * 2, "\(what): no overflow, half the bytes")
            // Too large for binary16 at its scale: the buckets are averaged again in float32, exactly.
            for i in 0..<arena.count { arena.grads.pointer[i] = Float(r + 1) * 1000 + Float(i) }
            let scale = ddp.wireScale
            try ddp.synchronize(timeout: 60)
            let exact = (0..<arena.count).allSatisfy { arena.grads.pointer[$0] == mean * 1000 + Float($0) }
            if wire == .fp16 {
                expect(exact && ddp.wireOverflows == 1 && ddp.wireScale == scale / 2, "\(what): overflow fallback (scale \(ddp.wireScale))")
            } else {
                let close = (0..<arena.count).allSatisfy { Swift.abs(arena.grads.pointer[$0] - (mean * 1000 + Float($0))) <= (mean * 1000 + Float($0)) / 128 }
                expect(close && ddp.wireOverflows == 0, "\(what): large values within bfloat16's precision")
            }
            ddp.close()
        }
    }
    print("16-bit gradient wire: ok on rank \(r)")
}
