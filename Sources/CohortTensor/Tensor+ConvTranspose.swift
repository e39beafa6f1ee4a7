// Transposed 2-D convolution (NCHW) on conv2d's kernels: its forward is conv2d's
// input gradient (a GEMM with the weight, then col2im), its input gradient is a conv2d
// of the output gradient, and its weight gradient is conv2d's weight gradient with the
// roles of input and output gradient swapped.
import CohortCore
import CohortKernels

extension Tensor {
    /// Transposed 2-D convolution (PyTorch's `conv_transpose2d`), the gradient of `conv2d` with
    /// respect to its input.
    ///
    /// - Parameters:
    ///   - x: input `[N, C, H, W]`.
    ///   - weight: `[C, O / groups, kh, kw]`.
    ///   - bias: `[O]` or nil.
    ///   - stride, padding: those of the convolution this transposes (padding crops the output).
    ///   - outputPadding: extra rows/columns added at the bottom/right of the output; each must be
    ///     smaller than the stride.
    ///   - groups: `C` and `O` split into independent convolutions.
    /// - Returns: `[N, O, oh, ow]` with `oh = (H - 1)·sh - 2·ph + dh·(kh - 1) + oph + 1` (likewise `ow`).
    /// - Throws: `CohortError.shapeMismatch` naming the shapes when input, weight and bias do not fit or
    ///   the output would be empty; `CohortError.invalidArgument` for a stride or dilation < 1, negative
    ///   padding, groups < 1, or an output padding not smaller than the stride.
    public static func convTranspose2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: IntOrPair = 1, padding: IntOrPair = 0,
                                       outputPadding: IntOrPair = 0, dilation: IntOrPair = 1, groups: Int = 1) throws -> Tensor {
        let g = try convTransposeGeometry(x.shape, weight.shape, bias: bias?.shape, stride: stride, padding: padding,
                                          outputPadding: outputPadding, dilation: dilation, groups: groups)
        let batch = x.shape[0], planes = g.height * g.width
        let xc = x.contiguous(), wc = weight.contiguous(), bc = bias?.contiguous()
        let out = Tensor(uninitialized: [batch, g.channels, g.height, g.width])
        let workers = BLAS.threads
        do {
            let scratch = Storage(count: Conv.scratchCount(g, batch: batch, workers: workers, backward: true))
            // conv2d's input gradient for an output gradient x; x is also passed as the (unread) conv input.
            Conv.backward(g, batch: batch, x: out.base, weight: wc.base, dy: xc.base, reluOutput: nil,
                          dx: out.base, dw: nil, db: nil, scratch: scratch.pointer, workers: workers)
        }
        if let bc {
            for n in 0..<batch {
                for o in 0..<g.channels { addBias(out, bc, n, o, planes) }
            }
        }
        let (dx, dw) = (xc.detached(), wc.detached())
        let inputs = bc.map { [xc, wc, $0] } ?? [xc, wc]
        return record(out, "convTranspose2d", inputs) { g0, ctx in
            let gy = g0.contiguous()
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            let workers = BLAS.threads
            if ctx.needs(0) {
                gx = Tensor(uninitialized: dx.shape)
                let scratch = Storage(count: Conv.scratchCount(g, batch: batch, workers: workers, backward: false))
                Conv.forward(g, batch: batch, x: gy.base, weight: dw.base, bias: nil, relu: false, out: gx!.base,
                             scratch: scratch.pointer, workers: workers)
            }
            if ctx.needs(1) {
                var acc = ctx.accumulator(1)
                if acc == nil { gw = Tensor.zeros(dw.shape); acc = gw }
                let scratch = Storage(count: Conv.scratchCount(g, batch: batch, workers: workers, backward: true))
                Conv.backward(g, batch: batch, x: gy.base, weight: dw.base, dy: dx.base, reluOutput: nil,
                              dx: nil, dw: acc!.base, db: nil, scratch: scratch.pointer, workers: workers)
            }
            if inputs.count == 3 && ctx.needs(2) {
                let r = Tensor.zeros([g.channels])
                for n in 0..<batch {
                    for o in 0..<g.channels { r.base[o] += Reduce.sum(planes, gy.base + (n * g.channels + o) * planes) }
                }
                gb = r
            }
            return inputs.count == 3 ? [gx, gw, gb] : [gx, gw]
        }
    }

    private static func addBias(_ out: Tensor, _ b: Tensor, _ n: Int, _ o: Int, _ planes: Int) {
        let c = out.shape[1], v = b.base[o], p = out.base + (n * c + o) * planes
        for i in 0..<planes { p[i] += v }
    }

    /// The geometry of the convolution whose input gradient a transposed convolution computes:
    /// `channels`/`height`/`width` are the transposed convolution's output, `outChannels` its input channels.
    static func convTransposeGeometry(_ xs: [Int], _ ws: [Int], bias: [Int]?, stride: IntOrPair, padding: IntOrPair,
                                      outputPadding: IntOrPair, dilation: IntOrPair, groups: Int) throws -> ConvGeometry {
        let op = "convTranspose2d"
        let both = "input \(describeShape(xs)), weight \(describeShape(ws))"
        guard xs.count == 4 else { throw CohortError.shapeMismatch(op: op, "input must be [N, C, H, W]; got \(both)") }
        guard ws.count == 4 else { throw CohortError.shapeMismatch(op: op, "weight must be [C, O/groups, kh, kw]; got \(both)") }
        try checkConvArguments(op, stride: stride, padding: padding, dilation: dilation, groups: groups)
        let op0 = outputPadding.first, op1 = outputPadding.second
        // PyTorch also allows an output padding below a larger dilation; not supported here.
        guard op0 >= 0, op1 >= 0, op0 < stride.first, op1 < stride.second else {
            throw CohortError.invalidArgument("\(op): output padding \(outputPadding) must be ≥ 0 and smaller than the stride \(stride)")
        }
        let c = xs[1]
        guard ws[0] == c, c % groups == 0 else {
            throw CohortError.shapeMismatch(op: op, "\(both): weight dimension 0 must be the input channels \(c), divisible by groups \(groups)")
        }
        guard ws[2] >= 1, ws[3] >= 1, ws[1] >= 1 else { throw CohortError.shapeMismatch(op: op, "\(both): empty kernel") }
        let o = ws[1] * groups
        if let bias, bias != [o] {
            throw CohortError.shapeMismatch(op: op, "bias \(describeShape(bias)) must be [\(o)] for weight \(describeShape(ws)) and groups \(groups)")
        }
        let oh = (xs[2] - 1) * stride.first - 2 * padding.first + dilation.first * (ws[2] - 1) + op0 + 1
        let ow = (xs[3] - 1) * stride.second - 2 * padding.second + dilation.second * (ws[3] - 1) + op1 + 1
        guard xs[2] >= 1, xs[3] >= 1, oh >= 1, ow >= 1 else {
            throw CohortError.shapeMismatch(op: op, "\(both): the output would be \(oh)×\(ow) (padding \(padding) crops more than the input covers)")
        }
        let g = ConvGeometry(channels: o, height: oh, width: ow, outChannels: c, kernel: (ws[2], ws[3]),
                             stride: stride.pair, padding: padding.pair, dilation: dilation.pair, groups: groups)
        precondition(g.outH == xs[2] && g.outW == xs[3], "convTranspose2d: geometry \(g) does not invert \(describeShape(xs))")
        return g
    }
}
