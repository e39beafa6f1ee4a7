// `cohort bench w4`: the char-LSTM workload of docs/benchmarks.md (vocab 65,
// embedding 64, 1-layer LSTM 256, sequence 64, batch 32, Adam 1e-3) on
// synthetic tokens from a fixed seed: warm-up, timed repeats, median tokens/s,
// achieved GFLOP/s and the share of the GEMM-only rate measured in the same run.
import CohortCore
import CohortKernels
import CohortNN
import CohortOptim
import CohortTensor
import Foundation

/// The W4 model, optimizer and synthetic batches (as `w4_lstm.py`: 4 batches, initial state zeros).
struct W4Setup: TrainingWorkload {
    static let name = "W4 LSTM train", metric = "tokens/s"
    static let defaults = (steps: 20, warmup: 5)
    static var itemsPerStep: Double { Double(batch * seq) }
    static let vocab = 65, embedding = 64, hidden = 256, seq = 64, batch = 32
    var training: SyntheticTraining<CharLSTM, Adam, (tokens: [Int], targets: [Int])>

    init(seed: UInt64) throws { try self.init(seed: seed, batches: 4) }

    init(seed: UInt64, batches: Int) throws {
        training = try SyntheticTraining(seed: seed, model: {
            try CharLSTM(vocabularySize: W4Setup.vocab, embeddingDim: W4Setup.embedding, hidden: W4Setup.hidden, generator: &$0)
        }, optimizer: { Adam($0, lr: 1e-3) }) {
            SyntheticBatches.tokens(&$0, count: batches, length: W4Setup.batch * W4Setup.seq, vocabulary: W4Setup.vocab)
        }
    }

    /// One training step on the next batch; returns the loss.
    @discardableResult
    mutating func step() throws -> Float {
        try training.step { model, b in
            let (logits, _) = try model.forward(indices: b.tokens, batch: W4Setup.batch, steps: W4Setup.seq)
            return try Loss.crossEntropy(try logits.reshape([W4Setup.batch * W4Setup.seq, W4Setup.vocab]), b.targets)
        }
    }

    /// Nominal FLOPs of one training step, as PyTorch computes it: input, recurrent and head
    /// GEMMs, ×3 for forward + both backward products. (Cohort fuses the embedding lookup into
    /// the input projection and executes about a fifth fewer; `gflops` counts these nominal ones.)
    static var flopsPerStep: Double {
        let tokens = Double(batch * seq), gates = Double(4 * hidden)
        return 3 * 2 * tokens * (Double(embedding) * gates + Double(hidden) * gates + Double(hidden * vocab))
    }

    func reference(steps: Int, threads: Int) -> Double? { threads == 1 ? W4Setup.gemmOnlySeconds(steps: max(steps / 4, 3)) : nil }

    func extras(_ run: TrainingRun) -> [(String, Any)] {
        let tokens = W4Setup.itemsPerStep
        var extra: [(String, Any)] = [("gflops", (run.median / tokens * W4Setup.flopsPerStep / 1e9).rounded(to: 1))]
        if let gemmSeconds = run.reference {
            let gemmTPS = tokens / gemmSeconds
            extra += [("gemm_only_tokens_per_s", gemmTPS.rounded(to: 0)), ("share_of_gemm_rate", (run.median / gemmTPS).rounded(to: 3))]
        }
        return extra + [("blas_kernel", BLAS.coreName), ("direct_kernel", BLAS.hasDirectKernel),
                        ("gate_kernel", RecurrentGateKernel.selected.rawValue),
                        ("params", training.arena.tensors.reduce(0) { $0 + $1.count }),
                        ("batch", W4Setup.batch), ("seq", W4Setup.seq), ("steps_per_repeat", run.steps), ("warmup", run.warmup),
                        ("final_loss", Double(run.finalLoss))]
    }

    /// Median seconds per step of only the GEMMs a W4 step performs, same shapes, transposes
    /// and kernels as the training step: the LSTM with its embedding lookup fused in (the
    /// `[V, F] × [F, 4H]` projected table instead of three `[B·T, F] × [F, 4H]` GEMMs), one
    /// direct-kernel GEMM per step each way, dW_hh over all steps, and the head.
    static func gemmOnlySeconds(steps: Int) -> Double {
        let B = W4Setup.batch, T = W4Setup.seq, F = W4Setup.embedding, H = W4Setup.hidden, V = W4Setup.vocab
        let G = 4 * H, rows = B * T
        let table = Storage(zeros: V * F), wih = Storage(zeros: G * F), whhT = Storage(zeros: H * G), whh = Storage(zeros: G * H)
        let projected = Storage(zeros: V * G), rec = Storage(zeros: B * G), dGates = Storage(zeros: rows * G)
        let hs = Storage(zeros: (T + 1) * B * H), dh = Storage(zeros: B * H)
        let wo = Storage(zeros: V * H), logits = Storage(zeros: rows * V), dwo = Storage(zeros: V * H), dhs = Storage(zeros: rows * H)
        let dwhh = Storage(zeros: G * H), dwih = Storage(zeros: G * F), dtable = Storage(zeros: V * F)
        var times: [Double] = []
        for _ in 0..<5 {
            let t0 = monotonicSeconds()
            for _ in 0..<steps {
                BLAS.sgemm(transA: false, transB: true, m: V, n: G, k: F, alpha: 1, a: table.pointer, lda: F, b: wih.pointer, ldb: F,
                           beta: 0, c: projected.pointer, ldc: G)
                for t in 1..<T {
                    BLAS.sgemmNN(m: B, n: G, k: H, a: hs.pointer + t * B * H, lda: H, b: whhT.pointer, ldb: G, c: rec.pointer, ldc: G)
                }
                BLAS.sgemm(transA: false, transB: true, m: rows, n: V, k: H, alpha: 1, a: hs.pointer, lda: H, b: wo.pointer, ldb: H,
                           beta: 0, c: logits.pointer, ldc: V)
                BLAS.sgemm(transA: true, transB: false, m: V, n: H, k: rows, alpha: 1, a: logits.pointer, lda: V, b: hs.pointer, ldb: H,
                           beta: 1, c: dwo.pointer, ldc: H)
                BLAS.sgemm(transA: false, transB: false, m: rows, n: H, k: V, alpha: 1, a: logits.pointer, lda: V, b: wo.pointer, ldb: H,
                           beta: 0, c: dhs.pointer, ldc: H)
                for t in stride(from: T - 1, through: 1, by: -1) {
                    BLAS.sgemmNN(m: B, n: H, k: G, a: dGates.pointer + t * B * G, lda: G, b: whh.pointer, ldb: H, c: dh.pointer, ldc: H)
                }
                BLAS.sgemm(transA: true, transB: false, m: G, n: H, k: rows, alpha: 1, a: dGates.pointer, lda: G,
                           b: hs.pointer, ldb: H, beta: 0, c: dwhh.pointer, ldc: H)
                BLAS.sgemm(transA: true, transB: false, m: G, n: F, k: V, alpha: 1, a: projected.pointer, lda: G, b: table.pointer, ldb: F,
                           beta: 0, c: dwih.pointer, ldc: F)
                BLAS.sgemm(transA: false, transB: false, m: V, n: F, k: G, alpha: 1, a: projected.pointer, lda: G, b: wih.pointer, ldb: F,
                           beta: 1, c: dtable.pointer, ldc: F)
            }
            times.append((monotonicSeconds() - t0) / Double(steps))
        }
        return benchMedian(times)
    }
}
