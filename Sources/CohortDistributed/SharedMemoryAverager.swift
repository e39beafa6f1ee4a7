// DDP's gradient averaging through node-local shared memory: when every rank of
// a group runs on one machine, gradients live in memory all of them map (a
// `NodeSharedWindow`, MPI-3 shared memory in the MPI backend), and a bucket is
// averaged by each rank summing its own slice of it across every rank's copy
// and writing the mean back into all of them — no message copies at all, and
// the work split evenly between the ranks (a reduce-scatter and an all-gather
// in one pass). Each rank's window segment is a page of flags followed by its
// gradient buffer: float32, or with `--grad-comm bf16|fp16` 16-bit words that
// DDP encodes its private gradients into (summed in float32, rounded once).
// For bucket b at step g, rank i:
//   1. stores ready[b] = g in its own flags once its gradients in b are final;
//   2. when every rank's ready[b] ≥ g, averages slice i of b across all ranks'
//      buffers (summed in rank order, times Mean.factor(P)) and writes the mean into every
//      rank's buffer, then stores done[b] = g;
//   3. in finish(), waits for every rank's done[b] ≥ g for all b.
// Each flag has a single writer; release/acquire ordering makes the data
// written before a flag visible to whoever reads the flag. A rank touches
// another rank's buffer only between that rank's ready and its own done, so the
// next step's writes never race with this step's reads.
import CAtomics
import CohortCollectives
import CohortCore
import CohortKernels
import Foundation

