// Reductions over contiguous rows (reduce the last axis) and columns (reduce
// the leading axis), with several SIMD accumulators so a sum runs at memory
// speed instead of one add latency per element.
#if canImport(Glibc)
import Glibc
#endif

/// Reduction operations.
package enum ReduceOp: Sendable, Equatable { case sum, max, min }

/// Reduction kernels.
package enum Reduce {
    /// Sum of `n` contiguous floats (four 16-lane accumulators).
    @inline(__always)
    package static func sum(_ n: Int, _ x: UnsafePointer<Float>) -> Float {
        var a0 = V16(), a1 = V16(), a2 = V16(), a3 = V16()
        var i = 0
        while i + 64 <= n {
            a0 += loadF16(x + i); a1 += loadF16(x + i + 16); a2 += loadF16(x + i + 32); a3 += loadF16(x + i + 48)
            i += 64
        }
        while i + 16 <= n { a0 += loadF16(x + i); i += 16 }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Sum of squares of `n` contiguous floats.
    package static func sumSquares(_ n: Int, _ x: UnsafePointer<Float>) -> Float {
        var a0 = V16(), a1 = V16()
        var i = 0
        while i + 32 <= n {
            let v0 = loadF16(x + i), v1 = loadF16(x + i + 16)
            a0 += v0 * v0; a1 += v1 * v1; i += 32
        }
        var s = (a0 + a1).sum()
        while i < n { s += x[i] * x[i]; i += 1 }
        return s
    }

    @inline(__always)
    static func extreme(_ n: Int, _ x: UnsafePointer<Float>, max: Bool) -> Float {
        var m = x[0]
        var i = 0
        if n >= 16 {
            var acc = loadF16(x)
            i = 16
            while i + 16 <= n { acc = max ? simdMax(acc, loadF16(x + i)) : simdMin(acc, loadF16(x + i)); i += 16 }
            if any(acc .!= acc) { return .nan }
            m = max ? acc.max() : acc.min()
        }
        while i < n { if x[i].isNaN { return .nan }; m = max ? Swift.max(m, x[i]) : Swift.min(m, x[i]); i += 1 }
        return m
    }

    /// Reduces each of `rows` contiguous rows of length `n` into `out[r]`.
    package static func rows(_ op: ReduceOp, rows: Int, n: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let p = x + r * n
            switch op {
            case .sum: out[r] = sum(n, p)
            case .max: out[r] = n == 0 ? -.infinity : extreme(n, p, max: true)
            case .min: out[r] = n == 0 ? .infinity : extreme(n, p, max: false)
            }
        }
    }

    /// Reduces a `[outer, n]`-shaped contiguous block over its first axis into `out[n]`
    /// (repeated for `blocks` consecutive blocks, writing `out[b * n + j]`).
    package static func columns(_ op: ReduceOp, blocks: Int, outer: Int, n: Int,
                               _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let src = x + b * outer * n, dst = out + b * n
            if outer == 0 {
                dst.update(repeating: op == .sum ? 0 : (op == .max ? -.infinity : .infinity), count: n); continue
            }
            dst.update(from: src, count: n)
            for r in 1..<max(outer, 1) {
                let p = src + r * n
                var j = 0
                switch op {
                case .sum:
                    while j + 16 <= n { storeF16(loadF16(dst + j) + loadF16(p + j), dst + j); j += 16 }
                    while j < n { dst[j] += p[j]; j += 1 }
                case .max:
                    while j + 16 <= n { storeF16(simdMax(loadF16(dst + j), loadF16(p + j)), dst + j); j += 16 }
                    while j < n { dst[j] = Swift.max(dst[j], p[j]); j += 1 }
                case .min:
                    while j + 16 <= n { storeF16(simdMin(loadF16(dst + j), loadF16(p + j)), dst + j); j += 16 }
                    while j < n { dst[j] = Swift.min(dst[j], p[j]); j += 1 }
                }
            }
        }
    }

    /// Index of the first maximum (or minimum) of each contiguous row.
    package static func argRows(max: Bool, rows: Int, n: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let p = x + r * n
            var best = 0
            var bv = p[0]
            for j in 1..<Swift.max(n, 1) where (max ? p[j] > bv : p[j] < bv) || (bv.isNaN == false && p[j].isNaN) {
                best = j; bv = p[j]
                if bv.isNaN { break }
            }
            out[r] = Float(best)
        }
    }
}

