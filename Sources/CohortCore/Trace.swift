// The timeline recorder behind `cohort train --trace FILE` (docs/trace.md): complete
// events (a name, a start and an end on the monotonic clock, one integer argument)
// kept in a buffer per thread, preallocated when the thread records its first event
// and written once at the end (CohortRunLog's `TraceFile`). Off by default: every
// probe in the hot paths is one branch on `Trace.recorder`, nil unless a run installs one.
import Foundation
import Synchronization

/// The process's trace recorder, when tracing is on.
public enum Trace {
    /// The installed recorder; nil (the default) means tracing is off, and every probe is a
    /// single branch on this optional: no clock read, no allocation.
    /// Set with `install` before the threads that record start, read-only while they run.
    nonisolated(unsafe) public private(set) static var recorder: TraceRecorder?

    /// Makes `recorder` the one every probe records into (nil: tracing off).
    public static func install(_ recorder: TraceRecorder?) { self.recorder = recorder }
}

/// An event name interned by a recorder; the well-known names have fixed ids.
public struct TraceName: Sendable, Hashable {
    public let id: Int32
    public init(id: Int32) { self.id = id }

    // The names every recorder registers first, in this order (`TraceRecorder.wellKnown`).
    public static let step = TraceName(id: 0)
    public static let dataWait = TraceName(id: 1)
    public static let prefetch = TraceName(id: 2)
    public static let forward = TraceName(id: 3)
    public static let backward = TraceName(id: 4)
    public static let bucketLaunch = TraceName(id: 5)
    public static let bucketWait = TraceName(id: 6)
    public static let bucketReduce = TraceName(id: 7)
    public static let gradientSync = TraceName(id: 8)
    public static let shardReduce = TraceName(id: 9)
    public static let lossAgreement = TraceName(id: 10)
    public static let optimizer = TraceName(id: 11)
    public static let checkpoint = TraceName(id: 12)
    public static let validation = TraceName(id: 13)
    public static let sharedMemoryDone = TraceName(id: 14)
}

/// What an event name says: its text, its Chrome category and the key of its argument (nil: none).
public struct TraceNameInfo: Sendable {
    public let name: String, category: String, argument: String?
}

/// One recorded complete event: monotonic nanoseconds, and its argument (when its name has one).
public struct TraceEvent: Sendable {
    public var name: Int32
    public var start: UInt64
    public var end: UInt64
    public var argument: Int64
}

/// A module (a layer) whose forward and backward the recorder times: its event names and its parent scope (−1: none).
struct TraceScope {
    let forwardName: Int32, backwardName: Int32, parent: Int32
}

/// Records the timeline of one process. Each thread writes only its own buffer; names and
/// scopes are registered before training starts. Thread-safe under that discipline.
public final class TraceRecorder: @unchecked Sendable {
    /// Events each thread can hold; later events are dropped and counted.
    public let capacityPerThread: Int
    /// The steps recorded (nil: all). Outside them nothing is recorded.
    public let steps: ClosedRange<Int>?
    /// The wall clock (ns since the Unix epoch) and the monotonic clock at the same moment,
    /// read once: events are timed on the monotonic clock and placed on the wall clock's axis.
    public let epochOriginNanoseconds: UInt64, monotonicOrigin: UInt64
    private let recording: Atomic<Bool>
    private let lock = NSLock()
    private var names: [TraceNameInfo] = []
    private var buffers: [TraceThreadBuffer] = []
    private var scopes: [TraceScope] = []
    private var scopeOfObject: [ObjectIdentifier: Int32] = [:]
    private var key = pthread_key_t()
    private let mainThread = pthread_self()

