// The transformer MLP's activation: bias add + exact (erf) GELU in one pass that
// also writes the derivative, so the backward is one multiply (plus the bias
// gradient's column sums in the same sweep) instead of recomputing erf and a
// second exponential (the erf approximation's exp(-x²/2) is φ's too). Split
// across threads like the attention kernels. A candidate to fold into
// Elementwise's GELU; it lives under this file prefix for now.

/// Bias + GELU with a saved derivative, over row-major `[rows, n]` buffers.
package enum GELUKernels {
    /// `h = x + bias` (bias `[n]` broadcast over rows, optional), `y = h·Φ(h)` and
    /// `dydx = Φ(h) + h·φ(h)`. The same erf approximation as `Elementwise`'s `.gelu`
    /// (|error| < 1.5e-7 in erf). `workers` > 1 splits the rows across threads.
    package static func forward(rows: Int, n: Int, x: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               y: UnsafeMutablePointer<Float>, dydx: UnsafeMutablePointer<Float>, workers: Int = 1) {
        guard rows > 0, n > 0 else { return }
        let w = Swift.max(1, Swift.min(workers, rows * n / 16384))
        let yP = TransformerPointer(p: y), dP = TransformerPointer(p: dydx)
        transformerParallelFor(w, workers: w) { c, _ in
            for r in (rows * c / w)..<(rows * (c + 1) / w) {
                forwardRow(n, x + r * n, bias, yP.p + r * n, dP.p + r * n)
            }
        }
    }

    /// exp(x) for x ≤ 0 (here -h²/2): `simdExp` without the overflow side, NaN select
    /// and split power of two, since results below e^-87 only ever multiply a vanishing term.
    @inline(__always)
    static func expNonPositive(_ x0: V16) -> V16 {
        let lo = V16(repeating: -87)
        let x = x0.replacing(with: lo, where: x0 .< lo)
        let (e, n32) = expReduced(x)
        return e * unsafeBitCast((n32 &+ SIMD16<Int32>(repeating: 127)) &<< SIMD16<Int32>(repeating: 23), to: V16.self)
    }

    /// GELU and its derivative for 16 lanes.
    @inline(__always)
    static func lanes(_ h: V16) -> (V16, V16) {
        let z = h * 0.70710678118654752
        let a = simdAbs(z)
        let t = 1 / (1 + 0.3275911 * a)
        var p = V16(repeating: 1.061405429)
        p = p * t - 1.453152027
        p = p * t + 1.421413741
        p = p * t - 0.284496736
        p = p * t + 0.254829592
        let e = expNonPositive(-z * z)              // exp(-h²/2)
        let erfAbs = 1 - p * t * e
        let erf = erfAbs.replacing(with: -erfAbs, where: h .< V16(repeating: 0))
        let cdf = 0.5 * (1 + erf)
        return (h * cdf, cdf + h * e * 0.39894228040143268)
    }

    @inline(__always)
    static func forwardRow(_ n: Int, _ x: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                           _ y: UnsafeMutablePointer<Float>, _ d: UnsafeMutablePointer<Float>) {
        var i = 0
        while i + 16 <= n {
            var h = loadF16(x + i)
            if let bias { h += loadF16(bias + i) }
            let (v, dv) = lanes(h)
            storeF16(v, y + i); storeF16(dv, d + i)
            i += 16
        }
        if i < n {
            var h = V16()
            for j in 0..<(n - i) { h[j] = x[i + j] + (bias?[i + j] ?? 0) }
            let (v, dv) = lanes(h)
            for j in 0..<(n - i) { y[i + j] = v[j]; d[i + j] = dv[j] }
        }
    }

    /// `out = g · dydx` over `[rows, n]`, and `biasGrad[j] += Σ_r out[r, j]` when given.
    /// `workers` > 1 splits the columns across threads (each owns its bias entries).
    package static func backward(rows: Int, n: Int, g: UnsafePointer<Float>, dydx: UnsafePointer<Float>,
                                out: UnsafeMutablePointer<Float>, biasGrad: UnsafeMutablePointer<Float>?, workers: Int = 1) {
        guard rows > 0, n > 0 else { return }
        let w = Swift.max(1, Swift.min(workers, n / 64, rows * n / 16384))
        let oP = TransformerPointer(p: out), bP = biasGrad.map { TransformerPointer(p: $0) }
        transformerParallelFor(w, workers: w) { c, _ in
            let c0 = (n * c / w) & ~15, c1 = c == w - 1 ? n : (n * (c + 1) / w) & ~15
            for r in 0..<rows {
                let gr = g + r * n, dr = dydx + r * n, orow = oP.p + r * n
                var j = c0
                while j + 16 <= c1 {
                    let v = loadF16(gr + j) * loadF16(dr + j)
                    storeF16(v, orow + j)
                    if let bP { storeF16(loadF16(bP.p + j) + v, bP.p + j) }
                    j += 16
                }
                while j < c1 { let v = gr[j] * dr[j]; orow[j] = v; bP?.p[j] += v; j += 1 }
            }
        }
    }
}