/// Row-wise softmax family and the fused cross-entropy.
package enum SoftmaxKernels {
    /// Softmax (or log-softmax) of each contiguous row of length `n`.
    package static func rows(log: Bool, rows: Int, n: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let p = x + r * n, o = out + r * n
            let m = Reduce.extreme(n, p, max: true)
            let m16 = V16(repeating: m)
            var s16 = V16()
            var j = 0
            while j + 16 <= n { let e = simdExp(loadF16(p + j) - m16); storeF16(e, o + j); s16 += e; j += 16 }
            var s = s16.sum()
            while j < n { let e = scalarVia16(p[j] - m, simdExp); o[j] = e; s += e; j += 1 }
            if log {
                let lse = m + logf(s)
                j = 0
                let l16 = V16(repeating: lse)
                while j + 16 <= n { storeF16(loadF16(p + j) - l16, o + j); j += 16 }
                while j < n { o[j] = p[j] - lse; j += 1 }
            } else {
                Elementwise.scale(n, alpha: 1 / s, o)
            }
        }
    }

    /// Backward of row softmax given its output `y`: `dx = y * (g - sum(g * y))`.
    package static func softmaxBackward(rows: Int, n: Int, y: UnsafePointer<Float>, g: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let yr = y + r * n, gr = g + r * n, o = out + r * n
            var dot: Float = 0
            for j in 0..<n { dot += yr[j] * gr[j] }
            for j in 0..<n { o[j] = yr[j] * (gr[j] - dot) }
        }
    }

    /// Backward of row log-softmax given its output `y`: `dx = g - exp(y) * sum(g)`.
    package static func logSoftmaxBackward(rows: Int, n: Int, y: UnsafePointer<Float>, g: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let yr = y + r * n, gr = g + r * n, o = out + r * n
            let s = Reduce.sum(n, gr)
            for j in 0..<n { o[j] = gr[j] - expf(yr[j]) * s }
        }
    }

    /// Fused, stable cross-entropy over `rows` rows of `n` logits. Writes the row
    /// softmax into `probs` (for the backward) and returns the summed loss and the
    /// number of rows counted (rows whose target equals `ignoreIndex` are skipped).
    /// With label smoothing `eps`, the target distribution is `(1-eps)·onehot + eps/n`.
    /// `probs` may be `logits` itself (in place): a row's logits are read before it is written.
    package static func crossEntropy(rows: Int, n: Int, logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
                                    smoothing eps: Float, ignoreIndex: Int32, probs: UnsafeMutablePointer<Float>) -> (loss: Double, count: Int) {
        var total = 0.0
        var count = 0
        for r in 0..<rows {
            let p = logits + r * n, o = probs + r * n
            let t = targets[r]
            let target = t == ignoreIndex ? 0 : p[Int(t)]
            let meanLogit = eps != 0 && t != ignoreIndex ? Reduce.sum(n, p) / Float(n) : 0
            let m = Reduce.extreme(n, p, max: true)
            var s: Float = 0
            let m16 = V16(repeating: m)
            var s16 = V16()
            var j = 0
            while j + 16 <= n { let e = simdExp(loadF16(p + j) - m16); storeF16(e, o + j); s16 += e; j += 16 }
            s = s16.sum()
            while j < n { let e = scalarVia16(p[j] - m, simdExp); o[j] = e; s += e; j += 1 }
            Elementwise.scale(n, alpha: 1 / s, o)
            if t == ignoreIndex { continue }
            let lse = m + logf(s)
            var rowLoss = (1 - eps) * (lse - target)
            if eps != 0 { rowLoss += eps * (lse - meanLogit) }
            total += Double(rowLoss)
            count += 1
        }
        return (total, count)
    }

    /// Backward of the fused cross-entropy: `dlogits = scale * (probs - target distribution)`,
    /// zero for ignored rows. `out` may be `probs` itself (elementwise, in place).
    package static func crossEntropyBackward(rows: Int, n: Int, probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
                                            smoothing eps: Float, ignoreIndex: Int32, scale: Float, out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let o = out + r * n, p = probs + r * n
            let t = targets[r]
            if t == ignoreIndex { o.update(repeating: 0, count: n); continue }
            let shift = eps / Float(n)
            let s16 = V16(repeating: scale), sh16 = V16(repeating: shift)
            var j = 0
            while j + 16 <= n { storeF16((loadF16(p + j) - sh16) * s16, o + j); j += 16 }
            while j < n { o[j] = (p[j] - shift) * scale; j += 1 }
            o[Int(t)] -= (1 - eps) * scale
        }
    }
}
