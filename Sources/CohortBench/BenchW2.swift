// `cohort bench w2`: W2 of docs/benchmarks.md — the LeNet-style CNN on 1×28×28
// inputs, batch 64, Adam 1e-3, synthetic data from a fixed seed; warm-up, timed
// repeats, median samples/s, achieved GFLOP/s and the share of the rate of the
// same GEMMs (same shapes, same chunking) timed alone in the same run.
import CohortCore
import CohortKernels
import CohortNN
import CohortOptim
import CohortTensor
import Foundation

/// The W2 model and data: `ConvModels.leNet`, batch 64, Adam(lr 1e-3).
struct W2Setup: TrainingWorkload {
    static let name = "W2 CNN train", metric = "samples/s"
    static let defaults = (steps: 40, warmup: 10)
    static var itemsPerStep: Double { Double(batch) }
    static let batch = 64
    var training: SyntheticTraining<Sequential, Adam, (inputs: Tensor, labels: [Int])>

    init(seed: UInt64) { self.init(seed: seed, batches: 8) }

    init(seed: UInt64, batches: Int) {
        training = SyntheticTraining(seed: seed, model: { ConvModels.leNet(classes: 10, generator: &$0) }, optimizer: { Adam($0, lr: 1e-3) }) {
            SyntheticBatches.labelled(&$0, count: batches, shape: [W2Setup.batch, 1, 28, 28], classes: 10)
        }
    }

    /// One training step; returns the loss.
    @discardableResult
    mutating func step() throws -> Float {
        try training.step { model, b in try Loss.crossEntropy(model(b.inputs), b.labels) }
    }

    /// The two convolutions of W2 (the input needs no gradient, so conv1 has no dX).
    static let convs = [
        ConvGeometry(channels: 1, height: 28, width: 28, outChannels: 32, kernel: (3, 3), stride: (1, 1), padding: (0, 0),
                     dilation: (1, 1), groups: 1),
        ConvGeometry(channels: 32, height: 13, width: 13, outChannels: 64, kernel: (3, 3), stride: (1, 1), padding: (0, 0),
                     dilation: (1, 1), groups: 1),
    ]
    static let linears = [(1600, 128), (128, 10)]

    /// FLOPs of one step: each convolution's and linear layer's forward, weight-gradient
    /// and (except the first convolution) input-gradient products.
    static var flopsPerStep: Double {
        var f = 0.0
        for (l, c) in convs.enumerated() {
            f += 2.0 * Double(batch * c.outChannels * c.groupK * c.outPixels) * (l == 0 ? 2 : 3)
        }
        for (i, o) in linears { f += 2.0 * Double(batch * i * o) * 3 }
        return f
    }

    func reference(steps: Int, threads: Int) -> Double? { W2Setup.gemmOnlySeconds(steps: max(steps / 4, 5)) }

    func extras(_ run: TrainingRun) -> [(String, Any)] {
        let gemmSPS = Double(W2Setup.batch) / (run.reference ?? .nan)
        return [("gflops", (run.median / Double(W2Setup.batch) * W2Setup.flopsPerStep / 1e9).rounded(to: 1)),
                ("gemm_only_samples_per_s", gemmSPS.rounded(to: 0)),
                ("share_of_gemm_rate", (run.median / gemmSPS).rounded(to: 3)),
                ("blas_kernel", BLAS.coreName), ("params", training.model.parameterCount),
                ("batch", W2Setup.batch), ("steps_per_repeat", run.steps), ("warmup", run.warmup),
                ("final_loss", Double(run.finalLoss))]
    }

    /// Median seconds per step of only the GEMMs a W2 step performs, with the chunk
    /// shapes `Conv` uses.
    static func gemmOnlySeconds(steps: Int) -> Double {
        let b = W2Setup.batch
        struct Call { let ta: Bool, tb: Bool, m: Int, n: Int, k: Int }
        var calls: [Call] = []
        for (l, g) in W2Setup.convs.enumerated() {
            let nbMax = Conv.chunkSamples(g, batch: b)
            var n0 = 0
            while n0 < b {
                let ld = min(nbMax, b - n0) * g.outPixels
                calls.append(Call(ta: false, tb: false, m: g.outChannels, n: ld, k: g.groupK))
                for k0 in stride(from: 0, to: ld, by: 2048) {   // dW in k-pieces of ≤ 2048, as Conv.backward
                    calls.append(Call(ta: false, tb: true, m: g.outChannels, n: g.groupK, k: min(2048, ld - k0)))
                }
                if l > 0 { calls.append(Call(ta: true, tb: false, m: g.groupK, n: ld, k: g.outChannels)) }
                n0 += nbMax
            }
        }
        for (i, o) in W2Setup.linears {   // both linear layers need dX (conv2's output feeds the first)
            calls.append(Call(ta: false, tb: true, m: b, n: o, k: i))
            calls.append(Call(ta: true, tb: false, m: o, n: i, k: b))
            calls.append(Call(ta: false, tb: false, m: b, n: i, k: o))
        }
        let maxCount = calls.map { max($0.m * $0.k, $0.k * $0.n, $0.m * $0.n) }.max() ?? 1
        let a = Storage(zeros: maxCount), bb = Storage(zeros: maxCount), c = Storage(zeros: maxCount)
        var times: [Double] = []
        for _ in 0..<5 {
            let t0 = monotonicSeconds()
            for _ in 0..<steps {
                for call in calls {
                    BLAS.sgemm(transA: call.ta, transB: call.tb, m: call.m, n: call.n, k: call.k, alpha: 1,
                               a: a.pointer, lda: call.ta ? call.m : call.k, b: bb.pointer, ldb: call.tb ? call.k : call.n,
                               beta: 1, c: c.pointer, ldc: call.n)
                }
            }
            times.append((monotonicSeconds() - t0) / Double(steps))
        }
        return benchMedian(times)
    }
}
