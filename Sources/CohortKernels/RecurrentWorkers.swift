// Two-way intra-op parallelism for the recurrence: the calling thread and one
// persistent helper thread run the same time loop on disjoint batch rows (no
// synchronisation until the end) or, for a single sequence, on disjoint slices
// of hidden units, meeting at a barrier once per step. A recurrent step's GEMMs
// are too small for OpenBLAS's own threading to pay off (2 threads ran no faster
// than 1 at [32, 256] × [256, 1024] here), and GCD's concurrentPerform may run
// iterations one after another, which a barrier would deadlock.
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The helper thread and the step barrier. Callers on several threads (parallel tests)
/// take turns; `run` must not be called from inside `body`.
final class RecurrentWorkers: @unchecked Sendable {
    static let shared = RecurrentWorkers()

    private let condition = NSCondition()
    private let turn = NSLock()
    private var job: ((Int) -> Void)?
    private var posted = 0            // guarded by `condition`
    private let finished = Atomic<Int>(0)
    private let arrived = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)
    private var started = false

    private init() {}

    /// Runs `body(0)` here and `body(1)` on the helper thread, returning when both are done.
    /// `body` may call `barrier()`; both sides must call it equally often.
    func run(_ body: (Int) -> Void) {
        turn.lock()
        defer { turn.unlock() }
        if !started {
            started = true
            let t = Thread { [self] in helperLoop() }
            t.name = "cohort-recurrent"
            t.start()
        }
        withoutActuallyEscaping(body) { body in
            condition.lock()
            job = body
            posted += 1
            let ticket = posted
            condition.signal()
            condition.unlock()
            body(0)
            RecurrentWorkers.waitUntil { self.finished.load(ordering: .acquiring) == ticket }
            condition.lock()
            job = nil
            condition.unlock()
        }
    }

    /// Waits until both sides have arrived (sense-reversing, spin then yield).
    func barrier() {
        let g = generation.load(ordering: .acquiring)
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == 2 {
            arrived.store(0, ordering: .relaxed)
            generation.store(g &+ 1, ordering: .releasing)
        } else {
            RecurrentWorkers.waitUntil { self.generation.load(ordering: .acquiring) != g }
        }
    }

    /// Spins briefly (a step's other half usually finishes within microseconds), then
    /// yields the CPU so an oversubscribed machine still makes progress.
    @inline(__always)
    static func waitUntil(_ done: () -> Bool) {
        var spins = 0
        while !done() {
            spins += 1
            if spins > 4000 { sched_yield() }
        }
    }

    private func helperLoop() {
        var seen = 0
        while true {
            condition.lock()
            while posted == seen { condition.wait() }
            seen = posted
            var body = job
            condition.unlock()
            body!(1)
            body = nil   // release the caller's closure before reporting completion
            finished.store(seen, ordering: .releasing)
        }
    }
}
