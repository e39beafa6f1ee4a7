// `cohort train --trace FILE`: the timeline flags (docs/trace.md) and the Trainer
// setting they make. Each rank writes FILE with `.rankN` inserted before its extension.
import ArgumentParser
import CohortTrainer

/// The flags of the timeline.
struct TraceFlags: ParsableArguments {
    @Option(name: .customLong("trace"), help: "Write a Chrome trace-event timeline (Perfetto, chrome://tracing) per rank: FILE with .rankN before its extension (trace.json → trace.rank0.json); join them with `cohort trace merge`. docs/trace.md.") var path: String?
    @Option(name: .customLong("trace-steps"), help: "With --trace: record only steps A through B (1-based, inclusive), e.g. 10:20, like torch.profiler's active window. Default: every step.") var steps: String?
    @Option(name: .customLong("trace-buffer"), help: "With --trace: events kept per thread (preallocated); later ones are dropped with a warning at the end.") var buffer = 200_000

    func validate() throws {
        if path == nil && (steps != nil || buffer != 200_000) { throw ValidationError("--trace-steps and --trace-buffer need --trace FILE") }
        if let path, path.isEmpty || path.hasSuffix("/") { throw ValidationError("--trace needs a file name, got '\(path)'") }
        guard buffer >= 1000 else { throw ValidationError("--trace-buffer must be at least 1000 events, got \(buffer)") }
        _ = try window()
    }

    /// `--trace-steps A:B` as a range (nil: every step).
    func window() throws -> ClosedRange<Int>? {
        guard let steps else { return nil }
        let parts = steps.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 1, b >= a else {
            throw ValidationError("--trace-steps must be A:B with 1 ≤ A ≤ B (e.g. 10:20), got '\(steps)'")
        }
        return a...b
    }

    /// The Trainer's trace setting (nil without --trace).
    func settings() throws -> TraceSettings? {
        guard let path else { return nil }
        var s = TraceSettings(path: path, steps: try window())
        s.eventsPerThread = buffer
        return s
    }
}
