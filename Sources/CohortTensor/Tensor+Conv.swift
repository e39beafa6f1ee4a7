// 2-D convolution (NCHW) through im2col + sgemm (CohortKernels/ConvKernels),
// with its backward beside it: the weight and bias gradients are accumulated
// by BLAS straight into the parameters' (arena) gradient buffers, as `linear` does.
import CohortCore
import CohortKernels

/// A size given once for both spatial dimensions (`3`) or per dimension (`[3, 1]`, `IntOrPair(3, 1)`).
public struct IntOrPair: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// Height (first) and width (second) component.
    public let first: Int, second: Int

    /// The same value for height and width.
    public init(_ value: Int) { first = value; second = value }
    /// Separate values for height and width.
    public init(_ first: Int, _ second: Int) { self.first = first; self.second = second }
    public init(integerLiteral value: Int) { self.init(value) }
    /// `[h, w]`; a one-element array means both. Other lengths give (-1, -1), which every op rejects.
    public init(arrayLiteral elements: Int...) {
        switch elements.count {
        case 1: self.init(elements[0])
        case 2: self.init(elements[0], elements[1])
        default: self.init(-1, -1)
        }
    }

    var pair: (Int, Int) { (first, second) }
    public var description: String { first == second ? "\(first)" : "(\(first), \(second))" }
}

