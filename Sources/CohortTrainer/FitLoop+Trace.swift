// The timeline of a fit (`TrainerOptions.trace`, `cohort train --trace FILE`): the
// recorder installed before anything of the fit runs (so the prefetch thread sees it
// from its first job), the model's modules registered as scopes, a start barrier whose
// wall-clock time lets `cohort trace merge --align barrier` line ranks up, and the
// rank's file written when the fit ends — on success, preemption, or an error.
import CohortCollectives
import CohortCore
import CohortNN
import CohortRunLog
import Foundation

/// What to record of a fit's timeline (docs/trace.md).
public struct TraceSettings: Sendable {
    /// The `--trace` path; each rank writes `TraceFile.rankPath(path, rank:)`.
    public var path: String
    /// The steps recorded (nil: all), like torch.profiler's active window.
    public var steps: ClosedRange<Int>?
    /// Events each thread keeps; later ones are dropped and counted (a warning at the end).
    public var eventsPerThread = 200_000
    /// Levels of the model's module tree timed per layer (1: top-level children).
    public var moduleDepth = 2

    public init(path: String, steps: ClosedRange<Int>? = nil) { (self.path, self.steps) = (path, steps) }
}

/// A fit's recorder and where its file goes.
final class FitTracing {
    let recorder: TraceRecorder
    let identity: TraceFile.Identity
    let path: String
    /// The test split's evaluation after training.
    let test: TraceName
    private var written = false

    /// Installs a recorder for `settings` and registers `net`'s modules. Collective: a broadcast
    /// of rank 0's run id and a barrier.
    init(_ settings: TraceSettings, communicator comm: any Communicator, net: any Module) throws {
        path = TraceFile.rankPath(settings.path, rank: comm.rank)
        // Every rank learns whether any rank cannot write its file, so all stop together.
        var failure: (any Error)?
        do { try TraceFile.checkWritable(path) } catch { failure = error }
        let failed = try comm.allreduce([Int64(failure == nil ? 0 : 1)], op: .sum)[0]
        if let failure { throw failure }
        if failed > 0 { throw CohortError.invalidParameter(name: "trace", "\(failed) other rank(s) cannot write their trace file (see their errors)") }
        recorder = TraceRecorder(capacityPerThread: settings.eventsPerThread, steps: settings.steps)
        net.registerTraceScopes(in: recorder, depth: settings.moduleDepth)
        test = recorder.name("test", category: "validation")
        var id: [Int64] = [comm.rank == 0 ? Int64.random(in: 1...Int64.max) : 0]
        try id.withUnsafeMutableBufferPointer { try comm.broadcast($0, root: 0) }
        try comm.barrier()
        let barrier = TraceFile.wallMicroseconds(TraceRecorder.now(), recorder)
        identity = TraceFile.Identity(rank: comm.rank, worldSize: comm.size, runID: String(UInt64(bitPattern: id[0]), radix: 16), barrierWallMicroseconds: barrier)
        Trace.install(recorder)
    }

    /// Writes the rank's file (once) and stops recording.
    func write() throws {
        guard !written else { return }
        written = true
        Trace.install(nil)
        let dropped = try TraceFile.write(recorder, identity: identity, to: path)
        if dropped > 0 {
            Log.warning("trace: \(dropped) events were dropped after a thread's buffer of \(recorder.capacityPerThread) events filled; "
                        + "record fewer steps (--trace-steps A:B) or raise --trace-buffer")
        }
        if identity.rank == 0 { Log.main("trace written: \(path) (one file per rank; join them with `cohort trace merge`)") }
    }

    /// The error path: writes what was recorded, reporting (not throwing) a failure.
    func writeAfterError() {
        do { try write() } catch { Log.warning("trace: \(error)") }
    }
}
