// Background preparation of upcoming batches: a serial worker thread runs the
// submitted jobs in order while the training step computes, and `next()` hands
// their results back in the same order. The queue is bounded by the caller
// (submit at most `depth` ahead), so memory stays at a few batches; the data
// order is the caller's, so determinism and the resumable cursor are unchanged.
import CohortCore
import Foundation

/// Runs jobs in submission order on one background thread; `next()` returns their results in order.
public final class Prefetcher<Value>: @unchecked Sendable {
    private final class Slot: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var result: Result<Value, any Error>?
    }
    private let queue = DispatchQueue(label: "cohort.prefetch")
    private var slots: [Slot] = []   // touched only by the consumer thread

    public init() {}

    /// Jobs submitted and not yet taken.
    public var pending: Int { slots.count }

    /// Queues `job` behind the earlier ones.
    public func submit(_ job: @escaping () throws -> Value) {
        let slot = Slot()
        slots.append(slot)
        let work = UncheckedJob(job)
        queue.async {
            if let tracer = Trace.recorder {   // a timeline is recorded: the job is an event of the "prefetch" thread
                tracer.labelThread("prefetch")
                slot.result = tracer.span(.prefetch) { Result { try work.run() } }
            } else {
                slot.result = Result { try work.run() }
            }
            slot.done.signal()
        }
    }

    /// Waits for the oldest job and returns its value (rethrowing its error) and the seconds waited.
    /// - Precondition: a job is pending.
    public func next() throws -> (value: Value, waited: Double) {
        precondition(!slots.isEmpty, "Prefetcher.next() without a submitted job")
        let slot = slots.removeFirst()
        let t0 = DispatchTime.now().uptimeNanoseconds
        slot.done.wait()
        let waited = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        return (try slot.result!.get(), waited)
    }
}

/// A job handed to the worker thread (the caller guarantees it only reads shared state).
private struct UncheckedJob<Value>: @unchecked Sendable {
    let run: () throws -> Value
    init(_ run: @escaping () throws -> Value) { self.run = run }
}
