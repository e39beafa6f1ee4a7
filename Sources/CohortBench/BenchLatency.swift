// W7 (batch-1 inference latency of the W1 MLP) and W8 (start of a fresh process to
// its first W1 training step) of docs/benchmarks.md.
import CohortCore
import CohortKernels
import CohortNN
import CohortOptim
import CohortProcess
import CohortQuantize
import CohortTensor
import Foundation

struct W7Bench {
    let threads: Int, calls: Int, warmup: Int, repeats: Int, seed: UInt64, json: Bool
    /// The MLP quantized to int8 (dynamic activations), and a batch-64 throughput line after the latency.
    var int8 = false

    func run() throws {
        var g = RandomGenerator(seed: seed)
        let fp32 = W1Setup.mlp(generator: &g)
        fp32.eval()
        let model = int8 ? try Quantizer.quantize(fp32) : fp32
        let x = Tensor.randn([1, 784], generator: &g)
        let label = int8 ? "W7 MLP infer int8" : "W7 MLP infer"
        let kernel: [(String, Any)] = int8 ? [("int8_kernel", try Int8Kernel.selected().description)] : []
        try withNoGrad {
            for _ in 0..<warmup { _ = try model(x) }
            var lat: [Double] = []
            for _ in 0..<repeats {
                let t0 = monotonicSeconds()
                for _ in 0..<calls { _ = try model(x) }
                lat.append((monotonicSeconds() - t0) / Double(calls) * 1e6)
            }
            var r = BenchResult(workload: label + " b1", threads: threads, metric: "latency", unit: "us", values: lat)
            r.extra = [("calls_per_repeat", calls), ("blas_kernel", BLAS.coreName)] + kernel
            r.emit(json: json)
            guard int8 else { return }
            let batch = Tensor.randn([64, 784], generator: &g)
            let steps = max(calls / 20, 10)
            for _ in 0..<max(warmup / 20, 2) { _ = try model(batch) }
            var rates: [Double] = []
            for _ in 0..<repeats {
                let t0 = monotonicSeconds()
                for _ in 0..<steps { _ = try model(batch) }
                rates.append(Double(steps * 64) / (monotonicSeconds() - t0))
            }
            var t = BenchResult(workload: label + " b64", threads: threads, metric: "throughput", unit: "samples/s", values: rates)
            t.extra = [("calls_per_repeat", steps), ("blas_kernel", BLAS.coreName)] + kernel
            t.emit(json: json)
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
