// `cohort bench w1…w8|allreduce`: the reference workloads of docs/benchmarks.md with
// synthetic data from a fixed seed, warm-up, timed repeats, medians, achieved
// GFLOP/s and (W1) the share of the GEMM-only rate measured in the same run.
import ArgumentParser
import CohortCore
import CohortOptim
import CohortProcess
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a reference workload (docs/benchmarks.md): w1 MLP, w2 CNN, w3 GPT, w4 char-LSTM training; w5 2-rank weak scaling; w6 checkpoint save/load; w7 batch-1 inference latency; w8 start-up to first step; allreduce.")

    @Argument(help: "Workload: w1, w2, w3, w4, w5, w6, w7, w8 or allreduce.") var workload: String
    @Option(help: "Directory for W6's files (default: the system temporary directory).") var dir = NSTemporaryDirectory()
    @Option(parsing: .unconditional, help: "BLAS threads.") var threads: Int = 1
    @Option(parsing: .unconditional, help: "Steps per timed repeat (W1–W5), steps of the asynchronous-save run (W6) or calls per repeat (W7).") var steps: Int?
    @Option(parsing: .unconditional, help: "Untimed warm-up steps.") var warmup: Int?
    @Option(parsing: .unconditional, help: "Timed repeats (median reported).") var repeats: Int = 7
    @Option(parsing: .unconditional, help: "Seed for the synthetic data and the model.") var seed: UInt64 = 0
    @Flag(help: "Print one JSON object per result line (the peer scripts' RESULT format).") var json = false
    @Flag(help: .hidden) var w8Child = false
    @Flag(help: .hidden) var worker = false
    @Option(parsing: .unconditional, help: "Ranks for `allreduce` (launched with mpirun).") var np = 2
    @Option(name: .customLong("bucket-mb"), parsing: .unconditional, help: "Gradient bucket size for w5, in MB.") var bucketMB: Double = 25

    func run() throws {
        if !worker { try BLASRuntime.configureThreads(requested: threads) }
        switch workload.lowercased() {
        case "w1": try W1Bench(threads: threads, steps: steps ?? 40, warmup: warmup ?? 10, repeats: repeats, seed: seed, json: json).run()
        case "w4": try W4Bench(threads: threads, steps: steps ?? 20, warmup: warmup ?? 5, repeats: repeats, seed: seed, json: json).run()
        case "w2": try W2Bench(threads: threads, steps: steps ?? 40, warmup: warmup ?? 10, repeats: repeats, seed: seed, json: json).run()
        case "w3": try W3Bench(threads: threads, steps: steps ?? 4, warmup: warmup ?? 3, repeats: repeats, seed: seed, json: json).run()
        case "w5": try W5Bench(steps: steps ?? 20, repeats: min(repeats, 9), json: json, worker: worker, bucketMB: bucketMB).run()
        case "allreduce": try AllreduceBench(ranks: np, rounds: min(repeats, 3), json: json, worker: worker).run()
        case "w6": try W6Bench(repeats: min(repeats, 5), directory: dir, json: json, asyncSteps: steps ?? 60).run()
        case "w7": try W7Bench(threads: threads, calls: steps ?? 2000, warmup: warmup ?? 200, repeats: repeats, seed: seed, json: json).run()
        case "w8": try W8Bench(threads: threads, repeats: repeats, child: w8Child, json: json).run()
        default: throw CohortError.badFlag(flag: "workload", "unknown workload '\(workload)'; known: w1, w2, w3, w4, w5, w6, w7, w8, allreduce")
        }
    }
}

/// Median, min and max of repeat measurements, printed as text or the peers' RESULT JSON.
struct BenchResult {
    var workload: String, threads: Int, metric: String, unit: String
    var values: [Double]
    var extra: [(String, Any)] = []

    var median: Double { let s = values.sorted(); return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2 }

    func emit(json: Bool) {
        if json {
            var obj: [String: Any] = ["workload": workload, "threads": threads, "metric": metric, "unit": unit,
                                      "median": median, "min": values.min() ?? 0, "max": values.max() ?? 0,
                                      "n": values.count, "values": values, "peak_rss_mib": peakRSSMiB(),
                                      "loadavg_end": loadAverage()]
            for (k, v) in extra { obj[k] = v }
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

/// Peak resident set size of this process in MiB (VmHWM).
func peakRSSMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kb / 1024
    }
    return 0
}

/// The 1, 5 and 15 minute load averages (as the peer scripts record them).
func loadAverage() -> [Double] {
    guard let s = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return [] }
    return s.split(separator: " ").prefix(3).compactMap { Double($0) }
}

