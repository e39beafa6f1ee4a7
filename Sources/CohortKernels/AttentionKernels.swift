// Scaled dot-product attention per (batch, head): S = scale·Q Kᵀ by GEMM, a
// fused mask + softmax pass over each row of S in place, O = P V by GEMM; the
// backward keeps only P and one [block, keys] scratch. Causal attention runs in
// row blocks so the GEMMs skip most of the masked upper triangle.
import Dispatch

/// Where the `[rows, cols]` matrix of batch item `b`, head `h` lives in a buffer:
/// it starts at `b * batchStride + h * headStride`, rows are `rowStride` apart and
/// columns are adjacent. Covers `[B, H, T, D]`, `[B, T, H, D]` and packed `[B, T, 3·H·D]`.
package struct HeadLayout: Sendable, Equatable {
    /// Elements between consecutive batch items.
    package var batchStride: Int
    /// Elements between consecutive heads.
    package var headStride: Int
    /// Elements between consecutive rows (≥ the number of columns).
    package var rowStride: Int

    package init(batchStride: Int, headStride: Int, rowStride: Int) {
        self.batchStride = batchStride; self.headStride = headStride; self.rowStride = rowStride
    }

    @inline(__always) func offset(_ b: Int, _ h: Int) -> Int { b * batchStride + h * headStride }
}

/// The sizes and options of one attention call.
package struct AttentionProblem: Sendable, Equatable {
    package var batch: Int, heads: Int, queries: Int, keys: Int, headDim: Int, valueDim: Int
    /// Multiplies Q Kᵀ (usually 1/√headDim).
    package var scale: Float
    /// Query `i` attends keys `0...i` only (top-left aligned, as PyTorch's `is_causal`).
    package var causal: Bool
    /// Query rows per GEMM block under a causal mask (smaller skips more of the upper triangle).
    package var blockRows: Int

    package init(batch: Int, heads: Int, queries: Int, keys: Int, headDim: Int, valueDim: Int,
                scale: Float, causal: Bool, blockRows: Int = 32) {
        self.batch = batch; self.heads = heads; self.queries = queries; self.keys = keys
        self.headDim = headDim; self.valueDim = valueDim; self.scale = scale; self.causal = causal
        self.blockRows = Swift.max(blockRows, 1)
    }

    /// Query row blocks `[r0, r1)` and how many leading key columns each can attend.
    var blocks: [(r0: Int, r1: Int, cols: Int)] {
        guard causal else { return [(0, queries, keys)] }
        return stride(from: 0, to: queries, by: blockRows).map { r0 in
            let r1 = Swift.min(r0 + blockRows, queries)
            return (r0, r1, Swift.min(r1, keys))
        }
    }

    /// Floats of scratch one worker needs for the backward.
    package var scratchPerWorker: Int { (causal ? Swift.min(blockRows, queries) : queries) * keys }
}

/// Pointers handed to worker threads; each worker writes disjoint elements.
struct TransformerPointer: @unchecked Sendable { let p: UnsafeMutablePointer<Float> }

/// Runs `body(index, worker)` for `index` in `0..<count` on `workers` threads (the caller
/// and GCD's), each worker taking one contiguous range of indices. No barrier inside, so
/// GCD running the ranges one after another is merely slower, never a deadlock.
func transformerParallelFor(_ count: Int, workers: Int, _ body: (Int, Int) -> Void) {
    let w = Swift.max(1, Swift.min(workers, count))
    if w == 1 { for i in 0..<count { body(i, 0) }; return }
    withoutActuallyEscaping(body) { body in
        let box = TransformerUncheckedBox(body)
        DispatchQueue.concurrentPerform(iterations: w) { worker in
            for i in (count * worker / w)..<(count * (worker + 1) / w) { box.value(i, worker) }
        }
    }
}