    static let wellKnown: [TraceNameInfo] = [
        .init(name: "step", category: "step", argument: "step"),
        .init(name: "data wait", category: "data", argument: nil),
        .init(name: "prefetch batch", category: "data", argument: nil),
        .init(name: "forward", category: "forward", argument: nil),
        .init(name: "backward", category: "backward", argument: nil),
        .init(name: "bucket launch", category: "ddp", argument: "bucket"),
        .init(name: "bucket wait", category: "ddp", argument: "bucket"),
        .init(name: "bucket reduce", category: "ddp", argument: "bucket"),
        .init(name: "gradient sync", category: "ddp", argument: nil),
        .init(name: "virtual shard reduce", category: "ddp", argument: nil),
        .init(name: "loss agreement", category: "comm", argument: nil),
        .init(name: "optimizer step", category: "optimizer", argument: nil),
        .init(name: "checkpoint save", category: "checkpoint", argument: "step"),
        .init(name: "validation", category: "validation", argument: "step"),
        .init(name: "shared-memory done wait", category: "ddp", argument: nil),
    ]

    /// A recorder holding up to `capacityPerThread` events per thread, recording `steps` (nil: all).
    public init(capacityPerThread: Int = 200_000, steps: ClosedRange<Int>? = nil) {
        self.capacityPerThread = max(capacityPerThread, 16)
        self.steps = steps
        var wall = timespec(), mono = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        clock_gettime(CLOCK_MONOTONIC, &mono)
        epochOriginNanoseconds = UInt64(wall.tv_sec) * 1_000_000_000 + UInt64(wall.tv_nsec)
        monotonicOrigin = UInt64(mono.tv_sec) * 1_000_000_000 + UInt64(mono.tv_nsec)
        recording = Atomic(steps == nil)
        names = TraceRecorder.wellKnown
        pthread_key_create(&key, nil)
    }

    deinit { pthread_key_delete(key) }

    private func locked<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// The monotonic clock in nanoseconds.
    @inline(__always) public static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// Interns an event name (setup time: takes a lock).
    public func name(_ text: String, category: String, argument: String? = nil) -> TraceName {
        locked {
            names.append(TraceNameInfo(name: text, category: category, argument: argument))
            return TraceName(id: Int32(names.count - 1))
        }
    }

    /// Whether events are being kept now (inside the step window).
    public var isRecording: Bool { recording.load(ordering: .relaxed) }

    /// Called by the training loop before each step: recording follows the step window.
    public func beginStep(_ step: Int) {
        guard let steps else { return }
        recording.store(steps.contains(step), ordering: .relaxed)
    }

    /// The start time of an event (0 when not recording: `end` then keeps nothing).
    @inline(__always) public func begin() -> UInt64 { isRecording ? TraceRecorder.now() : 0 }

    /// Keeps the event `name` from `start` (a `begin()`) to now, with `argument`.
    public func end(_ name: TraceName, _ start: UInt64, argument: Int64 = 0) {
        guard start != 0 else { return }
        buffer().append(TraceEvent(name: name.id, start: start, end: TraceRecorder.now(), argument: argument))
    }

    /// Runs `body` as the event `name`.
    @inline(__always)
    public func span<R>(_ name: TraceName, argument: Int64 = 0, _ body: () throws -> R) rethrows -> R {
        let start = begin()
        defer { end(name, start, argument: argument) }
        return try body()
    }

    /// Names the calling thread in the trace ("prefetch", "checkpoint writer").
    public func labelThread(_ label: String) {
        let b = buffer()
        if b.name != label { b.name = label }
    }

    /// This thread's buffer, made (and its events preallocated) on the thread's first event.
    func buffer() -> TraceThreadBuffer {
        if let p = pthread_getspecific(key) { return Unmanaged<TraceThreadBuffer>.fromOpaque(p).takeUnretainedValue() }
        let b: TraceThreadBuffer = locked {
            let tid = buffers.count
            let name = pthread_equal(pthread_self(), mainThread) != 0 ? "main" : "thread \(tid)"
            let made = TraceThreadBuffer(tid: tid, name: name, capacity: capacityPerThread)
            buffers.append(made)
            return made
        }
        pthread_setspecific(key, Unmanaged.passUnretained(b).toOpaque())
        return b
    }

    /// Every interned name, by id.
    public var nameTable: [TraceNameInfo] { locked { names } }

