// Fused LayerNorm over the last axis of contiguous rows: the forward computes
// the row statistics and the affine output in two passes over a row that sits
// in L1; the backward produces dx and accumulates dweight/dbias in one sweep.

/// LayerNorm forward and backward over `rows` contiguous rows of length `n`.
package enum LayerNormKernels {
    /// `out = (x - mean) * rstd * weight + bias` per row, with `rstd = 1/√(var + eps)`
    /// (biased variance, like PyTorch). Saves each row's `mean` and `rstd` for the backward.
    /// `x`, `out`: `[rows, n]`; `weight`, `bias`: `[n]`; `mean`, `rstd`: `[rows]`.
    /// `workers` > 1 splits the rows across threads.
    package static func forward(rows: Int, n: Int, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>, eps: Float, out: UnsafeMutablePointer<Float>,
                               mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, workers: Int = 1) {
        guard n > 0, rows > 0 else { return }
        let w = Swift.max(1, Swift.min(workers, rows * n / 32768))
        let outP = TransformerPointer(p: out), meanP = TransformerPointer(p: mean), rstdP = TransformerPointer(p: rstd)
        transformerParallelFor(w, workers: w) { c, _ in
            let r0 = rows * c / w, r1 = rows * (c + 1) / w
            forwardRows(r1 - r0, n: n, x: x + r0 * n, weight: weight, bias: bias, eps: eps,
                        out: outP.p + r0 * n, mean: meanP.p + r0, rstd: rstdP.p + r0)
        }
    }

    static func forwardRows(_ rows: Int, n: Int, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            bias: UnsafePointer<Float>, eps: Float, out: UnsafeMutablePointer<Float>,
                            mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>) {
        let invN = 1 / Float(n)
        for r in 0..<rows {
            let p = x + r * n, o = out + r * n
            let mu = Reduce.sum(n, p) * invN
            // Two-pass variance: the row is in L1, and it avoids E[x²] - E[x]² cancellation.
            let m16 = V16(repeating: mu)
            var q0 = V16(), q1 = V16()
            var j = 0
            while j + 32 <= n {
                let d0 = loadF16(p + j) - m16, d1 = loadF16(p + j + 16) - m16
                q0 += d0 * d0; q1 += d1 * d1; j += 32
            }
            while j + 16 <= n { let d = loadF16(p + j) - m16; q0 += d * d; j += 16 }
            var q = (q0 + q1).sum()
            while j < n { let d = p[j] - mu; q += d * d; j += 1 }
            let inv = 1 / (q * invN + eps).squareRoot()
            mean[r] = mu; rstd[r] = inv
            let i16 = V16(repeating: inv)
            j = 0
            while j + 16 <= n {
                storeF16((loadF16(p + j) - m16) * i16 * loadF16(weight + j) + loadF16(bias + j), o + j); j += 16
            }
            while j < n { o[j] = (p[j] - mu) * inv * weight[j] + bias[j]; j += 1 }
        }
    }

    /// Backward of `forward` given the output gradient `g: [rows, n]`:
    /// `dx = rstd · (ĝ - mean(ĝ) - x̂ · mean(ĝ · x̂))` with `ĝ = g · weight`, `x̂ = (x - mean) · rstd`,
    /// written to `dx` when given; `dweight += Σ g · x̂` and `dbias += Σ g` over rows when given.
    /// `workers` > 1 splits the rows across threads (each extra worker sums its
    /// dweight/dbias into a private buffer, added at the end).
    package static func backward(rows: Int, n: Int, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, g: UnsafePointer<Float>,
                                dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
                                dbias: UnsafeMutablePointer<Float>?, workers: Int = 1) {
        guard n > 0, rows > 0 else { return }
        let w = Swift.max(1, Swift.min(workers, rows * n / 32768))
        if w == 1 {
            backwardRows(rows, n: n, x: x, weight: weight, mean: mean, rstd: rstd, g: g, dx: dx, dweight: dweight, dbias: dbias)
            return
        }
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: 2 * n * (w - 1))
        defer { partial.deallocate() }
        partial.update(repeating: 0, count: 2 * n * (w - 1))
        let partialP = TransformerPointer(p: partial)
        let dxP = dx.map { TransformerPointer(p: $0) }, dwP = dweight.map { TransformerPointer(p: $0) }
        let dbP = dbias.map { TransformerPointer(p: $0) }
        transformerParallelFor(w, workers: w) { c, _ in
            let r0 = rows * c / w, r1 = rows * (c + 1) / w
            let own = partialP.p + 2 * n * Swift.max(c - 1, 0)
            backwardRows(r1 - r0, n: n, x: x + r0 * n, weight: weight, mean: mean + r0, rstd: rstd + r0, g: g + r0 * n,
                         dx: dxP.map { $0.p + r0 * n },
                         dweight: dwP.map { c == 0 ? $0.p : own }, dbias: dbP.map { c == 0 ? $0.p : own + n })
        }
        for c in 1..<w {
            let own = partial + 2 * n * (c - 1)
            if let dweight { Elementwise.axpy(n, alpha: 1, own, dweight) }
            if let dbias { Elementwise.axpy(n, alpha: 1, own + n, dbias) }
        }
    }

    static func backwardRows(_ rows: Int, n: Int, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                             mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, g: UnsafePointer<Float>,
                             dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
                             dbias: UnsafeMutablePointer<Float>?) {
        let invN = 1 / Float(n)
        for r in 0..<rows {
            let p = x + r * n, gr = g + r * n
            let mu = mean[r], inv = rstd[r]
            let m16 = V16(repeating: mu), i16 = V16(repeating: inv)
            var a16 = V16(), b16 = V16()
            var j = 0
            while j + 16 <= n {
                let xh = (loadF16(p + j) - m16) * i16, gv = loadF16(gr + j)
                let gw = gv * loadF16(weight + j)
                a16 += gw; b16 += gw * xh
                if let dweight { storeF16(loadF16(dweight + j) + gv * xh, dweight + j) }
                if let dbias { storeF16(loadF16(dbias + j) + gv, dbias + j) }
                j += 16
            }
            var a = a16.sum(), b = b16.sum()
            while j < n {
                let xh = (p[j] - mu) * inv, gw = gr[j] * weight[j]
                a += gw; b += gw * xh
                dweight?[j] += gr[j] * xh
                dbias?[j] += gr[j]
                j += 1
            }
            guard let dx else { continue }
            a *= invN; b *= invN
            let o = dx + r * n
            let a16v = V16(repeating: a), b16v = V16(repeating: b)
            j = 0
            while j + 16 <= n {
                let xh = (loadF16(p + j) - m16) * i16
                storeF16(i16 * (loadF16(gr + j) * loadF16(weight + j) - a16v - xh * b16v), o + j)
                j += 16
            }
            while j < n { let xh = (p[j] - mu) * inv; o[j] = inv * (gr[j] * weight[j] - a - xh * b); j += 1 }
        }
    }
}