/// Attention forward and backward kernels.
package enum AttentionKernels {
    /// Forward for every (batch, head): writes the attention probabilities `probs`
    /// (`[batch, heads, queries, keys]`; entries a causal block never reaches are left
    /// unwritten and never read) and the output. `keyMask` (`[batch, keys]`, nonzero =
    /// may be attended) is optional. A query row with no key left attends nothing:
    /// its probabilities and output are zero (not NaN). `workers` > 1 splits heads
    /// across threads; call BLAS single-threaded then.
    package static func forward(_ pr: AttentionProblem, q: UnsafePointer<Float>, _ qL: HeadLayout,
                               k: UnsafePointer<Float>, _ kL: HeadLayout, v: UnsafePointer<Float>, _ vL: HeadLayout,
                               keyMask: UnsafePointer<Float>?, probs: UnsafeMutablePointer<Float>,
                               out: UnsafeMutablePointer<Float>, _ oL: HeadLayout, workers: Int = 1) {
        let blocks = pr.blocks
        let (tq, tk) = (pr.queries, pr.keys)
        let probsP = TransformerPointer(p: probs), outP = TransformerPointer(p: out)
        transformerParallelFor(pr.batch * pr.heads, workers: workers) { pair, _ in
            let b = pair / pr.heads, h = pair % pr.heads
            let qb = q + qL.offset(b, h), kb = k + kL.offset(b, h), vb = v + vL.offset(b, h)
            let ob = outP.p + oL.offset(b, h), pb = probsP.p + pair * tq * tk
            if tk == 0 {
                for i in 0..<tq { (ob + i * oL.rowStride).update(repeating: 0, count: pr.valueDim) }
                return
            }
            let mask = keyMask.map { $0 + b * tk }
            for (r0, r1, c1) in blocks {
                BLAS.sgemm(transA: false, transB: true, m: r1 - r0, n: c1, k: pr.headDim, alpha: pr.scale,
                           a: qb + r0 * qL.rowStride, lda: qL.rowStride, b: kb, ldb: kL.rowStride,
                           beta: 0, c: pb + r0 * tk, ldc: tk)
                for i in r0..<r1 {
                    maskedSoftmaxRow(pb + i * tk, valid: pr.causal ? Swift.min(i + 1, c1) : c1, width: c1, mask: mask)
                }
                BLAS.sgemm(transA: false, transB: false, m: r1 - r0, n: pr.valueDim, k: c1, alpha: 1,
                           a: pb + r0 * tk, lda: tk, b: vb, ldb: vL.rowStride,
                           beta: 0, c: ob + r0 * oL.rowStride, ldc: oL.rowStride)
            }
        }
    }

    /// Backward of `forward` given the output gradient `gradOut`. Overwrites `dq`, `dk`
    /// and `dv` (every element). `scratch` holds `workers × pr.scratchPerWorker` floats.
    package static func backward(_ pr: AttentionProblem, q: UnsafePointer<Float>, _ qL: HeadLayout,
                                k: UnsafePointer<Float>, _ kL: HeadLayout, v: UnsafePointer<Float>, _ vL: HeadLayout,
                                probs: UnsafePointer<Float>, gradOut: UnsafePointer<Float>, _ gL: HeadLayout,
                                dq: UnsafeMutablePointer<Float>, _ dqL: HeadLayout,
                                dk: UnsafeMutablePointer<Float>, _ dkL: HeadLayout,
                                dv: UnsafeMutablePointer<Float>, _ dvL: HeadLayout,
                                scratch: UnsafeMutablePointer<Float>, workers: Int = 1) {
        let blocks = pr.blocks
        let (tq, tk) = (pr.queries, pr.keys)
        let reach = blocks.map(\.cols).max() ?? 0    // keys no query can reach get zero gradients
        let dqP = TransformerPointer(p: dq), dkP = TransformerPointer(p: dk), dvP = TransformerPointer(p: dv)
        let scratchP = TransformerPointer(p: scratch)
        transformerParallelFor(pr.batch * pr.heads, workers: workers) { pair, worker in
            let b = pair / pr.heads, h = pair % pr.heads
            let qb = q + qL.offset(b, h), kb = k + kL.offset(b, h), vb = v + vL.offset(b, h)
            let gb = gradOut + gL.offset(b, h), pb = probs + pair * tq * tk
            let dqb = dqP.p + dqL.offset(b, h), dkb = dkP.p + dkL.offset(b, h), dvb = dvP.p + dvL.offset(b, h)
            let ds = scratchP.p + worker * pr.scratchPerWorker
            for j in reach..<tk {
                (dkb + j * dkL.rowStride).update(repeating: 0, count: pr.headDim)
                (dvb + j * dvL.rowStride).update(repeating: 0, count: pr.valueDim)
            }
            if tk == 0 {
                for i in 0..<tq { (dqb + i * dqL.rowStride).update(repeating: 0, count: pr.headDim) }
                return
            }
            // Largest block first: it covers every reachable key, so it initialises dK and dV (beta 0).
            var beta: Float = 0
            for (r0, r1, c1) in blocks.reversed() {
                let m = r1 - r0
                // dV[0:c1] (+)= P[r0:r1, 0:c1]ᵀ dO[r0:r1]
                BLAS.sgemm(transA: true, transB: false, m: c1, n: pr.valueDim, k: m, alpha: 1,
                           a: pb + r0 * tk, lda: tk, b: gb + r0 * gL.rowStride, ldb: gL.rowStride,
                           beta: beta, c: dvb, ldc: dvL.rowStride)
                // dP = dO[r0:r1] V[0:c1]ᵀ, then dS = scale · P ∘ (dP - rowsum(P ∘ dP)) in place
                BLAS.sgemm(transA: false, transB: true, m: m, n: c1, k: pr.valueDim, alpha: 1,
                           a: gb + r0 * gL.rowStride, lda: gL.rowStride, b: vb, ldb: vL.rowStride,
                           beta: 0, c: ds, ldc: tk)
                for i in 0..<m { softmaxBackwardRow(pb + (r0 + i) * tk, ds + i * tk, width: c1, scale: pr.scale) }
                // dQ[r0:r1] = dS K[0:c1];  dK[0:c1] (+)= dSᵀ Q[r0:r1]
                BLAS.sgemm(transA: false, transB: false, m: m, n: pr.headDim, k: c1, alpha: 1,
                           a: ds, lda: tk, b: kb, ldb: kL.rowStride,
                           beta: 0, c: dqb + r0 * dqL.rowStride, ldc: dqL.rowStride)
                BLAS.sgemm(transA: true, transB: false, m: c1, n: pr.headDim, k: m, alpha: 1,
                           a: ds, lda: tk, b: qb + r0 * qL.rowStride, ldb: qL.rowStride,
                           beta: beta, c: dkb, ldc: dkL.rowStride)
                beta = 1
            }
        }
    }

    /// Softmax of `row[0..<valid]` in place, skipping keys whose `mask` entry is 0, and
    /// zeros for the masked keys and for `row[valid..<width]`. All keys masked: all zeros.
    /// Whole 16-lane chunks with a lane mask cover the ragged end of causal rows (the
    /// entries past `valid` are scratch to be zeroed anyway); only a row whose width is not
    /// a multiple of 16 goes through a copied last chunk.
    @inline(__always)
    static func maskedSoftmaxRow(_ row: UnsafeMutablePointer<Float>, valid nv: Int, width: Int, mask: UnsafePointer<Float>?) {
        let ninf = V16(repeating: -.infinity), zero = V16()
        let lanes = V16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        // Chunk starting at j: the scores with masked and out-of-range lanes at -inf.
        @inline(__always) func scores(_ j: Int) -> V16 {
            var x: V16
            if j + 16 <= width { x = loadF16(row + j) } else {
                x = ninf
                for l in 0..<(width - j) { x[l] = row[j + l] }
            }
            var drop = lanes .>= V16(repeating: Float(nv - j))
            if let mask {
                var m: V16
                if j + 16 <= width { m = loadF16(mask + j) } else {
                    m = zero
                    for l in 0..<(width - j) { m[l] = mask[j + l] }
                }
                drop = drop .| (m .== zero)
            }
            return x.replacing(with: ninf, where: drop)
        }
        @inline(__always) func store(_ v: V16, _ j: Int) {
            if j + 16 <= width { storeF16(v, row + j) } else { for l in 0..<(width - j) { row[j + l] = v[l] } }
        }
        var mx = ninf
        var j = 0
        while j < nv { mx = simdMax(mx, scores(j)); j += 16 }
        let m = horizontalMax(mx)
        if m == -.infinity {
            row.update(repeating: 0, count: width)
            return
        }
        let m16 = V16(repeating: m)
        var s16 = V16()
        j = 0
        while j < nv {
            // exp(-inf - m) is 0 through simdExp's clamp and underflow; the select makes it exact.
            let x = scores(j)
            let e = simdExp(x - m16).replacing(with: zero, where: x .== ninf)
            store(e, j); s16 += e; j += 16
        }
        let inv = V16(repeating: 1 / s16.sum())
        j = 0
        while j < nv {
            if j + 16 <= width { storeF16(loadF16(row + j) * inv, row + j) } else { for l in 0..<(width - j) { row[j + l] *= inv[0] } }
            j += 16
        }
        let written = Swift.min((nv + 15) & ~15, width)
        if width > written { (row + written).update(repeating: 0, count: width - written) }
    }

    /// The largest lane (by halving, not the standard library's lane-by-lane reduction).
    @inline(__always)
    static func horizontalMax(_ v: V16) -> Float {
        let a = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .> v.lowHalf)
        let b = a.lowHalf.replacing(with: a.highHalf, where: a.highHalf .> a.lowHalf)
        let c = b.lowHalf.replacing(with: b.highHalf, where: b.highHalf .> b.lowHalf)
        return Swift.max(c[0], c[1])
    }

    /// `ds = scale · p ∘ (ds - Σ p ∘ ds)` over `width` entries (ds holds dP on entry).
    @inline(__always)
    static func softmaxBackwardRow(_ p: UnsafePointer<Float>, _ ds: UnsafeMutablePointer<Float>, width n: Int, scale: Float) {
        var d16 = V16()
        var j = 0
        while j + 16 <= n { d16 += loadF16(p + j) * loadF16(ds + j); j += 16 }
        var dot = d16.sum()
        while j < n { dot += p[j] * ds[j]; j += 1 }
        let dot16 = V16(repeating: dot), s16 = V16(repeating: scale)
        j = 0
        while j + 16 <= n { storeF16(s16 * loadF16(p + j) * (loadF16(ds + j) - dot16), ds + j); j += 16 }
        while j < n { ds[j] = scale * p[j] * (ds[j] - dot); j += 1 }
    }
}

/// Lets a non-Sendable closure run on Dispatch's workers; callers guarantee the
/// workers touch disjoint memory.
private struct TransformerUncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