/// Monotonic seconds.

/// The middle value (upper middle for an even count); NaN when empty.
/// Items per second over `repeats` timed runs of `steps` calls of `step` (the benches' timing loop).
func timedRates(steps: Int, repeats: Int, itemsPerStep: Double, _ step: () throws -> Void) rethrows -> [Double] {
    try (0..<repeats).map { _ in
        let t0 = monotonicSeconds()
        for _ in 0..<steps { try step() }
        return Double(steps) * itemsPerStep / (monotonicSeconds() - t0)
    }
}

func median(_ xs: [Double]) -> Double { let s = xs.sorted(); return s.isEmpty ? .nan : s[s.count / 2] }

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

/// The W1 model and data: MLP 784-1024-1024-10, batch 256, SGD(0.01, momentum 0.9).
struct W1Setup {
    static let batch = 256, sizes = [784, 1024, 1024, 10]
    let model: Sequential
    let arena: ParameterArena
    let optimizer: SGD
    let inputs: [Tensor]
    let labels: [[Int]]
    var next = 0

    init(seed: UInt64, batches: Int = 8) {
        var g = RandomGenerator(seed: seed)
        model = ModelZoo.mlp(inputs: 784, hidden: [1024, 1024], classes: 10, generator: &g)
        arena = ParameterArena(model)
        optimizer = SGD(arena, lr: 0.01, momentum: 0.9)
        var d = RandomGenerator(seed: seed &+ 1)
        inputs = (0..<batches).map { _ in Tensor.randn([W1Setup.batch, 784], generator: &d) }
        labels = (0..<batches).map { _ in (0..<W1Setup.batch).map { _ in d.nextInt(below: 10) } }
    }

    /// One training step; returns the loss.
    @discardableResult
    mutating func step(beforeUpdate: () throws -> Void = {}) throws -> Float {
        let i = next % inputs.count
        next += 1
        optimizer.zeroGrad()
        let loss = try Loss.crossEntropy(model(inputs[i]), labels[i])
        try loss.backward()
        try beforeUpdate()
        optimizer.step()
        return try loss.item()
    }

    /// FLOPs of one training step: forward GEMMs, plus weight- and input-gradient GEMMs
    /// (no input gradient for the first layer).
    static var flopsPerStep: Double {
        var f = 0.0
        for l in 0..<(sizes.count - 1) {
            let mnk = 2.0 * Double(batch * sizes[l] * sizes[l + 1])
            f += mnk * (l == 0 ? 2 : 3)
        }
        return f
    }
}

struct W1Bench {
    let threads: Int, steps: Int, warmup: Int, repeats: Int, seed: UInt64, json: Bool

    func run() throws {
        var w = W1Setup(seed: seed)
        for _ in 0..<warmup { try w.step() }
        // The GEMM-only rate: the same GEMM shapes and transposes, alone, in the same run.
        let gemmSeconds = gemmOnlySeconds(steps: max(steps / 4, 5))
        let sps = try timedRates(steps: steps, repeats: repeats, itemsPerStep: Double(W1Setup.batch)) { try w.step() }
        let finalLoss = try w.step()
        var r = BenchResult(workload: "W1 MLP train", threads: threads, metric: "samples/s", unit: "samples/s", values: sps)
        let med = r.median
        let gemmSPS = Double(W1Setup.batch) / gemmSeconds
        r.extra = [("gflops", (med / Double(W1Setup.batch) * W1Setup.flopsPerStep / 1e9).rounded(to: 1)),
                   ("gemm_only_samples_per_s", gemmSPS.rounded(to: 0)),
                   ("share_of_gemm_rate", (med / gemmSPS).rounded(to: 3)),
                   ("blas_kernel", BLAS.coreName), ("params", w.arena.tensors.reduce(0) { $0 + $1.count }),
                   ("batch", W1Setup.batch), ("steps_per_repeat", steps), ("warmup", warmup),
                   ("final_loss", Double(finalLoss))]
        r.emit(json: json)
    }

