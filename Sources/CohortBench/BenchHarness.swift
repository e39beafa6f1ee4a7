// The one timing and reporting harness of the benchmarks (docs/benchmarks.md): the
// settings every workload takes, the training-throughput loop W1–W4 share (warm-up,
// an untimed reference, timed repeats, one final step), the result line (median,
// min, max; text or the peers' RESULT JSON) and the helpers around them.
import CohortCollectives
import CohortCore
import CohortProcess
import CohortStats
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `cohort bench` was asked for; each workload reads the fields it uses.
public struct BenchSettings: Sendable {
    /// BLAS threads.
    public var threads = 1
    /// Steps per timed repeat (W1–W5), steps of the asynchronous-save run (W6) or calls per repeat (W7); nil: the workload's default.
    public var steps: Int?
    /// Untimed warm-up steps; nil: the workload's default.
    public var warmup: Int?
    /// Timed repeats (the median is reported).
    public var repeats = 7
    /// Seed of the synthetic data and the model.
    public var seed: UInt64 = 0
    /// Print one RESULT JSON object per result line.
    public var json = false
    /// W6's directory.
    public var directory = NSTemporaryDirectory()
    /// Ranks for `allreduce`.
    public var ranks = 2
    /// W5's gradient bucket size in MB.
    public var bucketMB = 25.0
    /// W7: the MLP quantized to int8 (adds a batch-64 throughput result).
    public var int8 = false
    /// `allreduce`: measure this algorithm (hierarchical or auto) against flat MPI_Allreduce
    /// instead of the plain wrapper.
    public var allreduce: AllreduceAlgorithm?
    /// W3/W10: activation checkpointing of the GPT's blocks (`--checkpoint-activations`).
    public var checkpointActivations = false
    /// W3/W10: train on windows of this text file (character-level tokens — its distinct bytes —
    /// inside the model's vocabulary, next-character targets) instead of random tokens (`--text`).
    public var text: String?

    public init() {}
}

/// A training workload timed by `runTrainingBench`: a model, an optimizer and
/// synthetic batches from a seed, stepped in place.
protocol TrainingWorkload {
    /// The result line's workload name, e.g. "W1 MLP train".
    static var name: String { get }
    /// "samples/s" or "tokens/s".
    static var metric: String { get }
    /// Samples or tokens per step.
    static var itemsPerStep: Double { get }
    /// The default steps per repeat and warm-up steps.
    static var defaults: (steps: Int, warmup: Int) { get }
    init(seed: UInt64) throws
    /// One training step on the next batch; returns the loss.
    mutating func step() throws -> Float
    /// Measured after the warm-up and before the timed repeats (the GEMM-only
    /// seconds per step); nil when the workload has none at these settings.
    func reference(steps: Int, threads: Int) -> Double?
    /// The result line's extra fields, in order.
    func extras(_ run: TrainingRun) -> [(String, Any)]
    /// Applies the settings a workload reads beyond the common ones (W3/W10: activation
    /// checkpointing); throws for one it does not take.
    mutating func configure(_ s: BenchSettings) throws
}

extension TrainingWorkload {
    func configure(_ s: BenchSettings) throws {
        if s.checkpointActivations {
            throw CohortError.badFlag(flag: "--checkpoint-activations", "applies to the GPT workloads w3 and w10, not to \(Self.name)")
        }
        if s.text != nil { throw CohortError.badFlag(flag: "--text", "applies to the GPT workloads w3 and w10, not to \(Self.name)") }
    }
}

/// What the harness measured, for a workload's `extras`.
struct TrainingRun {
    let settings: BenchSettings, steps: Int, warmup: Int
    /// The median rate of the timed repeats.
    let median: Double
    /// The median CPU seconds (all threads) per step.
    let cpuSecondsPerStep: Double
    let reference: Double?
    let finalLoss: Float
}

