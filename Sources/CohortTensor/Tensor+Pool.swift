// Spatial pooling over the last two dimensions of `[N, C, H, W]` (or `[C, H, W]`):
// max (backward routes to the saved argmax), average, and adaptive average,
// each with its backward beside the forward (CohortKernels/PoolKernels).
import CohortCore
import CohortKernels

extension Tensor {
    /// Validates a pooling call and returns its geometry and the number of planes.
    func poolGeometry(_ op: String, kernel: IntOrPair, stride: IntOrPair?, padding: IntOrPair) throws -> (PoolGeometry, Int) {
        guard rank == 3 || rank == 4 else {
            throw CohortError.shapeMismatch(op: op, "input must be [N, C, H, W] or [C, H, W], got \(describeShape(shape))")
        }
        let s = stride ?? kernel
        guard kernel.first >= 1, kernel.second >= 1 else { throw CohortError.invalidArgument("\(op): kernel size must be ≥ 1, got \(kernel)") }
        guard s.first >= 1, s.second >= 1 else { throw CohortError.invalidArgument("\(op): stride must be ≥ 1, got \(s)") }
        guard padding.first >= 0, padding.second >= 0, padding.first * 2 <= kernel.first, padding.second * 2 <= kernel.second else {
            throw CohortError.invalidArgument("\(op): padding must be between 0 and half the kernel size \(kernel), got \(padding)")
        }
        let (h, w) = (shape[rank - 2], shape[rank - 1])
        let g = PoolGeometry(height: h, width: w, kernel: kernel.pair, stride: s.pair, padding: padding.pair)
        guard g.outH >= 1, g.outW >= 1 else {
            throw CohortError.shapeMismatch(op: op, "input \(describeShape(shape)) padded by \(padding) is smaller than the kernel \(kernel)")
        }
        guard h * w <= Int(Int32.max) else { throw CohortError.invalidArgument("\(op): planes of \(h)×\(w) exceed 2^31 elements") }
        return (g, shape.dropLast(2).reduce(1, *))
    }

    /// Max pooling over windows of `kernel` moved by `stride` (default: `kernel`),
    /// with implicit `-inf` padding (at most half the kernel). Gradients flow to each
    /// window's maximum (the first one on ties).
    /// - Returns: `[N, C, oh, ow]` with `oh = (H + 2·ph - kh) / sh + 1`.
    /// - Throws: `CohortError.shapeMismatch` for a rank other than 3 or 4 or an input smaller
    ///   than the window; `CohortError.invalidArgument` for bad kernel, stride or padding.
    public func maxPool2d(kernel: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0) throws -> Tensor {
        let (g, planes) = try poolGeometry("maxPool2d", kernel: kernel, stride: stride, padding: padding)
        let x = contiguous()
        let outShape = Array(shape.dropLast(2)) + [g.outH, g.outW]
        let out = Tensor(uninitialized: outShape)
        let argmax = Storage(count: out.count)   // Int32 indices, in a Float-sized recycled buffer
        argmax.pointer.withMemoryRebound(to: Int32.self, capacity: out.count) {
            Pool.maxForward(g, planes: planes, x.base, out.base, argmax: $0)
        }
        let inShape = shape
        return record(out, "maxPool2d", [x]) { g0, _ in
            let gy = g0.contiguous()
            let gx = Tensor(uninitialized: inShape)
            argmax.pointer.withMemoryRebound(to: Int32.self, capacity: argmax.count) {
                Pool.maxBackward(g, planes: planes, gy.base, argmax: $0, gx.base)
            }
            return [gx]
        }
    }

    /// Average pooling over windows of `kernel` moved by `stride` (default: `kernel`), with
    /// zero padding counted in the divisor (PyTorch's `count_include_pad=True`).
    /// - Returns: `[N, C, oh, ow]` with `oh = (H + 2·ph - kh) / sh + 1`.
    /// - Throws: as `maxPool2d`.
    public func avgPool2d(kernel: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0) throws -> Tensor {
        let (g, planes) = try poolGeometry("avgPool2d", kernel: kernel, stride: stride, padding: padding)
        let x = contiguous()
        let out = Tensor(uninitialized: Array(shape.dropLast(2)) + [g.outH, g.outW])
        Pool.avgForward(g, planes: planes, x.base, out.base)
        let inShape = shape
        return record(out, "avgPool2d", [x]) { g0, _ in
            let gy = g0.contiguous()
            let gx = Tensor(uninitialized: inShape)
            Pool.avgBackward(g, planes: planes, gy.base, gx.base)
            return [gx]
        }
    }

    /// Adaptive average pooling to `outputSize`: output cell `i` averages inputs
    /// `floor(i·H/oh) ..< ceil((i+1)·H/oh)` (likewise along the width), as PyTorch.
    /// - Returns: `[N, C, oh, ow]`.
    /// - Throws: `CohortError.shapeMismatch` for a rank other than 3 or 4;
    ///   `CohortError.invalidArgument` for an output size < 1.
    public func adaptiveAvgPool2d(_ outputSize: IntOrPair) throws -> Tensor {
        guard rank == 3 || rank == 4 else {
            throw CohortError.shapeMismatch(op: "adaptiveAvgPool2d", "input must be [N, C, H, W] or [C, H, W], got \(describeShape(shape))")
        }
        let (oh, ow) = outputSize.pair
        guard oh >= 1, ow >= 1 else { throw CohortError.invalidArgument("adaptiveAvgPool2d: output size must be ≥ 1, got \(outputSize)") }
        let (h, w) = (shape[rank - 2], shape[rank - 1])
        guard h >= 1, w >= 1 else { throw CohortError.shapeMismatch(op: "adaptiveAvgPool2d", "empty input \(describeShape(shape))") }
        let planes = shape.dropLast(2).reduce(1, *)
        let x = contiguous()
        let out = Tensor(uninitialized: Array(shape.dropLast(2)) + [oh, ow])
        Pool.adaptiveAvgForward(planes: planes, height: h, width: w, outH: oh, outW: ow, x.base, out.base)
        let inShape = shape
        return record(out, "adaptiveAvgPool2d", [x]) { g0, _ in
            let gy = g0.contiguous()
            let gx = Tensor(uninitialized: inShape)
            Pool.adaptiveAvgBackward(planes: planes, height: h, width: w, outH: oh, outW: ow, gy.base, gx.base)
            return [gx]
        }
    }
}
