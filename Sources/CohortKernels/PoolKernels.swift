// Pooling loops over independent planes (`[planes, H, W]`, contiguous): max
// pooling with the argmax saved for backward, average pooling (zero padding
// counted in the divisor, as PyTorch's default) and adaptive average pooling.

/// Window sizes of a 2-D pooling.
package struct PoolGeometry: Sendable, Equatable {
    /// Input plane height and width.
    package let height: Int, width: Int
    /// Window extent, stride and implicit padding along height and width.
    package let kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padH: Int, padW: Int

    package init(height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)) {
        self.height = height; self.width = width
        (kernelH, kernelW) = kernel; (strideH, strideW) = stride; (padH, padW) = padding
    }

    /// Output height `(H + 2p - k) / s + 1` (floor mode).
    package var outH: Int { outSize(height + 2 * padH - kernelH, strideH) }
    /// Output width.
    package var outW: Int { outSize(width + 2 * padW - kernelW, strideW) }
}

/// Pooling kernels.
package enum Pool {
    /// Max pooling of `planes` planes; `argmax[i]` receives the in-plane index
    /// (`h·W + w`) of each output's maximum.
    /// Ties keep the first maximum in row-major order; a NaN wins (PyTorch's rule).
    package static func maxForward(_ g: PoolGeometry, planes: Int, _ x: UnsafePointer<Float>,
                                  _ out: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
        let H = g.height, W = g.width, OH = g.outH, OW = g.outW
        if g.kernelH == 2 && g.kernelW == 2 && g.strideH == 2 && g.strideW == 2 && g.padH == 0 && g.padW == 0 {
            max2x2(planes: planes, H: H, W: W, OH: OH, OW: OW, x, out, argmax)
            return
        }
        for pl in 0..<planes {
            let src = x + pl * H * W
            let dst = out + pl * OH * OW, idx = argmax + pl * OH * OW
            for oh in 0..<OH {
                let h0 = oh * g.strideH - g.padH
                let hs = Swift.max(h0, 0), he = Swift.min(h0 + g.kernelH, H)
                for ow in 0..<OW {
                    let w0 = ow * g.strideW - g.padW
                    let ws = Swift.max(w0, 0), we = Swift.min(w0 + g.kernelW, W)
                    var m = -Float.infinity, mi = hs * W + ws
                    for h in hs..<he {
                        for w in ws..<we {
                            let v = src[h * W + w]
                            if v > m || v.isNaN { m = v; mi = h * W + w; if v.isNaN { break } }
                        }
                        if m.isNaN { break }
                    }
                    dst[oh * OW + ow] = m
                    idx[oh * OW + ow] = Int32(mi)
                }
            }
        }
    }

    /// The common 2×2, stride 2 case without padding.
    static func max2x2(planes: Int, H: Int, W: Int, OH: Int, OW: Int, _ x: UnsafePointer<Float>,
                       _ out: UnsafeMutablePointer<Float>, _ argmax: UnsafeMutablePointer<Int32>) {
        let end = x + planes * H * W
        for pl in 0..<planes {
            let src = x + pl * H * W
            for oh in 0..<OH {
                let q = (pl * OH + oh) * OW
                maxRow2x2(src + 2 * oh * W, pitch: W, count: OW, sourceEnd: end, bias: 0, relu: false,
                          out + q, argmax: argmax + q, outEnd: out + planes * OH * OW, argmaxEnd: argmax + planes * OH * OW,
                          indexBase: 2 * oh * W)
            }
        }
    }

    /// One output row of 2×2, stride-2 max pooling: output `i` is the maximum of `r[2i]`,
    /// `r[2i+1]`, `r[pitch+2i]`, `r[pitch+2i+1]` (plus `bias`, then max(·, 0) with `relu`);
    /// `argmax[i]` = `indexBase` + the in-row offset of that maximum. Four outputs per step
    /// (SSE-width vectors: the package builds for baseline x86-64), branch-free; the last
    /// block stores whole vectors when `out`/`argmax` may be written up to `outEnd` (later
    /// outputs overwrite the overshoot). Ties keep the first maximum in row-major order; a
    /// NaN takes the ordered scalar path.
    @inline(__always)
    static func maxRow2x2(_ r: UnsafePointer<Float>, pitch: Int, count: Int, sourceEnd: UnsafePointer<Float>,
                          bias: Float, relu: Bool, _ out: UnsafeMutablePointer<Float>,
                          argmax: UnsafeMutablePointer<Int32>, outEnd: UnsafeMutablePointer<Float>, argmaxEnd: UnsafeMutablePointer<Int32>,
                          indexBase: Int) {
        typealias V4 = SIMD4<Float>
        let lane2 = SIMD4<Int32>(0, 2, 4, 6), zero = V4(repeating: 0), izero = SIMD4<Int32>(repeating: 0)
        let pitch32 = SIMD4<Int32>(repeating: Int32(pitch)), bv = V4(repeating: bias)
        var i = 0
        while i < count {
            let p0 = r + 2 * i, p1 = p0 + pitch
            guard p1 + 8 <= sourceEnd, i + 4 <= count || (out + i + 4 <= outEnd && argmax + i + 4 <= argmaxEnd) else { break }
            let top = UnsafeRawPointer(p0).loadUnaligned(as: SIMD8<Float>.self)
            let bottom = UnsafeRawPointer(p1).loadUnaligned(as: SIMD8<Float>.self)
            let a = top.evenHalf, b = top.oddHalf, c = bottom.evenHalf, d = bottom.oddHalf
            let s = a + b + c + d
            if any(s .!= s) { break }
            // Each comparison feeds one select (which becomes maxps) or one Int32 mask: a
            // SIMDMask used twice is lowered lane by lane with branches on SSE2.
            let mt = a.replacing(with: b, where: b .> a), mb = c.replacing(with: d, where: d .> c)
            let right = izero.replacing(with: 1, where: b .> a), rightBelow = izero.replacing(with: 1, where: d .> c)
            let below = izero.replacing(with: -1, where: mb .> mt)
            var m = mt.replacing(with: mb, where: mb .> mt) + bv
            if relu { m = m.replacing(with: zero, where: m .< zero) }
            let column = (right & ~below) | (rightBelow & below)
            let idx = column &+ (below & pitch32) &+ lane2 &+ SIMD4<Int32>(repeating: Int32(indexBase + 2 * i))
            UnsafeMutableRawPointer(out + i).storeBytes(of: m, as: V4.self)
            UnsafeMutableRawPointer(argmax + i).storeBytes(of: idx, as: SIMD4<Int32>.self)
            i += 4
        }
        // Near the end of a buffer, or with a NaN in the block: the scalar, ordered path.
        while i < count {
            let (m0, mi) = Conv.maxWindow(r + 2 * i, pitch, 2)
            let m = m0 + bias
            out[i] = relu && m < 0 ? 0 : m
            argmax[i] = Int32(indexBase + 2 * i + mi)
            i += 1
        }
    }

    /// Max-pooling backward: `dx` (overwritten, `[planes, H, W]`) gets each output
    /// gradient at its saved argmax, summed where windows overlap.
    package static func maxBackward(_ g: PoolGeometry, planes: Int, _ dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>,
                                   _ dx: UnsafeMutablePointer<Float>) {
        let plane = g.height * g.width, outPlane = g.outH * g.outW
        dx.update(repeating: 0, count: planes * plane)
        for pl in 0..<planes {
            let d = dx + pl * plane, s = dy + pl * outPlane, idx = argmax + pl * outPlane
            for i in 0..<outPlane { d[Int(idx[i])] += s[i] }
        }
    }

    /// Average pooling; the divisor is the full window (padding counts as zeros).
    package static func avgForward(_ g: PoolGeometry, planes: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        let H = g.height, W = g.width, OH = g.outH, OW = g.outW
        let scale = 1 / Float(g.kernelH * g.kernelW)
        for pl in 0..<planes {
            let src = x + pl * H * W, dst = out + pl * OH * OW
            for oh in 0..<OH {
                let h0 = oh * g.strideH - g.padH
                let hs = Swift.max(h0, 0), he = Swift.min(h0 + g.kernelH, H)
                for ow in 0..<OW {
                    let w0 = ow * g.strideW - g.padW
                    let ws = Swift.max(w0, 0), we = Swift.min(w0 + g.kernelW, W)
                    var s: Float = 0
                    for h in hs..<he { for w in ws..<we { s += src[h * W + w] } }
                    dst[oh * OW + ow] = s * scale
                }
            }
        }
    }

    /// Average-pooling backward: spreads each output gradient over its window (`dx` overwritten).
    package static func avgBackward(_ g: PoolGeometry, planes: Int, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        let H = g.height, W = g.width, OH = g.outH, OW = g.outW
        let scale = 1 / Float(g.kernelH * g.kernelW)
        dx.update(repeating: 0, count: planes * H * W)
        for pl in 0..<planes {
            let dst = dx + pl * H * W, src = dy + pl * OH * OW
            for oh in 0..<OH {
                let h0 = oh * g.strideH - g.padH
                let hs = Swift.max(h0, 0), he = Swift.min(h0 + g.kernelH, H)
                for ow in 0..<OW {
                    let w0 = ow * g.strideW - g.padW
                    let ws = Swift.max(w0, 0), we = Swift.min(w0 + g.kernelW, W)
                    let v = src[oh * OW + ow] * scale
                    for h in hs..<he { for w in ws..<we { dst[h * W + w] += v } }
                }
            }
        }
    }

    /// Window `[start, end)` of adaptive pooling output `i` of `out` over `size` inputs:
    /// `floor(i·size/out)` to `ceil((i+1)·size/out)`, as in PyTorch.
    @inline(__always)
    package static func adaptiveWindow(_ i: Int, out: Int, size: Int) -> (Int, Int) {
        (i * size / out, ((i + 1) * size + out - 1) / out)
    }

    /// Adaptive average pooling of `[planes, H, W]` to `[planes, OH, OW]`.
    package static func adaptiveAvgForward(planes: Int, height H: Int, width W: Int, outH OH: Int, outW OW: Int,
                                          _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        for pl in 0..<planes {
            let src = x + pl * H * W, dst = out + pl * OH * OW
            for oh in 0..<OH {
                let (hs, he) = adaptiveWindow(oh, out: OH, size: H)
                for ow in 0..<OW {
                    let (ws, we) = adaptiveWindow(ow, out: OW, size: W)
                    var s: Float = 0
                    for h in hs..<he { s += Reduce.sum(we - ws, src + h * W + ws) }
                    dst[oh * OW + ow] = s / Float((he - hs) * (we - ws))
                }
            }
        }
    }

    /// Adaptive average-pooling backward (`dx` overwritten).
    package static func adaptiveAvgBackward(planes: Int, height H: Int, width W: Int, outH OH: Int, outW OW: Int,
                                           _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
        dx.update(repeating: 0, count: planes * H * W)
        for pl in 0..<planes {
            let dst = dx + pl * H * W, src = dy + pl * OH * OW
            for oh in 0..<OH {
                let (hs, he) = adaptiveWindow(oh, out: OH, size: H)
                for ow in 0..<OW {
                    let (ws, we) = adaptiveWindow(ow, out: OW, size: W)
                    let v = src[oh * OW + ow] / Float((he - hs) * (we - ws))
                    for h in hs..<he { for w in ws..<we { dst[h * W + w] += v } }
                }
            }
        }
    }
}
