// Float32 buffers shared by tensors and their views, recycled through a
// size-keyed cache so a steady-state training step does not call malloc or
// take page faults for its activations and gradients.
import CohortCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A reference-counted, 64-byte-aligned Float32 buffer.
public final class Storage: @unchecked Sendable {
    /// First element. Valid for `count` elements while the storage lives.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of Float32 elements.
    public let count: Int

    /// Keeps external memory alive; nil for memory from the buffer cache.
    private let owner: AnyObject?

    /// Allocates `count` uninitialised elements (from the cache when possible).
    public init(count: Int) {
        self.count = count
        self.pointer = BufferCache.shared.take(count)
        self.owner = nil
    }

    /// Wraps `count` elements of memory that `owner` keeps alive (for example a
    /// shared-memory segment); the storage holds `owner` and never frees `pointer`.
    public init(borrowing pointer: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.count = count
        self.pointer = pointer
        self.owner = owner
    }

    /// Allocates `count` elements set to zero.
    public convenience init(zeros count: Int) {
        self.init(count: count)
        pointer.update(repeating: 0, count: count)
    }

    /// Allocates `count` elements set to zero for `name` (e.g. `the parameter arena of 3 tensors`),
    /// throwing instead of stopping the process when the memory is not there.
    /// - Throws: `CohortError.invalidArgument` naming `name`, the elements and the bytes, when
    ///   the byte count overflows or the allocation fails.
    public init(zeros count: Int, for name: String) throws {
        guard count >= 0, let p = BufferCache.shared.tryTake(count) else {
            throw CohortError.invalidArgument("out of memory: cannot allocate \(name): \(BufferCache.describe(count))")
        }
        self.count = count
        self.pointer = p
        self.owner = nil
        pointer.update(repeating: 0, count: count)
    }

    deinit { if owner == nil { BufferCache.shared.give(pointer, count) } }

    /// Returns the buffers kept for reuse to the system. Called when a large set of buffers
    /// will not be needed again in these sizes (a model's parameters moved into an arena), so
    /// they do not stay resident.
    public static func releaseCachedBuffers() { BufferCache.shared.trim() }

    /// Bytes of the buffers storages own now (not borrowed memory), their high-water mark
    /// since the last `resetPeakBytes()`, and the bytes kept for reuse: where a training
    /// step's memory goes (`cohort bench w10` prints them).
    public static var memoryStatistics: (liveBytes: Int, peakLiveBytes: Int, cachedBytes: Int) {
        BufferCache.shared.statistics
    }

    /// Starts a new high-water mark of `memoryStatistics.peakLiveBytes` at the current bytes.
    public static func resetPeakBytes() { BufferCache.shared.resetPeak() }
}

/// Size-keyed free lists of buffers. Bounded: beyond `limitBytes` buffers are freed.
final class BufferCache: Sendable {
    static let shared = BufferCache()

    private struct State {
        var free: [Int: [UInt]] = [:]   // addresses, so the state is Sendable
        var cachedBytes = 0
    }
    private let state = Mutex(State())
    private let limitBytes = 2 << 30
    /// Bytes handed out and not given back, and their high-water mark (statistics only).
    private let live = Atomic<Int>(0), peak = Atomic<Int>(0)

    var statistics: (liveBytes: Int, peakLiveBytes: Int, cachedBytes: Int) {
        (live.load(ordering: .relaxed), peak.load(ordering: .relaxed), state.withLock { $0.cachedBytes })
    }

    func resetPeak() { peak.store(live.load(ordering: .relaxed), ordering: .relaxed) }

    private func counted(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> UnsafeMutablePointer<Float> {
        let now = live.wrappingAdd(n * 4, ordering: .relaxed).newValue
        var high = peak.load(ordering: .relaxed)
        while now > high {
            let (done, original) = peak.compareExchange(expected: high, desired: now, ordering: .relaxed)
            if done { break }
            high = original
        }
        return p
    }

    /// A buffer of `count` elements; stops the process with a one-line message (not a bare
    /// precondition) when the memory is not there. Callers that can throw use `tryTake`.
    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        if let p = tryTake(count) { return p }
        let message = "out of memory: cannot allocate a Float32 tensor buffer of \(Self.describe(count)) "
            + "(lower the model or batch sizes)"
        Log.info("Error: " + message)   // the cause on one line first, then the runtime's crash report
        fatalError(message)
    }

    /// `count` elements and their bytes, e.g. `1000 Float32 elements (4000 bytes)`.
    static func describe(_ count: Int) -> String {
        let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: 4)
        return "\(count) Float32 elements (\(overflow ? "more than \(Int.max)" : String(bytes)) bytes)"
    }

    /// A buffer of `count` elements from the cache or `posix_memalign`; nil when the byte
    /// count overflows or the allocation fails.
    func tryTake(_ count: Int) -> UnsafeMutablePointer<Float>? {
        let n = max(count, 1)
        guard n <= Int.max / 4 else { return nil }
        let cached: UInt? = state.withLock { s in
            guard var list = s.free[n], let p = list.popLast() else { return nil }
            s.free[n] = list
            s.cachedBytes -= n * 4
            return p
        }
        if let cached, let p = UnsafeMutablePointer<Float>(bitPattern: cached) { return counted(p, n) }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, n * 4) == 0, let raw else { return nil }
        return counted(raw.bindMemory(to: Float.self, capacity: n), n)
    }

    func give(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        let n = max(count, 1)
        live.wrappingSubtract(n * 4, ordering: .relaxed)
        let address = UInt(bitPattern: p)
        let kept = state.withLock { s -> Bool in
            guard s.cachedBytes + n * 4 <= limitBytes else { return false }
            s.free[n, default: []].append(address)
            s.cachedBytes += n * 4
            return true
        }
        if !kept { free(p) }
    }

    /// Releases every cached buffer (e.g. after a large evaluation).
    func trim() {
        let all = state.withLock { s -> [UInt] in
            let ps = s.free.values.flatMap { $0 }
            s.free = [:]; s.cachedBytes = 0
            return ps
        }
        for a in all { free(UnsafeMutableRawPointer(bitPattern: a)) }
    }
}
