// im2col and col2im: the column matrix a convolution multiplies by its weights,
// and its adjoint, which scatters column gradients back onto the input. Short
// rows are moved in whole SSE vectors where the buffers allow it (see `Conv`).

extension Conv {
    /// The valid output columns `[lo, hi)` for kernel column `j`: those reading inside the input row.
    @inline(__always)
    static func validRange(out: Int, size: Int, stride s: Int, offset: Int) -> (Int, Int) {
        // out index o reads input o·s + offset; need 0 ≤ o·s + offset < size.
        let lo = offset >= 0 ? 0 : (-offset + s - 1) / s
        let hiRaw = size - offset <= 0 ? 0 : (size - 1 - offset) / s + 1
        let hi = Swift.min(out, hiRaw)
        return (Swift.min(lo, hi), hi)
    }

    /// Columns of `nb` samples: `col[(c·kh + i)·kw + j][n·P + oh·ow_ + ow] = x[n, c, oh·sh - ph + i·dh, ow·sw - pw + j·dw]`
    /// (0 outside the input). `col` needs 16 floats of slack; `sourceEnd` bounds what may be read.
    package static func im2col(_ g: ConvGeometry, _ x: UnsafePointer<Float>, samples nb: Int, _ col: UnsafeMutablePointer<Float>,
                              sourceEnd: UnsafePointer<Float>) {
        let H = g.height, W = g.width, OH = g.outH, OW = g.outW, P = OH * OW, ld = nb * P
        let plane = H * W, sw = g.strideW
        var row = col
        for c in 0..<g.channels {
            for i in 0..<g.kernelH {
                let ioff = i * g.dilationH - g.padH
                let (ohLo, ohHi) = validRange(out: OH, size: H, stride: g.strideH, offset: ioff)
                for j in 0..<g.kernelW {
                    let joff = j * g.dilationW - g.padW
                    let (lo, hi) = validRange(out: OW, size: W, stride: sw, offset: joff)
                    for n in 0..<nb {
                        let src = x + (n * g.channels + c) * plane + joff
                        let dst = row + n * P
                        if ohLo > 0 { dst.update(repeating: 0, count: ohLo * OW) }
                        for oh in ohLo..<ohHi {
                            let s = src + (oh * g.strideH + ioff) * W
                            let d = dst + oh * OW
                            for ow in 0..<lo { d[ow] = 0 }
                            if sw == 1 {
                                // Whole 16-lane copies: the overshoot lands in positions written later (or the slack).
                                let n = hi - lo
                                if s + lo + (n + 3) / 4 * 4 <= sourceEnd { copyRowOvershooting(n, s + lo, d + lo) } else { copyRow(n, s + lo, d + lo) }
                            } else {
                                for ow in lo..<hi { d[ow] = s[ow * sw] }
                            }
                            for ow in hi..<OW { d[ow] = 0 }
                        }
                        if ohHi < OH { (dst + ohHi * OW).update(repeating: 0, count: (OH - ohHi) * OW) }
                    }
                    row += ld
                }
            }
        }
    }

    /// The adjoint of `im2col`: adds every column entry into the input position it was read from.
    /// `col` needs 16 floats of slack; `destinationEnd` bounds what may be read and rewritten.
    package static func col2im(_ g: ConvGeometry, _ col: UnsafePointer<Float>, samples nb: Int, _ dx: UnsafeMutablePointer<Float>,
                              destinationEnd: UnsafeMutablePointer<Float>) {
        let H = g.height, W = g.width, OH = g.outH, OW = g.outW, P = OH * OW, ld = nb * P
        let plane = H * W, sw = g.strideW
        var row = col
        for c in 0..<g.channels {
            for i in 0..<g.kernelH {
                let ioff = i * g.dilationH - g.padH
                let (ohLo, ohHi) = validRange(out: OH, size: H, stride: g.strideH, offset: ioff)
                for j in 0..<g.kernelW {
                    let joff = j * g.dilationW - g.padW
                    let (lo, hi) = validRange(out: OW, size: W, stride: sw, offset: joff)
                    for n in 0..<nb {
                        let dst = dx + (n * g.channels + c) * plane + joff
                        let src = row + n * P
                        for oh in ohLo..<ohHi {
                            let d = dst + (oh * g.strideH + ioff) * W
                            let s = src + oh * OW
                            if sw == 1 {
                                let n = hi - lo
                                if d + lo + (n + 3) / 4 * 4 <= destinationEnd { addRowRewritingTail(n, s + lo, d + lo) } else { addRow(n, s + lo, d + lo) }
                            } else {
                                for ow in lo..<hi { d[ow * sw] += s[ow] }
                            }
                        }
                    }
                    row += ld
                }
            }
        }
    }

}

/// Copies `n` floats (short rows: no call into memcpy).
@inline(__always)
func copyRow(_ n: Int, _ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 16 <= n { storeF16(loadF16(s + i), d + i); i += 16 }
    while i + 4 <= n {
        UnsafeMutableRawPointer(d + i).storeBytes(of: UnsafeRawPointer(s + i).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
        i += 4
    }
    while i < n { d[i] = s[i]; i += 1 }
}

/// Copies `n` floats in whole 4-lane blocks, writing up to 3 floats past `d + n` and
/// reading as far past `s + n`; the caller guarantees both are allowed.
@inline(__always)
func copyRowOvershooting(_ n: Int, _ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>) {
    var i = 0
    while i < n {
        UnsafeMutableRawPointer(d + i).storeBytes(of: UnsafeRawPointer(s + i).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
        i += 4
    }
}

/// `d[i] += s[i]` for `n` floats in 4-lane blocks; the last block is a read-modify-write of
/// whole lanes that adds 0 past `n`, so 3 floats past `d + n` and `s + n` must be readable
/// and those of `d` writable.
@inline(__always)
func addRowRewritingTail(_ n: Int, _ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>) {
    typealias V4 = SIMD4<Float>
    var i = 0
    while i + 4 <= n {
        let v = UnsafeRawPointer(d + i).loadUnaligned(as: V4.self) + UnsafeRawPointer(s + i).loadUnaligned(as: V4.self)
        UnsafeMutableRawPointer(d + i).storeBytes(of: v, as: V4.self)
        i += 4
    }
    if i < n {
        let keep = SIMD4<Int32>(0, 1, 2, 3) .< SIMD4<Int32>(repeating: Int32(n - i))
        let add = SIMD4<UInt32>(repeating: 0).replacing(with: UnsafeRawPointer(s + i).loadUnaligned(as: SIMD4<UInt32>.self), where: keep)
        let v = UnsafeRawPointer(d + i).loadUnaligned(as: V4.self) + unsafeBitCast(add, to: V4.self)
        UnsafeMutableRawPointer(d + i).storeBytes(of: v, as: V4.self)
    }
}

/// `d[i] += s[i]` for `n` floats.
@inline(__always)
func addRow(_ n: Int, _ s: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>) {
    var i = 0
    while i + 16 <= n { storeF16(loadF16(d + i) + loadF16(s + i), d + i); i += 16 }
    while i + 4 <= n {
        let a = UnsafeRawPointer(d + i).loadUnaligned(as: SIMD4<Float>.self), b = UnsafeRawPointer(s + i).loadUnaligned(as: SIMD4<Float>.self)
        UnsafeMutableRawPointer(d + i).storeBytes(of: a + b, as: SIMD4<Float>.self)
        i += 4
    }
    while i < n { d[i] += s[i]; i += 1 }
}
