// The benchmarks' entry point: runs one reference workload of docs/benchmarks.md
// by name and prints its result lines (`cohort bench` is a thin command over this).
import CohortCore

/// The reference workloads: W1–W4 training throughput on one harness, W5 2-rank
/// weak scaling, W6 checkpoint save/load, W7 inference latency, W8 start-up, allreduce.
public enum Benchmarks {
    /// The workload names `run` accepts.
    public static let names = ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w10", "allreduce"]

    /// Runs `workload` (one of `names`, any case) with `settings` and prints its results.
    /// - Parameters:
    ///   - worker: the rank side of W5 and allreduce (started under mpirun by the orchestrator).
    ///   - w8Child: the child side of W8 (started by the orchestrator).
    /// - Throws: `CohortError.invalidParameter` naming `workload` for an unknown name;
    ///   whatever the workload throws.
    public static func run(_ workload: String, _ s: BenchSettings, worker: Bool = false, w8Child: Bool = false) throws {
        switch workload.lowercased() {
        case "w1": try runTrainingBench(W1Setup.self, s)
        case "w2": try runTrainingBench(W2Setup.self, s)
        case "w3": try runTrainingBench(W3Setup.self, s)
        case "w10": try runTrainingBench(W10Setup.self, s)
        case "w4": try runTrainingBench(W4Setup.self, s)
        case "w5": try W5Bench(steps: s.steps ?? 20, repeats: min(s.repeats, 9), json: s.json, worker: worker, bucketMB: s.bucketMB).run()
        case "allreduce": try AllreduceBench(ranks: s.ranks, rounds: min(s.repeats, 3), json: s.json, worker: worker, algorithm: s.allreduce).run()
        case "w6": try W6Bench(repeats: min(s.repeats, 5), directory: s.directory, json: s.json, asyncSteps: s.steps ?? 60).run()
        case "w7": try W7Bench(threads: s.threads, calls: s.steps ?? 2000, warmup: s.warmup ?? 200, repeats: s.repeats, seed: s.seed, json: s.json, int8: s.int8).run()
        case "w8": try W8Bench(threads: s.threads, repeats: s.repeats, child: w8Child, json: s.json).run()
        default: throw CohortError.invalidParameter(name: "workload", "unknown workload '\(workload)'; known: \(names.joined(separator: ", "))")
        }
    }
}
