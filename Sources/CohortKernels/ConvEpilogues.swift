// The passes between a convolution's GEMM layout `[O, samples·pixels]` and NCHW:
// bias, ReLU and max pooling fused into the forward's output pass, and the
// gradient's way back (masked by the ReLU, routed through the pooling argmax).

extension Conv {
    /// `out[n, o, p] = act(gemm[o, n·P + p] + bias[o])`: GEMM layout back to NCHW.
    package static func scatterOutput(channels O: Int, pixels P: Int, samples nb: Int, _ gemm: UnsafePointer<Float>,
                                     bias: UnsafePointer<Float>?, relu: Bool, _ out: UnsafeMutablePointer<Float>) {
        let ld = nb * P
        for n in 0..<nb {
            for o in 0..<O {
                let s = gemm + o * ld + n * P, d = out + (n * O + o) * P
                let b = bias?[o] ?? 0
                let bv = V16(repeating: b), zero = V16(repeating: 0)
                var p = 0
                if relu {
                    while p + 16 <= P { let v = loadF16(s + p) + bv; storeF16(v.replacing(with: zero, where: v .< zero), d + p); p += 16 }
                    while p < P { let v = s[p] + b; d[p] = v < 0 ? 0 : v; p += 1 }
                } else {
                    while p + 16 <= P { storeF16(loadF16(s + p) + bv, d + p); p += 16 }
                    while p < P { d[p] = s[p] + b; p += 1 }
                }
            }
        }
    }

    /// Fused epilogue with pooling: `out[n, o, ph, pw] = act(max over the pool×pool window of
    /// gemm[o, n·P + …] + bias[o])`, and the window's argmax (in-plane index).
    /// Ties keep the first maximum in row-major order; NaN propagates.
    package static func poolOutput(_ g: ConvGeometry, pool k: Int, samples nb: Int, _ gemm: UnsafePointer<Float>,
                                  bias: UnsafePointer<Float>?, relu: Bool, _ out: UnsafeMutablePointer<Float>,
                                  argmax: UnsafeMutablePointer<Int32>) {
        let O = g.outChannels, OW = g.outW, P = g.outPixels, ld = nb * P
        let PH = g.outH / k, PW = OW / k, pooled = PH * PW
        let end = gemm + O * ld + 16   // the GEMM buffer's slack may be read
        let outEnd = out + nb * O * pooled, argmaxEnd = argmax + nb * O * pooled
        for n in 0..<nb {
            for o in 0..<O {
                let src = gemm + o * ld + n * P
                let dst = out + (n * O + o) * pooled, idx = argmax + (n * O + o) * pooled
                let b = bias?[o] ?? 0
                for ph in 0..<PH {
                    let r0 = src + ph * k * OW
                    if k == 2 {
                        Pool.maxRow2x2(r0, pitch: OW, count: PW, sourceEnd: end, bias: b, relu: relu,
                                       dst + ph * PW, argmax: idx + ph * PW, outEnd: outEnd, argmaxEnd: argmaxEnd,
                                       indexBase: ph * k * OW)
                        continue
                    }
                    for pw in 0..<PW {
                        let (m, mi) = maxWindow(r0 + pw * k, OW, k)
                        let v = m + b
                        dst[ph * PW + pw] = relu && v < 0 ? 0 : v
                        idx[ph * PW + pw] = Int32(ph * k * OW + pw * k + mi)
                    }
                }
            }
        }
    }

    /// `dst[argmax[q]] = mask[q] > 0 ? dy[q] : 0` for `q` in `range`, without a branch per element
    /// (the mask is a ReLU output: about half its entries are 0, in no predictable order).
    @inline(__always)
    static func scatterMasked(_ range: Range<Int>, _ dy: UnsafePointer<Float>, mask: UnsafePointer<Float>,
                              argmax: UnsafePointer<Int32>, _ dst: UnsafeMutablePointer<Float>) {
        var q = range.lowerBound
        let none = SIMD4<UInt32>(repeating: 0)
        while q + 4 <= range.upperBound {
            let keep = none.replacing(with: .max, where: UnsafeRawPointer(mask + q).loadUnaligned(as: SIMD4<Float>.self) .> 0)
            let bits = UnsafeRawPointer(dy + q).loadUnaligned(as: SIMD4<UInt32>.self) & keep
            let at = UnsafeRawPointer(argmax + q).loadUnaligned(as: SIMD4<Int32>.self)
            dst[Int(at[0])] = Float(bitPattern: bits[0]); dst[Int(at[1])] = Float(bitPattern: bits[1])
            dst[Int(at[2])] = Float(bitPattern: bits[2]); dst[Int(at[3])] = Float(bitPattern: bits[3])
            q += 4
        }
        while q < range.upperBound { dst[Int(argmax[q])] = mask[q] > 0 ? dy[q] : 0; q += 1 }
    }

    /// Maximum of a k×k window at `p` (row pitch `w`) and its offset; first maximum wins, NaN wins.
    @inline(__always)
    static func maxWindow(_ p: UnsafePointer<Float>, _ w: Int, _ k: Int) -> (Float, Int) {
        var m = -Float.infinity, mi = 0
        for i in 0..<k {
            for j in 0..<k {
                let v = p[i * w + j]
                if v.isNaN { return (v, i * w + j) }
                if v > m { m = v; mi = i * w + j }
            }
        }
        return (m, mi)
    }

    /// `gemm[o, n·P + p] = dy[n, o, p]`, zeroed where `mask[n, o, p] ≤ 0` when a mask is given.
    package static func gatherGradient(channels O: Int, pixels P: Int, samples nb: Int, _ dy: UnsafePointer<Float>,
                                      mask: UnsafePointer<Float>?, _ gemm: UnsafeMutablePointer<Float>) {
        let ld = nb * P
        for n in 0..<nb {
            for o in 0..<O {
                let s = dy + (n * O + o) * P, d = gemm + o * ld + n * P
                if let mask {
                    let m = mask + (n * O + o) * P
                    let zero = V16(repeating: 0)
                    var p = 0
                    while p + 16 <= P { storeF16(zero.replacing(with: loadF16(s + p), where: loadF16(m + p) .> zero), d + p); p += 16 }
                    while p < P { d[p] = m[p] > 0 ? s[p] : 0; p += 1 }
                } else {
                    copyRow(P, s, d)
                }
            }
        }
    }
}
