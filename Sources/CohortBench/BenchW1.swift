// W1 of docs/benchmarks.md: the MLP 784-1024-1024-10, batch 256, SGD(0.01,
// momentum 0.9) on synthetic data from a fixed seed, timed by the shared harness,
// with achieved GFLOP/s and the share of the GEMM-only rate measured in the same run.
// W5, W6 and W8 train this model too.
import CohortCore
import CohortKernels
import CohortNN
import CohortOptim
import CohortTensor
import Foundation

/// The W1 model and data: MLP 784-1024-1024-10, batch 256, SGD(0.01, momentum 0.9).
struct W1Setup: TrainingWorkload {
    static let name = "W1 MLP train", metric = "samples/s"
    static let itemsPerStep = Double(batch), defaults = (steps: 40, warmup: 10)
    static let batch = 256, sizes = [784, 1024, 1024, 10]
    var training: SyntheticTraining<Sequential, SGD, (inputs: Tensor, labels: [Int])>
    var model: Sequential { training.model }
    var arena: ParameterArena { training.arena }
    var optimizer: SGD { training.optimizer }

    init(seed: UInt64) { self.init(seed: seed, batches: 8) }

    init(seed: UInt64, batches: Int) {
        training = SyntheticTraining(seed: seed, model: W1Setup.mlp, optimizer: { SGD($0, lr: 0.01, momentum: 0.9) }) {
            SyntheticBatches.labelled(&$0, count: batches, shape: [W1Setup.batch, 784], classes: 10)
        }
    }

    /// One training step; returns the loss.
    @discardableResult
    mutating func step() throws -> Float { try step(beforeUpdate: {}) }

    /// One training step, calling `beforeUpdate` between backward and the optimizer step; returns the loss.
    @discardableResult
    mutating func step(beforeUpdate: () throws -> Void = {}) throws -> Float {
        try training.step(beforeUpdate: beforeUpdate) { model, b in try Loss.crossEntropy(model(b.inputs), b.labels) }
    }

    /// The MLP 784 → 1024 → 1024 → 10 with ReLU between layers, built as `cohort train --model mlp` builds it.
    static func mlp(generator: inout RandomGenerator) -> Sequential {
        var layers: [any Module] = [Flatten()]
        var width = sizes[0]
        for h in sizes.dropFirst().dropLast() {
            layers.append(Linear(width, h, generator: &generator))
            layers.append(ReLU())
            width = h
        }
        layers.append(Linear(width, sizes[sizes.count - 1], generator: &generator))
        return Sequential(layers)
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

    /// The GEMM-only rate: the same GEMM shapes and transposes, alone, in the same run.
    func reference(steps: Int, threads: Int) -> Double? { W1Setup.gemmOnlySeconds(steps: max(steps / 4, 5)) }

    func extras(_ run: TrainingRun) -> [(String, Any)] {
        let gemmSPS = Double(W1Setup.batch) / (run.reference ?? .nan)
        return [("gflops", (run.median / Double(W1Setup.batch) * W1Setup.flopsPerStep / 1e9).rounded(to: 1)),
                ("gemm_only_samples_per_s", gemmSPS.rounded(to: 0)),
                ("share_of_gemm_rate", (run.median / gemmSPS).rounded(to: 3)),
                ("blas_kernel", BLAS.coreName), ("params", arena.tensors.reduce(0) { $0 + $1.count }),
                ("batch", W1Setup.batch), ("steps_per_repeat", run.steps), ("warmup", run.warmup),
                ("final_loss", Double(run.finalLoss))]
    }

    /// Median seconds per step of only the GEMMs a W1 step performs.
    static func gemmOnlySeconds(steps: Int) -> Double {
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
        return benchMedian(times)
    }
}
