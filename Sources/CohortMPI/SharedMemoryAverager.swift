// Gradient averaging through an MPI-3 shared-memory window (see SharedAverager
// in CohortCollectives). Each rank's window segment is a page of flags followed
// by its gradient buffer. For bucket b at step g, rank i:
//   1. stores ready[b] = g in its own flags once its gradients in b are final;
//   2. when every rank's ready[b] ≥ g, averages slice i of b across all ranks'
//      buffers (summed in rank order, times 1/P) and writes the mean into every
//      rank's buffer, then stores done[b] = g;
//   3. in finish(), waits for every rank's done[b] ≥ g for all b.
// Each flag has a single writer; release/acquire ordering makes the data
// written before a flag visible to whoever reads the flag. A rank touches
// another rank's buffer only between that rank's ready and its own done, so the
// next step's writes never race with this step's reads.
import CMPI
import CMPIShims
import CohortCollectives
import CohortCore
import Foundation

final class SharedMemoryAverager: SharedAverager {
    let buffer: UnsafeMutablePointer<Float>
    let count: Int
    private let buckets: [Range<Int>]
    private let node: MPI_Comm
    private var window: MPI_Win?
    private let rank: Int, size: Int
    /// Every rank's buffer, flags, in node-rank order.
    private let buffers: [UnsafeMutablePointer<Float>]
    private let readyFlags: [UnsafeMutablePointer<UInt64>]
    private let doneFlags: [UnsafeMutablePointer<UInt64>]
    /// This rank's slice of each bucket.
    private let slices: [Range<Int>]
    private var generation: UInt64 = 1
    private var marked: [Bool]
    private var reduced: [Bool]
    private var reducedCount = 0

    /// Collective over `node` (every rank of a shared-memory communicator calls it).
    init(node: MPI_Comm, count: Int, buckets: [Range<Int>]) throws {
        self.node = node
        self.count = count
        self.buckets = buckets
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(node, &r); MPI_Comm_size(node, &s)
        rank = Int(r); size = Int(s)
        let flagBytes = (buckets.count * 2 * 8 + 4095) / 4096 * 4096
        var base: UnsafeMutableRawPointer?
        var win: MPI_Win?
        let rc = cohort_shm_window_allocate(node, flagBytes + max(count, 1) * 4, &base, &win)
        guard rc == cohort_mpi_success(), let win else {
            throw CommunicationError.backend(operation: "MPI_Win_allocate_shared", rank: rank, message: MPIRuntime.errorString(rc))
        }
        window = win
        var bufs: [UnsafeMutablePointer<Float>] = [], ready: [UnsafeMutablePointer<UInt64>] = [], done: [UnsafeMutablePointer<UInt64>] = []
        for q in 0..<size {
            var b: UnsafeMutableRawPointer?
            let qrc = cohort_shm_window_query(win, Int32(q), &b)
            guard qrc == cohort_mpi_success(), let b else {
                throw CommunicationError.backend(operation: "MPI_Win_shared_query", rank: rank, message: MPIRuntime.errorString(qrc))
            }
            ready.append(b.assumingMemoryBound(to: UInt64.self))
            done.append((b + buckets.count * 8).assumingMemoryBound(to: UInt64.self))
            bufs.append((b + flagBytes).assumingMemoryBound(to: Float.self))
        }
        buffers = bufs; readyFlags = ready; doneFlags = done
        buffer = bufs[rank]
        // Own flags start at 0, the buffer at zero gradients.
        UnsafeMutableRawPointer(ready[rank]).initializeMemory(as: UInt8.self, repeating: 0, count: flagBytes)
        buffer.initialize(repeating: 0, count: count)
        // Slices of whole cache lines (16 floats), as even as that allows.
        let (me, n) = (Int(r), Int(s))
        slices = buckets.map { b in
            let lines = (b.count + 15) / 16
            let lo = b.lowerBound + min(b.count, lines * me / n * 16)
            let hi = b.lowerBound + min(b.count, lines * (me + 1) / n * 16)
            return lo..<hi
        }
        marked = Array(repeating: false, count: buckets.count)
        reduced = Array(repeating: false, count: buckets.count)
        // Nobody reads a flag before every rank has zeroed its own.
        MPI_Barrier(node)
    }

    /// Collective (MPI_Win_free synchronises the node's ranks): the success path only.
    func close() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0, window != nil {
            cohort_shm_window_free(&window)
            var n: MPI_Comm? = node
            MPI_Comm_free(&n)
        }
        window = nil
    }

    // No deinit freeing the window: that is collective, and a deinit also runs while an
    // error unwinds on one rank, which would then wait forever for its peers. An
    // averager never closed is freed by MPI_Finalize, or with the process.

    func markReady(bucket b: Int) {
        guard !marked[b] else { return }
        marked[b] = true
        cohort_atomic_store_release(readyFlags[rank] + b, generation)
    }

    private func allReady(_ b: Int) -> Bool {
        for q in 0..<size where cohort_atomic_load_acquire(readyFlags[q] + b) < generation { return false }
        return true
    }

    private func reduce(_ b: Int) {
        let s = slices[b]
        if !s.isEmpty {
            buffers.withUnsafeBufferPointer { averageAcross($0, offset: s.lowerBound, count: s.count) }
        }
        reduced[b] = true
        reducedCount += 1
        cohort_atomic_store_release(doneFlags[rank] + b, generation)
    }

    func progress() {
        guard reducedCount < buckets.count else { return }
        for b in buckets.indices where marked[b] && !reduced[b] && allReady(b) { reduce(b) }
    }

    func finish(timeout: Double) throws {
        for b in buckets.indices { markReady(bucket: b) }
        var waiter = SpinWaiter(deadline: timeout)
        for b in buckets.indices where !reduced[b] {
            while !allReady(b) {
                try waiter.pause { self.missing(self.readyFlags, b, "marked bucket \(b) ready") }
            }
            reduce(b)
        }
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
    let inv = 1 / Float(p)
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
