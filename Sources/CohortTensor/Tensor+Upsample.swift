// Upsampling of [N, C, H, W] images by nearest neighbour or bilinear interpolation
// (PyTorch's `interpolate` with align_corners = false), by a scale factor or to a
// size, with its backward (kernels: CohortKernels/ResizeKernels).
import CohortCore
import CohortKernels

/// How `Tensor.upsample2d` interpolates.
public enum UpsampleMode: String, Sendable, CaseIterable {
    /// The source pixel `⌊dst / scale⌋` (PyTorch's `nearest`).
    case nearest
    /// Bilinear between the four nearest source pixels, `align_corners = false` (PyTorch's `bilinear`).
    case bilinear
}

extension Tensor {
    /// Resizes the last two dimensions of `x: [N, C, H, W]` as `torch.nn.functional.interpolate`
    /// (align_corners = false, recompute_scale_factor unset).
    ///
    /// - Parameters:
    ///   - size: the output height and width; or
    ///   - scaleFactor: a factor for both; the output is `⌊H·factor⌋ × ⌊W·factor⌋` and the source
    ///     positions step by `1 / factor` (as PyTorch when given a factor).
    ///   - mode: nearest or bilinear.
    /// - Returns: `[N, C, oh, ow]`.
    /// - Throws: `CohortError.shapeMismatch` for an input that is not `[N, C, H, W]`;
    ///   `CohortError.invalidArgument` unless exactly one of `size` and `scaleFactor` is given,
    ///   positive, and the output is at least 1×1.
    public static func upsample2d(_ x: Tensor, size: IntOrPair? = nil, scaleFactor: Float? = nil,
                                  mode: UpsampleMode = .nearest) throws -> Tensor {
        guard x.rank == 4 else { throw CohortError.shapeMismatch(op: "upsample2d", "input must be [N, C, H, W]; got \(describeShape(x.shape))") }
        guard (size == nil) != (scaleFactor == nil) else {
            throw CohortError.invalidArgument("upsample2d: give exactly one of size and scaleFactor")
        }
        let (inH, inW) = (x.shape[2], x.shape[3])
        let outH: Int, outW: Int, scaleH: Float, scaleW: Float
        if let f = scaleFactor {
            guard f > 0, f.isFinite else { throw CohortError.invalidArgument("upsample2d: scale factor must be > 0, got \(f)") }
            outH = Int((Double(inH) * Double(f)).rounded(.down)); outW = Int((Double(inW) * Double(f)).rounded(.down))
            scaleH = Float(1 / Double(f)); scaleW = scaleH
        } else {
            outH = size!.first; outW = size!.second
            scaleH = Float(inH) / Float(Swift.max(outH, 1)); scaleW = Float(inW) / Float(Swift.max(outW, 1))
        }
        guard outH >= 1, outW >= 1, inH >= 1, inW >= 1 else {
            throw CohortError.invalidArgument("upsample2d: input \(describeShape(x.shape)) would become \(outH)×\(outW)")
        }
        let linear = mode == .bilinear
        let rows = ResizeAxis(input: inH, output: outH, scale: scaleH, linear: linear)
        let cols = ResizeAxis(input: inW, output: outW, scale: scaleW, linear: linear)
        let planes = x.shape[0] * x.shape[1]
        let xc = x.contiguous()
        let out = Tensor(uninitialized: [x.shape[0], x.shape[1], outH, outW])
        Resize.forward(planes: planes, inH: inH, inW: inW, rows: rows, columns: cols, x: xc.base, out: out.base)
        let inShape = xc.shape
        return record(out, "upsample2d", [xc]) { g, _ in
            let gc = g.contiguous()
            let r = Tensor(uninitialized: inShape)
            Resize.backward(planes: planes, inH: inH, inW: inW, rows: rows, columns: cols, dy: gc.base, dx: r.base)
            return [r]
        }
    }
}