    /// Every thread's events so far: its id, name, events and the events it dropped.
    /// Call when the recording threads are idle (after the fit).
    public func threads() -> [(tid: Int, name: String, events: [TraceEvent], dropped: Int)] {
        locked { buffers.map { ($0.tid, $0.name, Array(UnsafeBufferPointer(start: $0.events, count: $0.count)), $0.dropped) } }
    }

    // MARK: scopes (per-layer forward and backward)

    /// Registers `object` (a module) under `path` with `parent` (−1: top level); returns its scope.
    public func registerScope(_ object: ObjectIdentifier, path: String, kind: String, parent: Int32) -> Int32 {
        let forward = name("forward \(path) (\(kind))", category: "forward")
        let backward = name("backward \(path) (\(kind))", category: "backward")
        return locked {
            scopes.append(TraceScope(forwardName: forward.id, backwardName: backward.id, parent: parent))
            let id = Int32(scopes.count - 1)
            scopeOfObject[object] = id
            return id
        }
    }

    /// The scope registered for `object`, if any (read-only after setup: no lock).
    @inline(__always) public func scope(of object: ObjectIdentifier) -> Int32? { scopeOfObject[object] }

    /// Runs a registered module's forward as its event; the ops it records belong to its scope.
    public func forward<R>(scope: Int32, _ body: () throws -> R) rethrows -> R {
        let b = buffer()
        b.forwardScopes.append(scope)
        let start = begin()
        defer {
            b.forwardScopes.removeLast()
            if start != 0 { b.append(TraceEvent(name: scopes[Int(scope)].forwardName, start: start, end: TraceRecorder.now(), argument: 0)) }
        }
        return try body()
    }

    /// The innermost registered module whose forward runs on this thread (−1: none).
    @inline(__always) public var currentScope: Int32 { buffer().forwardScopes.last ?? -1 }

    /// Backward reached an op recorded in `scope` (−1: outside every module): the events of
    /// the scopes it left end, those of the scopes it entered begin (parents before children).
    public func enterBackward(scope: Int32) {
        guard isRecording else { return }
        let b = buffer()
        if b.backwardOpen.last?.scope == scope { return }
        let now = TraceRecorder.now()
        // Close open scopes that are not ancestors-or-self of `scope`.
        while let top = b.backwardOpen.last, !isAncestor(top.scope, of: scope) {
            b.backwardOpen.removeLast()
            b.append(TraceEvent(name: scopes[Int(top.scope)].backwardName, start: top.start, end: now, argument: 0))
        }
        // Open `scope` and its ancestors below the innermost one still open, parents first.
        open(scope, below: b.backwardOpen.last?.scope ?? -1, at: now, in: b)
    }

    private func open(_ s: Int32, below top: Int32, at now: UInt64, in b: TraceThreadBuffer) {
        guard s >= 0, s != top else { return }
        open(scopes[Int(s)].parent, below: top, at: now, in: b)
        b.backwardOpen.append((s, now))
    }

    /// Backward finished: every open scope's event ends.
    public func leaveBackward() { enterBackward(scope: -1) }

    private func isAncestor(_ a: Int32, of s: Int32) -> Bool {
        var x = s
        while x >= 0 {
            if x == a { return true }
            x = scopes[Int(x)].parent
        }
        return false
    }
}

/// One thread's events, preallocated; written by that thread only.
final class TraceThreadBuffer {
    let tid: Int
    var name: String
    let events: UnsafeMutablePointer<TraceEvent>
    let capacity: Int
    var count = 0, dropped = 0
    var forwardScopes: [Int32] = []
    var backwardOpen: [(scope: Int32, start: UInt64)] = []

    init(tid: Int, name: String, capacity: Int) {
        self.tid = tid
        self.name = name
        self.capacity = capacity
        events = .allocate(capacity: capacity)
        forwardScopes.reserveCapacity(16)
        backwardOpen.reserveCapacity(16)
    }

    deinit { events.deallocate() }

    @inline(__always) func append(_ e: TraceEvent) {
        guard count < capacity else { dropped += 1; return }
        events[count] = e
        count += 1
    }
}
