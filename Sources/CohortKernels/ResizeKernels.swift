// Nearest and bilinear resizing of [planes, H, W] images (Upsample), with
// PyTorch's source-index rules (align_corners = false). Each output axis gets a
// table of two source indices and two weights; nearest uses weights 1 and 0, so
// one forward and one backward loop serve both modes.

/// Per output position along one axis: the two source positions and their weights.
package struct ResizeAxis: Sendable {
    package var index0: [Int], index1: [Int]
    package var weight0: [Float], weight1: [Float]

    /// The table for `output` positions read from `input` ones. `scale` is the source step per
    /// output step (`1 / scaleFactor` when a factor was given, else `input / output`).
    /// Nearest: `min(⌊dst·scale⌋, input − 1)`; linear: `src = max(scale·(dst + ½) − ½, 0)`
    /// between `⌊src⌋` and the next position (clamped), as PyTorch computes them in Float.
    package init(input: Int, output: Int, scale: Float, linear: Bool) {
        index0 = []; index1 = []; weight0 = []; weight1 = []
        for d in 0..<output {
            if linear {
                let src = Swift.max(scale * (Float(d) + 0.5) - 0.5, 0)
                let i0 = Swift.min(Int(src), input - 1)
                let l1 = src - Float(i0)
                index0.append(i0); index1.append(i0 + (i0 < input - 1 ? 1 : 0))
                weight0.append(1 - l1); weight1.append(l1)
            } else {
                let i0 = Swift.min(Int((Float(d) * scale).rounded(.down)), input - 1)
                index0.append(i0); index1.append(i0)
                weight0.append(1); weight1.append(0)
            }
        }
    }
}

/// Resize kernels over contiguous `[planes, inH, inW]` → `[planes, outH, outW]`.
package enum Resize {
    /// `out[p, i, j] = Σ wh·ww·x[p, hᵢ, wⱼ]` over the two source rows and columns of each output.
    package static func forward(planes: Int, inH: Int, inW: Int, rows h: ResizeAxis, columns w: ResizeAxis,
                                x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let outH = h.index0.count, outW = w.index0.count
        for p in 0..<planes {
            let src = x + p * inH * inW, dst = out + p * outH * outW
            for i in 0..<outH {
                let r0 = src + h.index0[i] * inW, r1 = src + h.index1[i] * inW
                let a0 = h.weight0[i], a1 = h.weight1[i]
                for j in 0..<outW {
                    let c0 = w.index0[j], c1 = w.index1[j], b0 = w.weight0[j], b1 = w.weight1[j]
                    dst[i * outW + j] = a0 * (b0 * r0[c0] + b1 * r0[c1]) + a1 * (b0 * r1[c0] + b1 * r1[c1])
                }
            }
        }
    }

    /// The input gradient: each output gradient spread back over its source pixels with the
    /// forward's weights. Overwrites `dx`.
    package static func backward(planes: Int, inH: Int, inW: Int, rows h: ResizeAxis, columns w: ResizeAxis,
                                 dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let outH = h.index0.count, outW = w.index0.count
        dx.update(repeating: 0, count: planes * inH * inW)
        for p in 0..<planes {
            let g = dy + p * outH * outW, dst = dx + p * inH * inW
            for i in 0..<outH {
                let r0 = dst + h.index0[i] * inW, r1 = dst + h.index1[i] * inW
                let a0 = h.weight0[i], a1 = h.weight1[i]
                for j in 0..<outW {
                    let v = g[i * outW + j]
                    let c0 = w.index0[j], c1 = w.index1[j], b0 = w.weight0[j] * v, b1 = w.weight1[j] * v
                    r0[c0] += a0 * b0; r0[c1] += a0 * b1
                    r1[c0] += a1 * b0; r1[c1] += a1 * b1
                }
            }
        }
    }
}