    /// Median seconds per step of only the GEMMs a W1 step performs.
    func gemmOnlySeconds(steps: Int) -> Double {
        let b = W1Setup.batch, s = W1Setup.sizes
        let buffers = (0..<(s.count - 1)).map { l in
            (x: Storage(zeros: b * s[l]), w: Storage(zeros: s[l] * s[l + 1]), y: Storage(zeros: b * s[l + 1]))
        }
        var times: [Double] = []
        for _ in 0..<5 {
            let t0 = monotonicSeconds()
            for _ in 0..<steps {
                for (l, buf) in buffers.enumerated() {
                    let (inF, outF) = (s[l], s[l + 1])
                    // forward y = x Wᵀ; dW = dyᵀ x; dx = dy W
                    BLAS.sgemm(transA: false, transB: true, m: b, n: outF, k: inF, alpha: 1, a: buf.x.pointer, lda: inF,
                               b: buf.w.pointer, ldb: inF, beta: 1, c: buf.y.pointer, ldc: outF)
                    BLAS.sgemm(transA: true, transB: false, m: outF, n: inF, k: b, alpha: 1, a: buf.y.pointer, lda: outF,
                               b: buf.x.pointer, ldb: inF, beta: 1, c: buf.w.pointer, ldc: inF)
                    if l > 0 {
                        BLAS.sgemm(transA: false, transB: false, m: b, n: inF, k: outF, alpha: 1, a: buf.y.pointer, lda: outF,
                                   b: buf.w.pointer, ldb: inF, beta: 0, c: buf.x.pointer, ldc: inF)
                    }
                }
            }
            times.append((monotonicSeconds() - t0) / Double(steps))
        }
        return times.sorted()[times.count / 2]
    }
}

struct W7Bench {
    let threads: Int, calls: Int, warmup: Int, repeats: Int, seed: UInt64, json: Bool

    func run() throws {
        var g = RandomGenerator(seed: seed)
        let model = ModelZoo.mlp(inputs: 784, hidden: [1024, 1024], classes: 10, generator: &g)
        model.eval()
        let x = Tensor.randn([1, 784], generator: &g)
        try withNoGrad {
            for _ in 0..<warmup { _ = try model(x) }
            var lat: [Double] = []
            for _ in 0..<repeats {
                let t0 = monotonicSeconds()
                for _ in 0..<calls { _ = try model(x) }
                lat.append((monotonicSeconds() - t0) / Double(calls) * 1e6)
            }
            var r = BenchResult(workload: "W7 MLP infer b1", threads: threads, metric: "latency", unit: "us", values: lat)
            r.extra = [("calls_per_repeat", calls), ("blas_kernel", BLAS.coreName)]
            r.emit(json: json)
        }
    }
}

struct W8Bench {
    let threads: Int, repeats: Int, child: Bool, json: Bool

    func run() throws {
        if child {
            var w = W1Setup(seed: 0, batches: 1)
            try w.step()
            FileHandle.standardOutput.write(Data("FIRST_STEP_DONE\n".utf8))
            FileHandle.standardOutput.synchronizeFile()
            return
        }
        var secs: [Double] = []
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        for _ in 0..<repeats {
            let t0 = monotonicSeconds()
            let child = try ChildProcess(argv: [exe.path, "bench", "w8", "--w8-child", "--threads", "\(threads)"], stdout: .capture)
            let data = child.readOutput().stdout
            let t1 = monotonicSeconds()
            let status = child.wait().processStatus
            guard String(decoding: data, as: UTF8.self).contains("FIRST_STEP_DONE"), status == 0 else {
                throw CohortError.invalidArgument("w8: child run failed with status \(status)")
            }
            secs.append(t1 - t0)
        }
        var r = BenchResult(workload: "W8 start to first step", threads: threads, metric: "seconds", unit: "s", values: secs)
        r.extra = [("blas_kernel", BLAS.coreName)]
        r.emit(json: json)
    }
}

extension Double {
    func rounded(to digits: Int) -> Double {
        let m = Foundation.pow(10.0, Double(digits))
        return (self * m).rounded() / m
    }
}
