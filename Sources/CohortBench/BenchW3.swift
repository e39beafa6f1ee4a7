// `cohort bench w3`: GPT training throughput (docs/benchmarks.md W3), the same
// configuration as ../shared/bench/peers/w3_gpt.py: synthetic tokens from a fixed
// seed, batch 16 × 128, AdamW(3e-4, weight decay 0.1 on every parameter),
// warm-up, timed repeats, median tokens/s, achieved GFLOP/s and the time the
// step's dense-layer GEMMs take alone on the same shapes in the same run.
import CohortCore
import CohortKernels
import CohortNN
import CohortOptim
import CohortTensor
import Foundation

/// The W3 model, optimizer and data.
struct W3Setup: TrainingWorkload {
    static let name = "W3 GPT train", metric = "tokens/s"
    static let defaults = (steps: 4, warmup: 3)
    static var itemsPerStep: Double { Double(batch * config.contextLength) }
    static let batch = 16
    static let config = GPTConfig.w3
    var training: SyntheticTraining<GPT, Adam, (tokens: [Int], targets: [Int])>

    init(seed: UInt64) throws { try self.init(seed: seed, batches: 4) }

    init(seed: UInt64, batches: Int) throws {
        training = try SyntheticTraining(seed: seed, model: { try GPT(W3Setup.config, generator: &$0) },
                                         optimizer: { AdamW($0, lr: 3e-4, weightDecay: 0.1) }) {
            SyntheticBatches.tokens(&$0, count: batches, length: W3Setup.batch * W3Setup.config.contextLength, vocabulary: W3Setup.config.vocabSize)
        }
    }

    /// One training step on the next synthetic batch; returns the loss.
    @discardableResult
    mutating func step() throws -> Float {
        try training.step { model, b in try model.loss(tokens: b.tokens, targets: b.targets, batch: W3Setup.batch) }
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

    func reference(steps: Int, threads: Int) -> Double? { W3Setup.denseGEMMSeconds(steps: max(steps, 2)) }

    func extras(_ run: TrainingRun) -> [(String, Any)] {
        let gemmSeconds = run.reference ?? .nan
        let stepSeconds = W3Setup.itemsPerStep / run.median
        return [("gflops", (W3Setup.flopsPerStep / stepSeconds / 1e9).rounded(to: 1)),
                ("step_ms", (stepSeconds * 1e3).rounded(to: 1)),
                ("step_cpu_ms", (run.cpuSecondsPerStep * 1e3).rounded(to: 1)),
                ("dense_gemm_ms", (gemmSeconds * 1e3).rounded(to: 1)),
                ("dense_gemm_share", (gemmSeconds / stepSeconds).rounded(to: 3)),
                ("blas_kernel", BLAS.coreName), ("params", training.model.parameterCount),
                ("batch", W3Setup.batch), ("ctx", W3Setup.config.contextLength),
                ("steps_per_repeat", run.steps), ("warmup", run.warmup), ("final_loss", Double(run.finalLoss))]
    }

    /// Median seconds per step of only the dense layers' GEMMs (forward, weight and input
    /// gradients, same shapes and transposes as `Tensor.linear`), measured alone.
    static func denseGEMMSeconds(steps: Int) -> Double {
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
        return benchMedian(times)
    }
}
