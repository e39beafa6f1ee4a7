// `cohort bench w3` and `w10`: GPT training throughput (docs/benchmarks.md W3, and
// W10 at GPT-2 small's shape), the same configurations as ../shared/bench/peers/
// w3_gpt.py and w10_gpt2.py: synthetic tokens from a fixed seed, AdamW (weight
// decay 0.1 on every parameter), warm-up, timed repeats, median tokens/s, achieved
// GFLOP/s and the time the step's dense-layer GEMMs take alone on the same shapes
// in the same run (W3; skipped at W10's size, where it would double the run).
import CohortCore
import CohortKernels
import CohortNN
import CohortOptim
import CohortTensor
import Foundation

/// A GPT benchmark's shape: its model, batch, learning rate and default steps.
protocol GPTBenchShape {
    static var name: String { get }
    static var config: GPTConfig { get }
    static var batch: Int { get }
    static var learningRate: Float { get }
    static var defaults: (steps: Int, warmup: Int) { get }
    /// Whether to time the dense GEMMs alone as the reference (costly at real size).
    static var measuresGEMMs: Bool { get }
}

/// W3: vocabulary 65, context 128, 4 layers, 4 heads, d 256; batch 16; AdamW 3e-4.
enum W3Shape: GPTBenchShape {
    static let name = "W3 GPT train", config = GPTConfig.w3, batch = 16, learningRate: Float = 3e-4
    static let defaults = (steps: 4, warmup: 3), measuresGEMMs = true
}

/// W10: GPT-2 small's shape (vocabulary 50304, 12 layers, 12 heads, d 768: 124M parameters),
/// context 256, batch 4; AdamW 6e-4.
enum W10Shape: GPTBenchShape {
    static let name = "W10 GPT-2-small train", batch = 4, learningRate: Float = 6e-4
    static let config = GPTConfig(vocabSize: 50304, contextLength: 256, layers: 12, heads: 12, dModel: 768)
    static let defaults = (steps: 2, warmup: 1), measuresGEMMs = false
}

/// `cohort bench w3`.
typealias W3Setup = GPTWorkload<W3Shape>
/// `cohort bench w10`.
typealias W10Setup = GPTWorkload<W10Shape>

/// A GPT of `Shape`, its optimizer and synthetic data.
struct GPTWorkload<Shape: GPTBenchShape>: TrainingWorkload {
    static var name: String { Shape.name }
    static var metric: String { "tokens/s" }
    static var defaults: (steps: Int, warmup: Int) { Shape.defaults }
    static var itemsPerStep: Double { Double(batch * config.contextLength) }
    static var batch: Int { Shape.batch }
    static var config: GPTConfig { Shape.config }
    var training: SyntheticTraining<GPT, Adam, (tokens: [Int], targets: [Int])>
    /// Every step's loss, in order (warm-up included).
    var losses: [Float] = []
    /// `--text`'s file, when the batches are its bytes.
    var text: String?

    init(seed: UInt64) throws { try self.init(seed: seed, batches: 4) }

    init(seed: UInt64, batches: Int) throws {
        training = try SyntheticTraining(seed: seed, model: { try GPT(Shape.config, generator: &$0) },
                                         optimizer: { AdamW($0, lr: Shape.learningRate, weightDecay: 0.1) }) {
            SyntheticBatches.tokens(&$0, count: batches, length: Shape.batch * Shape.config.contextLength, vocabulary: Shape.config.vocabSize)
        }
    }

    /// One training step on the next synthetic batch; returns the loss.
    @discardableResult
    mutating func step() throws -> Float {
        let loss = try training.step { model, b in try model.loss(tokens: b.tokens, targets: b.targets, batch: Shape.batch) }
        losses.append(loss)
        return loss
    }

    /// `--checkpoint-activations`: the blocks recompute their activations in backward.
    mutating func configure(_ s: BenchSettings) throws {
        training.model.checkpointActivations = s.checkpointActivations
        if let path = s.text {
            training.batches = try Self.textBatches(path, count: 16, seed: s.seed)
            text = path
        }
    }

