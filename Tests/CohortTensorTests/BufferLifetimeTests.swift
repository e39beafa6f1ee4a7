// A copy made for reading must live until the reading is done: its buffer otherwise goes back to
// the buffer cache mid-read, and a tensor made on another thread (a data loader's batch, another
// shard's activations) can take it and write over it. Optimized builds end a temporary's life at
// its last use, so this raced in `make test`'s optimized run (a gradient check read garbage).
import Foundation
import Synchronization
import Testing
@testable import CohortTensor
import CohortTestSupport

@Suite struct BufferLifetimeTests {
    @Test func readingAStridedTensorIsNotOverwrittenByAnotherThread() throws {
        let t = Fixtures.transposedLeaf([48, 64], seed: 7)   // strided: `scalars` reads a contiguous copy
        let expected = t.scalars
        let stop = Atomic<Bool>(false)
        let writer = Thread {
            // New tensors of the copy's size, filled with NaN: they get the buffers the reader frees.
            while !stop.load(ordering: .relaxed) {
                let junk = Tensor(uninitialized: [48 * 64])
                junk.base.update(repeating: .nan, count: junk.count)
            }
        }
        writer.start()
        var wrong = 0, reads = 0
        let deadline = Date().addingTimeInterval(1.5)
        while Date() < deadline {
            for _ in 0..<200 where t.scalars != expected { wrong += 1 }
            reads += 200
        }
        stop.store(true, ordering: .relaxed)
        #expect(wrong == 0, "\(wrong) of \(reads) reads of a strided tensor saw another thread's writes")
    }

    /// A kernel's operand held only by a local (layer norm's all-zero bias when there is none) lives
    /// until the kernel has run.
    @Test func aLocalOperandLivesThroughItsKernel() throws {
        let n = 96
        let x = Fixtures.uniform([8, n], seed: 8, requiresGrad: false)
        let expected = try withNoGrad { try Tensor.layerNorm(x, weight: nil, bias: nil) }.scalars
        let stop = Atomic<Bool>(false)
        let writer = Thread {
            while !stop.load(ordering: .relaxed) {
                let junk = Tensor(uninitialized: [n])
                junk.base.update(repeating: .nan, count: junk.count)
            }
        }
        writer.start()
        var wrong = 0, runs = 0
        let deadline = Date().addingTimeInterval(1.5)
        while Date() < deadline {
            for _ in 0..<100 where try withNoGrad({ try Tensor.layerNorm(x, weight: nil, bias: nil) }).scalars != expected { wrong += 1 }
            runs += 100
        }
        stop.store(true, ordering: .relaxed)
        #expect(wrong == 0, "\(wrong) of \(runs) layer norms read another thread's writes")
    }
}
