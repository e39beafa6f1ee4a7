// `cohort bench w1…w8|w10|allreduce`: the reference workloads of docs/benchmarks.md
// (CohortBench runs them; this command maps its flags onto `BenchSettings`).
import ArgumentParser
import CohortBench
import CohortCollectives
import CohortCore
import CohortKernels
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a reference workload (docs/benchmarks.md): w1 MLP, w2 CNN, w3 GPT, w4 char-LSTM training; w10 the GPT at GPT-2 small size (124M parameters); w5 2-rank weak scaling; w6 checkpoint save/load; w7 batch-1 inference latency; w8 start-up to first step; allreduce.")

    @Argument(help: "Workload: w1, w2, w3, w4, w5, w6, w7, w8, w10 or allreduce.") var workload: String
    @Option(help: "Directory for W6's files (default: the system temporary directory).") var dir = NSTemporaryDirectory()
    @Option(parsing: .unconditional, help: "BLAS threads.") var threads: Int = 1
    @Option(parsing: .unconditional, help: "Steps per timed repeat (W1–W5), steps of the asynchronous-save run (W6) or calls per repeat (W7).") var steps: Int?
    @Option(parsing: .unconditional, help: "Untimed warm-up steps.") var warmup: Int?
    @Option(parsing: .unconditional, help: "Timed repeats (median reported).") var repeats: Int = 7
    @Option(parsing: .unconditional, help: "Seed for the synthetic data and the model.") var seed: UInt64 = 0
    @Flag(help: "Print one JSON object per result line (the peer scripts' RESULT format).") var json = false
    @Flag(help: "w7: the MLP quantized to int8 (dynamic activations; kernel as `cohort doctor` prints); also batch-64 throughput.") var int8 = false
    @Flag(help: .hidden) var w8Child = false
    @Flag(help: .hidden) var worker = false
    @Option(parsing: .unconditional, help: "Ranks for `allreduce` (launched with mpirun).") var np = 2
    @Option(help: "allreduce: measure this algorithm (hierarchical or auto; nodes from MPI or COHORT_NODE_SIZE) against flat MPI_Allreduce instead of the plain wrapper.") var allreduce: String?
    @Option(name: .customLong("bucket-mb"), parsing: .unconditional, help: "Gradient bucket size for w5, in MB.") var bucketMB: Double = 25
    @Option(name: .customLong("text"), help: "w3, w10: train on windows of this text file (its distinct bytes as character tokens inside the model's vocabulary, next-character targets) instead of random tokens; the result adds the first and last losses.") var text: String?
    @Flag(name: .customLong("checkpoint-activations"), help: "w3, w10: the GPT's blocks keep only their input and recompute their activations in backward (less memory, more compute).") var checkpointActivations = false

    func run() throws {
        if !worker { try BLASRuntime.configureThreads(requested: threads) }
        guard Benchmarks.names.contains(workload.lowercased()) else {
            throw CohortError.badFlag(flag: "workload", "unknown workload '\(workload)'; known: w1, w2, w3, w4, w5, w6, w7, w8, w10, allreduce")
        }
        var s = BenchSettings()
        s.threads = threads
        s.steps = steps
        s.warmup = warmup
        s.repeats = repeats
        s.seed = seed
        s.json = json
        s.directory = dir
        s.ranks = np
        s.bucketMB = bucketMB
        s.int8 = int8
        if let allreduce {
            guard let a = AllreduceAlgorithm(rawValue: allreduce), a != .flat else {
                throw ValidationError("--allreduce must be hierarchical or auto (flat is the reference it is measured against), got '\(allreduce)'")
            }
            s.allreduce = a
        }
        s.checkpointActivations = checkpointActivations
        s.text = text
        do {
            try Benchmarks.run(workload, s, worker: worker, w8Child: w8Child)
        } catch let CohortError.badFlag(flag, message) {
            throw ValidationError("\(flag): \(message)")   // a usage mistake: exit 2, as every command's
        }
    }
}
