// Scaled dot-product attention as one differentiable op: per (batch, head) two
// GEMMs read Q, K, V in place through their strides, one fused pass applies the
// scale, the causal and key-padding masks and the softmax; the backward keeps
// only the probabilities. `multiHeadSelfAttention(packed:)` reads Q, K and V
// straight out of a fused `c_attn` projection and writes heads concatenated.
import CohortCore
import CohortKernels
import Foundation

extension Tensor {
    /// Query rows per GEMM block under a causal mask (AttentionProblem.blockRows): 32 rows
    /// keep a block's scores in L2 while skipping most of the masked upper triangle.
    static let attentionBlockRows = 32

    /// Softmax(scale · Q Kᵀ, masked) V for every batch item and head.
    ///
    /// - Parameters:
    ///   - q: `[B, H, Tq, D]`; `k`: `[B, H, Tk, D]`; `v`: `[B, H, Tk, Dv]`. Any strides
    ///     whose last dimension is unit are read in place (e.g. `qkv.split(…)` then
    ///     `reshape([B, T, H, D]).transpose(1, 2)`); others are copied once.
    ///   - causal: query `i` attends keys `0...i` only (top-left aligned, like PyTorch's
    ///     `is_causal`).
    ///   - keyPaddingMask: `[B, Tk]`, **nonzero (true) = a real key that may be attended,
    ///     0 = padding that no query attends** (the Hugging Face `attention_mask`
    ///     convention, the opposite of `nn.MultiheadAttention`'s `key_padding_mask`).
    ///     Not differentiated.
    ///   - scale: multiplies Q Kᵀ; default `1/√D`.
    /// - Returns: `[B, H, Tq, Dv]`, stored as `[B, Tq, H, Dv]` so that
    ///   `transpose(1, 2).reshape([B, Tq, H·Dv])` is free. A query that can attend no
    ///   key (every key masked) outputs zeros and passes zero gradients, never NaN.
    /// - Throws: `CohortError.shapeMismatch` when the shapes do not fit together.
    public static func scaledDotProductAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool = false,
                                                 keyPaddingMask: Tensor? = nil, scale: Float? = nil) throws -> Tensor {
        let op = "scaledDotProductAttention"
        guard q.rank == 4, k.rank == 4, v.rank == 4 else {
            throw CohortError.shapeMismatch(op: op, "q, k, v must be [B, H, T, D]; got \(describeShape(q.shape)), \(describeShape(k.shape)), \(describeShape(v.shape))")
        }
        let (b, h, tq, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (tk, dv) = (k.shape[2], v.shape[3])
        guard k.shape == [b, h, tk, d], v.shape == [b, h, tk, dv] else {
            throw CohortError.shapeMismatch(op: op, "q \(describeShape(q.shape)), k \(describeShape(k.shape)) and v \(describeShape(v.shape)) disagree (expected k [\(b), \(h), Tk, \(d)], v [\(b), \(h), Tk, Dv])")
        }
        let mask = try checkedKeyMask(keyPaddingMask, batch: b, keys: tk, op: op)
        let (qc, qL) = headOperand(q), (kc, kL) = headOperand(k), (vc, vL) = headOperand(v)
        let pr = AttentionProblem(batch: b, heads: h, queries: tq, keys: tk, headDim: d, valueDim: dv,
                                  scale: scale ?? 1 / Float(Swift.max(d, 1)).squareRoot(), causal: causal,
                                  blockRows: attentionBlockRows)
        // Output and input gradients are stored [B, T, H, ·]: the usual transpose back is then free.
        func btLayout(_ t: Int, _ w: Int) -> HeadLayout { HeadLayout(batchStride: t * h * w, headStride: w, rowStride: h * w) }
        func btView(_ s: Storage, _ t: Int, _ w: Int) -> Tensor {
            Tensor(storage: s, shape: [b, h, t, w], strides: [t * h * w, w, h * w, 1])
        }
        let outStorage = Storage(count: b * tq * h * dv)
        let probs = Tensor(uninitialized: [b, h, tq, tk])
        withAttentionWorkers(pairs: b * h) { workers in
            AttentionKernels.forward(pr, q: qc.base, qL, k: kc.base, kL, v: vc.base, vL,
                                     keyMask: mask.map { UnsafePointer($0.base) }, probs: probs.base,
                                     out: outStorage.pointer, btLayout(tq, dv), workers: workers)
        }
        let out = btView(outStorage, tq, dv)
        let (sq, sk, sv) = (qc.detached(), kc.detached(), vc.detached())
        return record(out, op, [qc, kc, vc]) { g0, ctx in
            let (g, gL) = headOperand(g0)
            let dqS = Storage(count: b * tq * h * d), dkS = Storage(count: b * tk * h * d), dvS = Storage(count: b * tk * h * dv)
            withAttentionWorkers(pairs: b * h) { workers in
                let scratch = Storage(count: Swift.max(workers * pr.scratchPerWorker, 1))
                AttentionKernels.backward(pr, q: sq.base, qL, k: sk.base, kL, v: sv.base, vL, probs: probs.base,
                                          gradOut: g.base, gL, dq: dqS.pointer, btLayout(tq, d),
                                          dk: dkS.pointer, btLayout(tk, d), dv: dvS.pointer, btLayout(tk, dv),
                                          scratch: scratch.pointer, workers: workers)
            }
            return [ctx.needs(0) ? btView(dqS, tq, d) : nil, ctx.needs(1) ? btView(dkS, tk, d) : nil,
                    ctx.needs(2) ? btView(dvS, tk, dv) : nil]
        }
    }

    /// Multi-head self-attention on a fused projection.
    ///
    /// - Parameters:
    ///   - qkv: `[B, T, 3·C]` with `C = heads · D`: Q, K and V side by side along the last
    ///     axis, each `[B, T, heads, D]` (what a `c_attn`-style `Linear(C, 3·C)` produces).
    ///   - heads: number of heads (must divide C).
    ///   - causal, keyPaddingMask, scale: as in `scaledDotProductAttention`.
    /// - Returns: `[B, T, C]`, the heads' outputs concatenated (ready for the output
    ///   projection). Its gradient with respect to `qkv` is written in the packed layout
    ///   directly, with no split or concatenation.
    /// - Throws: `CohortError.shapeMismatch` when the shapes do not fit.
    public static func multiHeadSelfAttention(packed qkv: Tensor, heads: Int, causal: Bool = true,
                                              keyPaddingMask: Tensor? = nil, scale: Float? = nil) throws -> Tensor {
        let op = "multiHeadSelfAttention"
        guard qkv.rank == 3, heads > 0, qkv.shape[2] % (3 * heads) == 0 else {
            throw CohortError.shapeMismatch(op: op, "qkv must be [B, T, 3·heads·D] with heads = \(heads); got \(describeShape(qkv.shape))")
        }
        let (b, t, c3) = (qkv.shape[0], qkv.shape[1], qkv.shape[2])
        let c = c3 / 3, d = c / heads
        let mask = try checkedKeyMask(keyPaddingMask, batch: b, keys: t, op: op)
        let x = qkv.contiguous()
        let inL = HeadLayout(batchStride: t * c3, headStride: d, rowStride: c3)
        let outL = HeadLayout(batchStride: t * c, headStride: d, rowStride: c)
        let pr = AttentionProblem(batch: b, heads: heads, queries: t, keys: t, headDim: d, valueDim: d,
                                  scale: scale ?? 1 / Float(Swift.max(d, 1)).squareRoot(), causal: causal,
                                  blockRows: attentionBlockRows)
        let out = Tensor(uninitialized: [b, t, c])
        let probs = Tensor(uninitialized: [b, heads, t, t])
        withAttentionWorkers(pairs: b * heads) { workers in
            AttentionKernels.forward(pr, q: x.base, inL, k: x.base + c, inL, v: x.base + 2 * c, inL,
                                     keyMask: mask.map { UnsafePointer($0.base) }, probs: probs.base,
                                     out: out.base, outL, workers: workers)
        }
        let saved = x.detached()
        return record(out, op, [x]) { g0, _ in
            let g = g0.contiguous()
            let dx = Tensor(uninitialized: [b, t, c3])
            withAttentionWorkers(pairs: b * heads) { workers in
                let scratch = Storage(count: Swift.max(workers * pr.scratchPerWorker, 1))
                AttentionKernels.backward(pr, q: saved.base, inL, k: saved.base + c, inL, v: saved.base + 2 * c, inL,
                                          probs: probs.base, gradOut: g.base, outL,
                                          dq: dx.base, inL, dk: dx.base + c, inL, dv: dx.base + 2 * c, inL,
                                          scratch: scratch.pointer, workers: workers)
            }
            return [dx]
        }
    }

    /// `t` (rank 4) with its layout if BLAS can read its matrices in place (unit column
    /// stride, row stride ≥ columns), else a contiguous copy (recorded, so gradients flow).
    static func headOperand(_ t: Tensor) -> (Tensor, HeadLayout) {
        let (rows, cols) = (t.shape[2], t.shape[3])
        let unitColumns = cols <= 1 || t.strides[3] == 1
        let rowStride = rows <= 1 ? Swift.max(cols, 1) : t.strides[2]
        if unitColumns && rowStride >= Swift.max(cols, 1) && t.strides.allSatisfy({ $0 >= 0 }) {
            return (t, HeadLayout(batchStride: t.strides[0], headStride: t.strides[1], rowStride: rowStride))
        }
        let c = t.contiguous()
        return (c, HeadLayout(batchStride: c.strides[0], headStride: c.strides[1], rowStride: Swift.max(cols, 1)))
    }

    /// The key mask as a contiguous `[B, Tk]` tensor of 0/1-valued floats, checked.
    static func checkedKeyMask(_ m: Tensor?, batch: Int, keys: Int, op: String) throws -> Tensor? {
        guard let m else { return nil }
        guard m.shape == [batch, keys] else {
            throw CohortError.shapeMismatch(op: op, "keyPaddingMask must be [B, Tk] = [\(batch), \(keys)]; got \(describeShape(m.shape))")
        }
        return m.detached().contiguous()
    }

    /// Runs `body` with the number of threads the attention kernels should use: with
    /// BLAS on several threads, heads are split across that many workers and BLAS runs
    /// single-threaded inside them (one small GEMM per head does not scale across threads).
    static func withAttentionWorkers(pairs: Int, _ body: (Int) -> Void) {
        let threads = BLAS.threads
        guard threads > 1, pairs > 1 else { body(1); return }
        BLAS.singleThreaded { body(Swift.min(threads, pairs)) }
    }
}