extension Tensor {
    /// 2-D convolution (cross-correlation, as PyTorch's `conv2d`).
    ///
    /// - Parameters:
    ///   - x: input `[N, C, H, W]`.
    ///   - weight: `[O, C / groups, kh, kw]`.
    ///   - bias: `[O]` or nil.
    ///   - stride, padding (zeros), dilation: per spatial dimension.
    ///   - groups: splits the channels into independent convolutions; `C` and `O` must be divisible by it
    ///     (`groups == C` is a depthwise convolution).
    ///   - fuseReLU: applies `max(·, 0)` in the same pass that writes the output, so
    ///     `conv2d(…, fuseReLU: true)` equals `conv2d(…).relu()` without two extra passes over the output.
    ///   - fuseMaxPool: `k` > 1 max-pools the output over non-overlapping k×k windows (stride k)
    ///     in that same pass: `conv2d(…, fuseReLU: true, fuseMaxPool: 2)` equals
    ///     `conv2d(…).relu().maxPool2d(kernel: 2)`, without ever writing the unpooled output.
    /// - Returns: `[N, O, oh, ow]` with `oh = (H + 2·ph - dh·(kh - 1) - 1) / sh + 1` (likewise `ow`),
    ///   or `[N, O, oh / k, ow / k]` with `fuseMaxPool: k`.
    /// - Throws: `CohortError.shapeMismatch` naming the input and weight shapes when they do not fit
    ///   together (ranks, channels, groups, bias, an input smaller than the kernel);
    ///   `CohortError.invalidArgument` for a stride or dilation < 1, negative padding, groups < 1,
    ///   or a pooling window < 1 or larger than the output.
    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: IntOrPair = 1, padding: IntOrPair = 0,
                              dilation: IntOrPair = 1, groups: Int = 1, fuseReLU: Bool = false, fuseMaxPool: Int? = nil) throws -> Tensor {
        let g = try convGeometry(x.shape, weight.shape, bias: bias?.shape, stride: stride, padding: padding,
                                 dilation: dilation, groups: groups)
        let pool = fuseMaxPool ?? 1
        guard pool >= 1, g.outH / pool >= 1, g.outW / pool >= 1 else {
            throw CohortError.invalidArgument("conv2d: fused max-pool window \(pool) must be ≥ 1 and fit the output \(g.outH)×\(g.outW)")
        }
        let batch = x.shape[0]
        let xc = x.contiguous(), wc = weight.contiguous(), bc = bias?.contiguous()
        let out = Tensor(uninitialized: [batch, g.outChannels, g.outH / pool, g.outW / pool])
        let argmax = pool > 1 ? Storage(count: out.count) : nil   // Int32 indices, in a Float-sized recycled buffer
        let workers = BLAS.threads
        do {
            let scratch = Storage(count: Conv.scratchCount(g, batch: batch, workers: workers, backward: false))
            withArgmax(argmax) { am in
                Conv.forward(g, batch: batch, x: xc.base, weight: wc.base, bias: bc.map { UnsafePointer($0.base) }, relu: fuseReLU,
                             pool: pool, argmax: am, out: out.base, scratch: scratch.pointer, workers: workers)
            }
        }
        let (dx, dw) = (xc.detached(), wc.detached())
        let savedOut = fuseReLU ? out.detached() : nil
        let inputs = bc.map { [xc, wc, $0] } ?? [xc, wc]
        return record(out, "conv2d", inputs) { g0, ctx in
            let gy = g0.contiguous()
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if ctx.needs(0) { gx = Tensor(uninitialized: dx.shape) }
            var wAcc: Tensor?, bAcc: Tensor?
            if ctx.needs(1) {
                wAcc = ctx.accumulator(1)
                if wAcc == nil { gw = Tensor.zeros(dw.shape); wAcc = gw }
            }
            if inputs.count == 3 && ctx.needs(2) {
                bAcc = ctx.accumulator(2)
                if bAcc == nil { gb = Tensor.zeros([g.outChannels]); bAcc = gb }
            }
            if gx == nil && wAcc == nil && bAcc == nil { return inputs.count == 3 ? [nil, nil, nil] : [nil, nil] }
            let workers = BLAS.threads
            let scratch = Storage(count: Conv.scratchCount(g, batch: batch, workers: workers, backward: true))
            withArgmax(argmax) { am in
                Conv.backward(g, batch: batch, x: dx.base, weight: dw.base, dy: gy.base,
                              reluOutput: savedOut.map { UnsafePointer($0.base) }, pool: pool, argmax: am.map { UnsafePointer($0) },
                              dx: gx?.base, dw: wAcc?.base, db: bAcc?.base, scratch: scratch.pointer, workers: workers)
            }
            return inputs.count == 3 ? [gx, gw, gb] : [gx, gw]
        }
    }

    /// Runs `body` with `storage` viewed as Int32 indices (nil stays nil).
    static func withArgmax<R>(_ storage: Storage?, _ body: (UnsafeMutablePointer<Int32>?) -> R) -> R {
        guard let storage else { return body(nil) }
        return storage.pointer.withMemoryRebound(to: Int32.self, capacity: storage.count) { body($0) }
    }

    /// Checks the arguments every convolution (and transposed convolution) shares.
    /// - Throws: `CohortError.invalidArgument` naming `op` and the argument out of range.
    static func checkConvArguments(_ op: String, stride: IntOrPair, padding: IntOrPair, dilation: IntOrPair, groups: Int) throws {
        guard stride.first >= 1, stride.second >= 1 else { throw CohortError.invalidArgument("\(op): stride must be ≥ 1, got \(stride)") }
        guard dilation.first >= 1, dilation.second >= 1 else { throw CohortError.invalidArgument("\(op): dilation must be ≥ 1, got \(dilation)") }
        guard padding.first >= 0, padding.second >= 0 else { throw CohortError.invalidArgument("\(op): padding must be ≥ 0, got \(padding)") }
        guard groups >= 1 else { throw CohortError.invalidArgument("\(op): groups must be ≥ 1, got \(groups)") }
    }

    /// Checks a convolution's shapes and arguments and returns its geometry.
    static func convGeometry(_ xs: [Int], _ ws: [Int], bias: [Int]?, stride: IntOrPair, padding: IntOrPair,
                             dilation: IntOrPair, groups: Int) throws -> ConvGeometry {
        let op = "conv2d"
        let both = "input \(describeShape(xs)), weight \(describeShape(ws))"
        guard xs.count == 4 else { throw CohortError.shapeMismatch(op: op, "input must be [N, C, H, W]; got \(both)") }
        guard ws.count == 4 else { throw CohortError.shapeMismatch(op: op, "weight must be [O, C/groups, kh, kw]; got \(both)") }
        try checkConvArguments(op, stride: stride, padding: padding, dilation: dilation, groups: groups)
        let (c, o) = (xs[1], ws[0])
        guard c % groups == 0, o % groups == 0 else {
            throw CohortError.shapeMismatch(op: op, "\(both): input channels \(c) and output channels \(o) must both be divisible by groups \(groups)")
        }
        guard ws[1] == c / groups else {
            throw CohortError.shapeMismatch(op: op, "\(both): weight dimension 1 must be input channels / groups = \(c)/\(groups) = \(c / groups)")
        }
        guard ws[2] >= 1, ws[3] >= 1 else { throw CohortError.shapeMismatch(op: op, "\(both): empty kernel") }
        if let bias, bias != [o] {
            throw CohortError.shapeMismatch(op: op, "bias \(describeShape(bias)) must be [\(o)] for weight \(describeShape(ws))")
        }
        let g = ConvGeometry(channels: c, height: xs[2], width: xs[3], outChannels: o, kernel: (ws[2], ws[3]),
                             stride: stride.pair, padding: padding.pair, dilation: dilation.pair, groups: groups)
        guard g.outH >= 1, g.outW >= 1 else {
            throw CohortError.shapeMismatch(op: op, "\(both): the input (padded by \(padding)) is smaller than the kernel " +
                                            "(dilated extent \(g.dilationH * (g.kernelH - 1) + 1)×\(g.dilationW * (g.kernelW - 1) + 1))")
        }
        return g
    }
}
