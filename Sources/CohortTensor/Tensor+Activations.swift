// Parameterised activations (LeakyReLU, ELU, SiLU, Softplus, Mish) and PReLU with
// learned slopes, each one op whose backward reads the saved input
// (kernels: CohortKernels/ActivationKernels). No double-backward rule.
import CohortCore
import CohortKernels

extension Tensor {
    /// Applies `a` elementwise, recording its derivative from the saved input.
    func activation(_ a: Activation) -> Tensor {
        let x = contiguous()
        let out = Tensor(uninitialized: shape)
        ActivationKernels.forward(a, count, x.base, out.base)
        let dx = x.detached()
        return record(out, a.description, [x]) { g, _ in
            let gc = g.contiguous()
            let r = Tensor(uninitialized: gc.shape)
            ActivationKernels.backward(a, gc.count, grad: gc.base, x: dx.base, r.base)
            return [r]
        }
    }

    /// `x > 0 ? x : negativeSlope·x` (PyTorch's `leaky_relu`; gradient `negativeSlope` at 0).
    public func leakyRelu(negativeSlope: Float = 0.01) -> Tensor { activation(.leakyRelu(slope: negativeSlope)) }
    /// `x > 0 ? x : α·(eˣ − 1)` (PyTorch's `elu`).
    public func elu(alpha: Float = 1) -> Tensor { activation(.elu(alpha: alpha)) }
    /// `x·σ(x)`, also called swish (PyTorch's `silu`).
    public func silu() -> Tensor { activation(.silu) }
    /// `log(1 + e^{βx}) / β`, and `x` itself where `βx > threshold` (PyTorch's `softplus`).
    public func softplus(beta: Float = 1, threshold: Float = 20) -> Tensor { activation(.softplus(beta: beta, threshold: threshold)) }
    /// `x·tanh(softplus(x))` (PyTorch's `mish`).
    public func mish() -> Tensor { activation(.mish) }

    /// PReLU (PyTorch's `prelu`): `x > 0 ? x : w·x` with a learned slope per channel.
    ///
    /// - Parameters:
    ///   - x: input; its channels are dimension 1 (`[N, C, …]`); below rank 2 there is one channel, as in PyTorch.
    ///   - weight: `[1]` (one slope shared by all elements) or `[C]`.
    /// - Returns: a tensor shaped like `x`.
    /// - Throws: `CohortError.shapeMismatch` naming both shapes when `weight` is neither `[1]` nor `[C]`.
    public static func prelu(_ x: Tensor, weight: Tensor) throws -> Tensor {
        let channels = x.rank >= 2 ? x.shape[1] : 1
        let shared = weight.shape == [1]
        guard shared || weight.shape == [channels] else {
            throw CohortError.shapeMismatch(op: "prelu", "weight \(describeShape(weight.shape)) must be [1] or [\(channels)] " +
                                            "(the channels of input \(describeShape(x.shape)))")
        }
        let xc = x.contiguous(), wc = weight.contiguous()
        let outer = x.rank >= 2 ? x.shape[0] : 1
        let inner = channels == 0 || outer == 0 ? 0 : x.count / (outer * channels)
        let out = Tensor(uninitialized: x.shape)
        ActivationKernels.prelu(outer: outer, channels: channels, inner: inner, x: xc.base, weight: wc.base, shared: shared, out: out.base)
        let (dx, dw) = (xc.detached(), wc.detached())
        return record(out, "prelu", [xc, wc]) { g, ctx in
            let gc = g.contiguous()
            let gx = ctx.needs(0) ? Tensor(uninitialized: dx.shape) : nil
            let gw = ctx.needs(1) ? Tensor.zeros(dw.shape) : nil
            ActivationKernels.preluBackward(outer: outer, channels: channels, inner: inner, grad: gc.base, x: dx.base,
                                            weight: dw.base, shared: shared, dx: gx?.base, dw: gw?.base)
            return [gx, gw]
        }
    }
}
