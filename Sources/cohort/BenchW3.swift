// `cohort bench w3`: GPT training throughput (docs/benchmarks.md W3), the same
// configuration as ../shared/bench/peers/w3_gpt.py: synthetic tokens from a fixed
// seed, batch 16 × 128, AdamW(3e-4, weight decay 0.1 on every parameter),
// warm-up, timed repeats, median tokens/s, achieved GFLOP/s and the time the
// step's dense-layer GEMMs take alone on the same shapes in the same run.
import CohortCore
import CohortNN
import CohortOptim
import Foundation

/// The W3 model, optimizer and data.
struct W3Setup {
    static let batch = 16
    static let config = GPTConfig.w3
    let model: GPT
    let arena: ParameterArena
    let optimizer: Adam
    let tokens: [[Int]], targets: [[Int]]
    var next = 0

    init(seed: UInt64, batches: Int = 4) throws {
        var g = RandomGenerator(seed: seed)
        model = try GPT(W3Setup.config, generator: &g)
        arena = ParameterArena(model)
        optimizer = AdamW(arena, lr: 3e-4, weightDecay: 0.1)
        var d = RandomGenerator(seed: seed &+ 1)
        let n = W3Setup.batch * W3Setup.config.contextLength, v = W3Setup.config.vocabSize
        tokens = (0..<batches).map { _ in (0..<n).map { _ in d.nextInt(below: v) } }
        targets = (0..<batches).map { _ in (0..<n).map { _ in d.nextInt(below: v) } }
    }

    /// One training step on the next synthetic batch; returns the loss.
    @discardableResult
    mutating func step() throws -> Float {
        let i = next % tokens.count
        next += 1
        optimizer.zeroGrad()
        let loss = try model.loss(tokens: tokens[i], targets: targets[i], batch: W3Setup.batch)
        try loss.backward()
        optimizer.step()
        return try loss.item()
    }

    /// The dense layers as (in, out) feature pairs: per block c_attn, c_proj, c_fc, mlp c_proj; then the LM head.
    static var linearShapes: [(Int, Int)] {
        let d = config.dModel, h = config.mlpRatio * d
        return Array(repeating: [(d, 3 * d), (d, d), (d, h), (h, d)], count: config.layers).flatMap { $0 } + [(d, config.vocabSize)]
    }

    /// Model FLOPs of one training step: 6 per token and weight of every dense layer
    /// (forward, input and weight gradients), plus attention counted in full (T² per
    /// head, as PaLM's MFU convention) though the causal kernel skips most of the upper half.
    static var flopsPerStep: Double {
        let tokens = Double(batch * config.contextLength), t = Double(config.contextLength)
        let dense = 6 * tokens * Double(linearShapes.reduce(0) { $0 + $1.0 * $1.1 })
        let attention = 12 * Double(config.layers) * Double(config.dModel) * t * tokens
        return dense + attention
    }
}

struct W3Bench {
    let threads: Int, steps: Int, warmup: Int, repeats: Int, seed: UInt64, json: Bool

    func run() throws {
        var w = try W3Setup(seed: seed)
        for _ in 0..<warmup { try w.step() }
        let gemmSeconds = denseGEMMSeconds(steps: max(steps, 2))
        var tps: [Double] = [], cpuSeconds: [Double] = []
        let perStep = Double(W3Setup.batch * W3Setup.config.contextLength)
        for _ in 0..<repeats {
            let t0 = monotonicSeconds(), c0 = processCPUSeconds()
            for _ in 0..<steps { try w.step() }
            tps.append(Double(steps) * perStep / (monotonicSeconds() - t0))
            cpuSeconds.append((processCPUSeconds() - c0) / Double(steps))
        }
        let finalLoss = try w.step()
        var r = BenchResult(workload: "W3 GPT train", threads: threads, metric: "tokens/s", unit: "tokens/s", values: tps)
        let med = r.median
        let stepSeconds = perStep / med
        r.extra = [("gflops", (W3Setup.flopsPerStep / stepSeconds / 1e9).rounded(to: 1)),
                   ("step_ms", (stepSeconds * 1e3).rounded(to: 1)),
                   ("step_cpu_ms", (median(cpuSeconds) * 1e3).rounded(to: 1)),
                   ("dense_gemm_ms", (gemmSeconds * 1e3).rounded(to: 1)),
                   ("dense_gemm_share", (gemmSeconds / stepSeconds).rounded(to: 3)),
                   ("blas_kernel", BLAS.coreName), ("params", w.model.parameterCount),
                   ("batch", W3Setup.batch), ("ctx", W3Setup.config.contextLength),
                   ("steps_per_repeat", steps), ("warmup", warmup), ("final_loss", Double(finalLoss))]
        r.emit(json: json)
    }

    /// Median seconds per step of only the dense layers' GEMMs (forward, weight and input
    /// gradients, same shapes and transposes as `Tensor.linear`), measured alone.
    func denseGEMMSeconds(steps: Int) -> Double {
        let rows = W3Setup.batch * W3Setup.config.contextLength
        let buffers = W3Setup.linearShapes.map { (i, o) in
            (i: i, o: o, x: Storage(zeros: rows * i), w: Storage(zeros: o * i), y: Storage(zeros: rows * o), dx: Storage(zeros: rows * i))
        }
        var times: [Double] = []
        for _ in 0..<5 {
            let t0 = monotonicSeconds()
            for _ in 0..<steps {
                for b in buffers {
                    BLAS.sgemm(transA: false, transB: true, m: rows, n: b.o, k: b.i, alpha: 1, a: b.x.pointer, lda: b.i,
                               b: b.w.pointer, ldb: b.i, beta: 1, c: b.y.pointer, ldc: b.o)
                    BLAS.sgemm(transA: true, transB: false, m: b.o, n: b.i, k: rows, alpha: 1, a: b.y.pointer, lda: b.o,
                               b: b.x.pointer, ldb: b.i, beta: 1, c: b.w.pointer, ldc: b.i)
                    BLAS.sgemm(transA: false, transB: false, m: rows, n: b.i, k: b.o, alpha: 1, a: b.y.pointer, lda: b.o,
                               b: b.w.pointer, ldb: b.i, beta: 0, c: b.dx.pointer, ldc: b.i)
                }
            }
            times.append((monotonicSeconds() - t0) / Double(steps))
        }
        return times.sorted()[times.count / 2]
    }
}

/// CPU time of this process (all threads), user + system, in seconds: on a shared
/// machine, wall time also counts the time other processes held the cores.
func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}