    /// `count` batches of windows of `path`'s bytes at seeded offsets: each byte is a token of the
    /// file's character vocabulary (its distinct bytes, in order, inside the model's), the next byte its target.
    static func textBatches(_ path: String, count: Int, seed: UInt64) throws -> [(tokens: [Int], targets: [Int])] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CohortError.badFlag(flag: "--text", "cannot read \(path)")
        }
        let bytes = [UInt8](data), t = config.contextLength
        guard bytes.count > t + 1 else {
            throw CohortError.badFlag(flag: "--text", "\(path) holds \(bytes.count) bytes; a window needs \(t + 1) (context \(t) and the next byte)")
        }
        // A character vocabulary: the file's distinct bytes in order, as W3's peer reads its text.
        let distinct = Set(bytes).sorted()
        guard distinct.count <= config.vocabSize else {
            throw CohortError.badFlag(flag: "--text", "\(path) holds \(distinct.count) distinct bytes, more than this model's vocabulary of \(config.vocabSize) tokens")
        }
        var id = [Int](repeating: 0, count: 256)
        for (i, b) in distinct.enumerated() { id[Int(b)] = i }
        var g = RandomGenerator(seed: seed &+ 2)
        return (0..<count).map { _ in
            var tokens: [Int] = [], targets: [Int] = []
            for _ in 0..<batch {
                let o = g.nextInt(below: bytes.count - t)
                tokens += bytes[o..<(o + t)].map { id[Int($0)] }
                targets += bytes[(o + 1)...(o + t)].map { id[Int($0)] }
            }
            return (tokens, targets)
        }
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

    func reference(steps: Int, threads: Int) -> Double? { Shape.measuresGEMMs ? Self.denseGEMMSeconds(steps: max(steps, 2)) : nil }

    func extras(_ run: TrainingRun) -> [(String, Any)] {
        let stepSeconds = Self.itemsPerStep / run.median
        let gemm: [(String, Any)] = run.reference.map { [("dense_gemm_ms", ($0 * 1e3).rounded(to: 1)),
                                                         ("dense_gemm_share", ($0 / stepSeconds).rounded(to: 3))] } ?? []
        return [("gflops", (Self.flopsPerStep / stepSeconds / 1e9).rounded(to: 1)),
                ("step_ms", (stepSeconds * 1e3).rounded(to: 1)),
                ("step_cpu_ms", (run.cpuSecondsPerStep * 1e3).rounded(to: 1))] + gemm + [
                ("blas_kernel", BLAS.coreName), ("params", training.model.parameterCount),
                ("batch", Self.batch), ("ctx", Self.config.contextLength),
                ("checkpoint_activations", training.model.checkpointActivations),
                // Where the memory goes: the tensors' buffers at their high-water mark, and the
                // buffers kept for reuse at the end (both count in peak RSS).
                ("peak_tensor_mib", (Double(Storage.memoryStatistics.peakLiveBytes) / 1_048_576).rounded(to: 1)),
                ("buffer_cache_mib", (Double(Storage.memoryStatistics.cachedBytes) / 1_048_576).rounded(to: 1)),
                ("steps_per_repeat", run.steps), ("warmup", run.warmup), ("final_loss", Double(run.finalLoss)),
                ("first_loss", Double(losses.first ?? .nan)), ("expected_initial_loss", log(Double(Self.config.vocabSize)).rounded(to: 3)),
                ("data", text ?? "random tokens")]
    }

    /// Median seconds per step of only the dense layers' GEMMs (forward, weight and input
    /// gradients, same shapes and transposes as `Tensor.linear`), measured alone.
    static func denseGEMMSeconds(steps: Int) -> Double {
        let rows = Self.batch * Self.config.contextLength
        let buffers = Self.linearShapes.map { (i, o) in
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