/// Warm-up, the workload's reference, `repeats` timed runs of `steps` steps (items per
/// second, and CPU time per step), one more step for the final loss; prints the result.
func runTrainingBench<W: TrainingWorkload>(_: W.Type, _ s: BenchSettings) throws {
    let steps = s.steps ?? W.defaults.steps, warmup = s.warmup ?? W.defaults.warmup
    var w = try W(seed: s.seed)
    try w.configure(s)
    for _ in 0..<warmup { _ = try w.step() }
    let reference = w.reference(steps: steps, threads: s.threads)
    var rates: [Double] = [], cpuSeconds: [Double] = []
    for _ in 0..<s.repeats {
        let t0 = monotonicSeconds(), c0 = processCPUSeconds()
        for _ in 0..<steps { _ = try w.step() }
        rates.append(Double(steps) * W.itemsPerStep / (monotonicSeconds() - t0))
        cpuSeconds.append((processCPUSeconds() - c0) / Double(steps))
    }
    let finalLoss = try w.step()
    var r = BenchResult(workload: W.name, threads: s.threads, metric: W.metric, unit: W.metric, values: rates)
    r.extra = w.extras(TrainingRun(settings: s, steps: steps, warmup: warmup, median: r.median,
                                   cpuSecondsPerStep: benchMedian(cpuSeconds), reference: reference, finalLoss: finalLoss))
    r.emit(json: s.json)
}

/// Median, min and max of repeat measurements, printed as text or the peers' RESULT JSON.
struct BenchResult {
    var workload: String, threads: Int, metric: String, unit: String
    var values: [Double]
    var extra: [(String, Any)] = []

    var median: Double { benchMedian(values) }

    func emit(json: Bool) {
        if json {
            var obj: [String: Any] = ["workload": workload, "threads": threads, "metric": metric, "unit": unit,
                                      "median": median, "min": values.min() ?? 0, "max": values.max() ?? 0,
                                      "n": values.count, "values": values, "peak_rss_mib": peakRSSMiB(),
                                      "loadavg_end": loadAverage()]
            for (k, v) in extra { obj[k] = v }
            // JSON has no NaN or infinity: such a figure (a workload that measured nothing) is null.
            for (k, v) in obj { if let d = v as? Double, !d.isFinite { obj[k] = NSNull() } }
            let data = try! JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
            print("RESULT " + String(decoding: data, as: UTF8.self))
        } else {
            var line = String(format: "%@ threads=%d %@: median %.4g %@ (min %.4g, max %.4g, n=%d)",
                              workload, threads, metric, median, unit, values.min() ?? 0, values.max() ?? 0, values.count)
            for (k, v) in extra { line += " \(k)=\(v)" }
            print(line)
        }
    }
}

/// CohortStats' median (the mean of the two middle values for an even count); NaN when
/// empty or when a value is not finite.
func benchMedian(_ xs: [Double]) -> Double { (try? CohortStats.median(xs)) ?? .nan }

/// Peak resident set size of this process in MiB (VmHWM).
func peakRSSMiB() -> Double { ProcessMemory.peakResidentMiB() }

/// The 1, 5 and 15 minute load averages (as the peer scripts record them).
func loadAverage() -> [Double] {
    guard let s = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return [] }
    return s.split(separator: " ").prefix(3).compactMap { Double($0) }
}

/// CPU time of this process (all threads), user + system, in seconds: on a shared
/// machine, wall time also counts the time other processes held the cores.
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Runs `args` (through /usr/bin/env) and returns its standard output; on a
/// non-zero exit, throws with the command and the last lines of its standard error.
func runCapturing(_ args: [String], what: String) throws -> String {
    let r = try runChild(["/usr/bin/env"] + args, stdout: .capture, stderr: .capture)
    guard r.status.processStatus == 0 else {
        let err = String(decoding: r.stderr, as: UTF8.self)
        let tail = err.split(separator: "\n").suffix(12).joined(separator: "\n")
        throw CohortError.invalidArgument("\(what): `\(args.joined(separator: " "))` exited with \(r.status.processStatus)\n\(tail)")
    }
    return String(decoding: r.stdout, as: UTF8.self)
}

extension Double {
    func rounded(to digits: Int) -> Double {
        let m = Foundation.pow(10.0, Double(digits))
        return (self * m).rounded() / m
    }
}
