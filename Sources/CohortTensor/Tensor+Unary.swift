// Unary math and activations on vectorised kernels (SIMD polynomials for
// exp/tanh/sigmoid/erf), each with its backward.
import CohortCore
import CohortKernels

extension Tensor {
    /// Applies `op` elementwise, recording its derivative.
    func unary(_ op: UnaryOp) -> Tensor {
        let x = contiguous()
        let out = Tensor(uninitialized: shape)
        Elementwise.unary(op, count, x.base, out.base)
        let (dx, dy) = (x.detached(), out.detached())
        return record(out, "\(op)", [x], rule: .unary(op)) { g, _ in
            let gc = g.contiguous()
            let n = gc.count
            let r = Tensor(uninitialized: gc.shape)
            switch op {
            case .relu, .gelu: Elementwise.activationBackward(op, n, grad: gc.base, saved: dx.base, r.base)
            case .tanh, .sigmoid, .exp: Elementwise.activationBackward(op, n, grad: gc.base, saved: dy.base, r.base)
            case .neg: Elementwise.unary(.neg, n, gc.base, r.base)
            case .log: return [raw(.div, gc, dx)]
            case .sqrt: return [raw(.div, raw(.mul, gc, Tensor.scalar(0.5)), dy)]
            case .abs: return [raw(.mul, gc, dx.unaryRaw(.sign))]
            case .square: return [raw(.mul, gc, raw(.mul, dx, Tensor.scalar(2)))]
            case .reciprocal: return [raw(.mul, gc, raw(.mul, dy, dy)).negatedRaw()]
            case .sign: r.base.update(repeating: 0, count: n)
            }
            return [r]
        }
    }

    /// e^x.
    public func exp() -> Tensor { unary(.exp) }
    /// Natural logarithm.
    public func log() -> Tensor { unary(.log) }
    /// Square root.
    public func sqrt() -> Tensor { unary(.sqrt) }
    /// Absolute value (subgradient 0 at 0).
    public func abs() -> Tensor { unary(.abs) }
    /// Hyperbolic tangent.
    public func tanh() -> Tensor { unary(.tanh) }
    /// Logistic sigmoid.
    public func sigmoid() -> Tensor { unary(.sigmoid) }
    /// max(x, 0).
    public func relu() -> Tensor { unary(.relu) }
    /// GELU with the exact erf form: x·Φ(x).
    public func gelu() -> Tensor { unary(.gelu) }
    /// x².
    public func square() -> Tensor { unary(.square) }
    /// 1/x.
    public func reciprocal() -> Tensor { unary(.reciprocal) }
    /// -1, 0 or 1 (gradient zero).
    public func sign() -> Tensor { unary(.sign) }

    /// x^p for a constant exponent `p`.
    public func pow(_ p: Float) -> Tensor {
        if p == 2 { return square() }
        let x = contiguous()
        let out = raw(.pow, x, Tensor.scalar(p))
        let dx = x.detached()
        return record(out, "pow", [x], rule: .powScalar(p)) { g, _ in
            [raw(.mul, g, raw(.mul, raw(.pow, dx, Tensor.scalar(p - 1)), Tensor.scalar(p)))]
        }
    }

    /// Clamps every element into `[low, high]` (gradient passes where unclamped).
    public func clamp(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
        let x = contiguous()
        let out = Tensor(uninitialized: shape)
        for i in 0..<count { out.base[i] = Swift.min(Swift.max(x.base[i], low), high) }
        let dx = x.detached()
        return record(out, "clamp", [x], rule: .clamp(low: low, high: high)) { g, _ in
            let gc = g.contiguous()
            let r = Tensor(uninitialized: gc.shape)
            for i in 0..<r.count { let v = dx.base[i]; r.base[i] = (v >= low && v <= high) ? gc.base[i] : 0 }
            return [r]
        }
    }
}