/// Float buffers, one per rank of a node-local group, that every rank can read and
/// write, averaged bucket by bucket.
///
/// Protocol per step (every rank calls the same sequence): `markReady(bucket:)` as each
/// bucket's gradients become final, optionally `progress()` while other work continues,
/// then `finish(timeout:)`, after which every rank's `buffer` holds the average over all
/// ranks, bitwise the same on every rank.
package final class SharedMemoryAverager {
    /// This rank's buffer, `count` floats, in shared memory (float32 averagers). Owned by the averager.
    package var buffer: UnsafeMutablePointer<Float> { buffers[rank] }
    /// This rank's buffer as `count` 16-bit words (averagers made with a `format`).
    package var words: UnsafeMutablePointer<UInt16> { UnsafeMutableRawPointer(buffers[rank]).assumingMemoryBound(to: UInt16.self) }
    /// Number of elements in `buffer`.
    package let count: Int
    /// The 16-bit format of the buffers; nil: float32.
    package let format: HalfFormat?
    private let buckets: [Range<Int>]
    private let window: any NodeSharedWindow
    private let rank: Int, size: Int
    /// Every rank's buffer (float32, or 16-bit words when `format` is set), flags, in node-rank order.
    private let buffers: [UnsafeMutablePointer<Float>]
    private let wordBuffers: [UnsafeMutablePointer<UInt16>]
    private let readyFlags: [UnsafeMutablePointer<UInt64>]
    private let doneFlags: [UnsafeMutablePointer<UInt64>]
    /// This rank's slice of each bucket.
    private let slices: [Range<Int>]
    private var generation: UInt64 = 1
    private var marked: [Bool]
    private var reduced: [Bool]
    private var reducedCount = 0

    /// A shared-memory averager over `buckets` (element ranges of a `count`-element buffer of
    /// float32, or of `format`'s 16-bit words) when `communicator` can map memory shared by all
    /// its ranks (every rank on one node, a group of more than one) and `COHORT_SHARED_MEMORY`
    /// is not `0`; nil otherwise. Collective: every rank of `communicator` calls it.
    package static func make(communicator: any Communicator, count: Int, buckets: [Range<Int>],
                             format: HalfFormat? = nil) throws -> SharedMemoryAverager? {
        let elementBytes = format == nil ? 4 : 2
        guard communicator.size > 1, ProcessInfo.processInfo.environment["COHORT_SHARED_MEMORY"] != "0",
              let memory = communicator as? any NodeSharedMemory,
              let window = try memory.allocateNodeSharedWindow(bytesPerRank: flagBytes(buckets.count) + max(count, 1) * elementBytes)
        else { return nil }
        return try SharedMemoryAverager(window: window, count: count, buckets: buckets, format: format)
    }

    /// Bytes of flags before each rank's buffer: ready and done per bucket, whole pages.
    private static func flagBytes(_ buckets: Int) -> Int { (buckets * 2 * 8 + 4095) / 4096 * 4096 }

    /// Collective over the window's ranks.
    private init(window: any NodeSharedWindow, count: Int, buckets: [Range<Int>], format: HalfFormat?) throws {
        self.window = window
        self.count = count
        self.buckets = buckets
        self.format = format
        rank = window.rank; size = window.size
        let flagBytes = SharedMemoryAverager.flagBytes(buckets.count)
        var bufs: [UnsafeMutablePointer<Float>] = [], ready: [UnsafeMutablePointer<UInt64>] = [], done: [UnsafeMutablePointer<UInt64>] = []
        for q in 0..<size {
            let b = window.segment(of: q)
            ready.append(b.assumingMemoryBound(to: UInt64.self))
            done.append((b + buckets.count * 8).assumingMemoryBound(to: UInt64.self))
            bufs.append((b + flagBytes).assumingMemoryBound(to: Float.self))
        }
        buffers = bufs; readyFlags = ready; doneFlags = done
        wordBuffers = bufs.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt16.self) }
        // Own flags start at 0, the buffer at zero gradients.
        UnsafeMutableRawPointer(ready[rank]).initializeMemory(as: UInt8.self, repeating: 0, count: flagBytes)
        UnsafeMutableRawPointer(bufs[rank]).initializeMemory(as: UInt8.self, repeating: 0, count: count * (format == nil ? 4 : 2))
        // Slices of whole cache lines (64 bytes), as even as that allows.
        let (me, n) = (rank, size)
        let line = format == nil ? 16 : 32
        slices = buckets.map { b in
            let lines = (b.count + line - 1) / line
            let lo = b.lowerBound + min(b.count, lines * me / n * line)
            let hi = b.lowerBound + min(b.count, lines * (me + 1) / n * line)
            return lo..<hi
        }
        marked = Array(repeating: false, count: buckets.count)
        reduced = Array(repeating: false, count: buckets.count)
        // Nobody reads a flag before every rank has zeroed its own.
        try window.barrier()
    }

    /// Frees the shared memory; `buffer` is invalid afterwards. Collective over the node's
    /// ranks, so call it only where every rank does (after the last step, on success). An
    /// averager released without it frees nothing collectively: a rank failing alone must
    /// never wait in a collective free for peers that will not come.
    package func close() { window.free() }

    /// Declares that this rank's values in `bucket` are final for this step.
    package func markReady(bucket b: Int) {
        guard !marked[b] else { return }
        marked[b] = true
        cohort_atomic_store_release(readyFlags[rank] + b, generation)
    }

    private func allReady(_ b: Int) -> Bool {
        for q in 0..<size where cohort_atomic_load_acquire(readyFlags[q] + b) < generation { return false }
        return true
    }

    private func reduce(_ b: Int) {
        let event = Trace.recorder?.begin() ?? 0
        defer { if event != 0 { Trace.recorder?.end(.bucketReduce, event, argument: Int64(b)) } }
        let s = slices[b]
        if !s.isEmpty {
            if let format {
                HalfPrecision.average(format, wordBuffers, offset: s.lowerBound, count: s.count, factor: Mean.factor(size))
            } else {
                buffers.withUnsafeBufferPointer { averageAcross($0, offset: s.lowerBound, count: s.count) }
            }
        }
        reduced[b] = true
        reducedCount += 1
        cohort_atomic_store_release(doneFlags[rank] + b, generation)
    }

    /// Averages this rank's slice of every bucket that all ranks have marked ready,
    /// without waiting. Cheap when there is nothing to do.
    package func progress() {
        guard reducedCount < buckets.count else { return }
        for b in buckets.indices where marked[b] && !reduced[b] && allReady(b) { reduce(b) }
    }

    /// Marks any bucket not yet marked, averages the rest of this rank's slices, and waits
    /// until every rank has finished its slices. Throws `CommunicationError` naming the
    /// ranks still missing after `timeout` seconds.
    package func finish(timeout: Double) throws {
        for b in buckets.indices { markReady(bucket: b) }
        var waiter = SpinWaiter(deadline: timeout)
        // Traced: one wait per bucket, as on the MPI path (empty when backward already averaged it).
        let tracer = Trace.recorder
        for b in buckets.indices {
            let event = tracer?.begin() ?? 0
            if !reduced[b] {
                while !allReady(b) {
                    try waiter.pause { self.missing(self.readyFlags, b, "marked bucket \(b) ready") }
                }
                reduce(b)
            }
            if event != 0 { tracer?.end(.bucketWait, event, argument: Int64(b)) }
        }
        let doneEvent = tracer?.begin() ?? 0
        defer { if doneEvent != 0 { tracer?.end(.sharedMemoryDone, doneEvent) } }
        for b in buckets.indices {
            while (0..<size).contains(where: { cohort_atomic_load_acquire(doneFlags[$0] + b) < generation }) {
                try waiter.pause { self.missing(self.doneFlags, b, "averaged its slice of bucket \(b)") }
            }
        }
        generation += 1
        for b in buckets.indices { marked[b] = false; reduced[b] = false }
        reducedCount = 0
    }

    private func missing(_ flags: [UnsafeMutablePointer<UInt64>], _ b: Int, _ what: String) -> CommunicationError {
        let late = (0..<size).filter { cohort_atomic_load_acquire(flags[$0] + b) < generation }
        let names = late.map(String.init).joined(separator: ", ")
        return .backend(operation: "shared-memory gradient average", rank: rank,
                        message: "node-local rank(s) \(names) never \(what) (step \(generation))")
    }
}

