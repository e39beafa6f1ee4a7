// Per-channel loops for batch normalisation of `[N, C, S]` data (S = H·W for
// images, 1 for `[N, C]` features): channel sums, centred second moments and
// the per-channel affine maps the forward and backward passes reduce to.

/// Per-channel reductions and maps over `[N, C, S]` contiguous buffers.
package enum ChannelKernels {
    /// `out[c] = Σ_{n,s} x[n, c, s]`.
    package static func sums(n N: Int, channels C: Int, spatial S: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: C)
        if S == 1 {
            for i in 0..<N { addRow(C, x + i * C, out) }
            return
        }
        for i in 0..<N { for c in 0..<C { out[c] += Reduce.sum(S, x + (i * C + c) * S) } }
    }

    /// `out[c] = Σ_{n,s} a[n, c, s] · (b[n, c, s] - center[c])`; with `a == b` the centred sum of squares.
    package static func centeredDot(n N: Int, channels C: Int, spatial S: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                   center: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: C)
        if S == 1 {
            for i in 0..<N {
                let ra = a + i * C, rb = b + i * C
                for c in 0..<C { out[c] += ra[c] * (rb[c] - center[c]) }
            }
            return
        }
        for i in 0..<N {
            for c in 0..<C {
                let pa = a + (i * C + c) * S, pb = b + (i * C + c) * S
                let m = center[c], mv = V16(repeating: m)
                var acc0 = V16(), acc1 = V16()
                var k = 0
                while k + 32 <= S {
                    acc0 += loadF16(pa + k) * (loadF16(pb + k) - mv)
                    acc1 += loadF16(pa + k + 16) * (loadF16(pb + k + 16) - mv)
                    k += 32
                }
                while k + 16 <= S { acc0 += loadF16(pa + k) * (loadF16(pb + k) - mv); k += 16 }
                var s = (acc0 + acc1).sum()
                while k < S { s += pa[k] * (pb[k] - m); k += 1 }
                out[c] += s
            }
        }
    }

    /// `out[n, c, s] = x[n, c, s] · scale[c] + shift[c]` (`out` may alias `x`).
    package static func affine(n N: Int, channels C: Int, spatial S: Int, _ x: UnsafePointer<Float>,
                              scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        if S == 1 {
            for i in 0..<N {
                let r = x + i * C, o = out + i * C
                for c in 0..<C { o[c] = r[c] * scale[c] + shift[c] }
            }
            return
        }
        for i in 0..<N {
            for c in 0..<C {
                let p = x + (i * C + c) * S, o = out + (i * C + c) * S
                let a = scale[c], b = shift[c], av = V16(repeating: a), bv = V16(repeating: b)
                var k = 0
                while k + 16 <= S { storeF16(loadF16(p + k) * av + bv, o + k); k += 16 }
                while k < S { o[k] = p[k] * a + b; k += 1 }
            }
        }
    }

    /// `out[n, c, s] = x1[n, c, s] · a[c] + x2[n, c, s] · b[c] + shift[c]`.
    package static func affine2(n N: Int, channels C: Int, spatial S: Int, _ x1: UnsafePointer<Float>, _ a: UnsafePointer<Float>,
                               _ x2: UnsafePointer<Float>, _ b: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                               _ out: UnsafeMutablePointer<Float>) {
        if S == 1 {
            for i in 0..<N {
                let r1 = x1 + i * C, r2 = x2 + i * C, o = out + i * C
                for c in 0..<C { o[c] = r1[c] * a[c] + r2[c] * b[c] + shift[c] }
            }
            return
        }
        for i in 0..<N {
            for c in 0..<C {
                let off = (i * C + c) * S
                let p1 = x1 + off, p2 = x2 + off, o = out + off
                let av = V16(repeating: a[c]), bv = V16(repeating: b[c]), sv = V16(repeating: shift[c])
                var k = 0
                while k + 16 <= S { storeF16(loadF16(p1 + k) * av + loadF16(p2 + k) * bv + sv, o + k); k += 16 }
                while k < S { o[k] = p1[k] * a[c] + p2[k] * b[c] + shift[c]; k += 1 }
            }
        }
    }
}