/// Spins briefly, then yields the CPU, then sleeps in short naps — so an
/// oversubscribed node (more ranks than cores) still makes progress — and
/// throws once the deadline passes.
struct SpinWaiter {
    private let start = DispatchTime.now().uptimeNanoseconds
    private let limit: UInt64
    private var spins = 0

    init(deadline seconds: Double) { limit = UInt64(max(seconds, 0) * 1e9) }

    mutating func pause(onTimeout: () -> CommunicationError) throws {
        spins += 1
        if spins < 2000 { cohort_cpu_relax(); return }
        if spins < 4000 { sched_yield(); return }
        if spins & 63 == 0 {
            let elapsed = DispatchTime.now().uptimeNanoseconds - start
            if elapsed > limit { throw onTimeout() }
        }
        usleep(50)
    }
}

/// Averages `count` elements from `offset` across every buffer and writes the
/// mean into all of them: ((b0 + b1) + b2 …) · (1/P), the same bits everywhere.
func averageAcross(_ buffers: UnsafeBufferPointer<UnsafeMutablePointer<Float>>, offset: Int, count n: Int) {
    let p = buffers.count
    let inv = Mean.factor(p)
    let vinv = SIMD16<Float>(repeating: inv)
    var i = offset
    let end = offset + n
    if p == 2 {
        let a = buffers[0], b = buffers[1]
        while i + 16 <= end {
            let m = (load16(a + i) + load16(b + i)) * vinv
            store16(m, a + i); store16(m, b + i)
            i += 16
        }
    } else {
        while i + 16 <= end {
            var s = load16(buffers[0] + i)
            for q in 1..<p { s += load16(buffers[q] + i) }
            s *= vinv
            for q in 0..<p { store16(s, buffers[q] + i) }
            i += 16
        }
    }
    while i < end {
        var s = buffers[0][i]
        for q in 1..<p { s += buffers[q][i] }
        s *= inv
        for q in 0..<p { buffers[q][i] = s }
        i += 1
    }
}

@inline(__always) private func load16(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}
@inline(__always) private func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}
