// Parameterised activations (LeakyReLU, ELU, SiLU, Softplus, Mish) and PReLU's
// per-channel slopes: forward and backward over contiguous buffers, SIMD where the
// function has a vector form (exp, sigmoid, and log(1 + eᶻ) as an atanh series).

/// An elementwise activation with its constants, as PyTorch's module of the same name.
package enum Activation: Sendable, Equatable, CustomStringConvertible {
    /// `x > 0 ? x : slope·x`.
    case leakyRelu(slope: Float)
    /// `x > 0 ? x : α·(eˣ − 1)`.
    case elu(alpha: Float)
    /// `x·σ(x)`.
    case silu
    /// `log(1 + e^{βx}) / β`, and `x` where `βx > threshold`.
    case softplus(beta: Float, threshold: Float)
    /// `x·tanh(softplus(x))`.
    case mish

    package var description: String {
        switch self {
        case .leakyRelu: "leakyRelu"
        case .elu: "elu"
        case .silu: "silu"
        case .softplus: "softplus"
        case .mish: "mish"
        }
    }
}

/// Kernels of `Activation` and PReLU.
package enum ActivationKernels {
    @inline(__always)
    static func map(_ n: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ f: (V16) -> V16) {
        var i = 0
        while i + 16 <= n { storeF16(f(loadF16(x + i)), out + i); i += 16 }
        if i < n {
            var t = V16(repeating: 0)
            for j in 0..<(n - i) { t[j] = x[i + j] }
            let r = f(t)
            for j in 0..<(n - i) { out[i + j] = r[j] }
        }
    }

    /// `tanh(log(1 + eˣ))` without a logarithm: with `m = eˣ(eˣ + 2)` it is `m / (m + 2)`;
    /// 1 in Float32 beyond x = 20, where the product would overflow.
    @inline(__always)
    static func tanhSoftplus(_ x: V16) -> V16 {
        let e = simdExp(simdMin(x, V16(repeating: 20)))
        let m = e * (e + 2)
        return m / (m + 2)
    }

    /// `log(1 + eᶻ)` for `z ≤ 0`: with `t = eᶻ ∈ (0, 1]`, `log(1 + t) = 2·atanh(s)` for
    /// `s = t / (2 + t) ∈ [0, ⅓]`, whose odd series to s¹³ is within 1e-8 of it (the next
    /// term is 2·3⁻¹⁵/15 ≈ 9e-9); relative accuracy holds as `t → 0` since `s` avoids `1 + t`.
    @inline(__always)
    static func log1pExp(_ z: V16) -> V16 {
        let t = simdExp(z)
        let s = t / (2 + t), s2 = s * s
        var p = V16(repeating: 2 / 13)
        for c: Float in [2 / 11, 2 / 9, 2 / 7, 2 / 5, 2 / 3, 2] { p = p * s2 + c }
        return s * p
    }

    /// `out[i] = a(x[i])` over `n` contiguous elements.
    package static func forward(_ a: Activation, _ n: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        let zero = V16(repeating: 0)
        switch a {
        case let .leakyRelu(slope):
            map(n, x, out) { v in v.replacing(with: v * slope, where: v .<= zero) }
        case let .elu(alpha):
            map(n, x, out) { v in v.replacing(with: alpha * (simdExp(simdMin(v, zero)) - 1), where: v .<= zero) }
        case .silu:
            map(n, x, out) { v in v * simdSigmoid(v) }
        case let .softplus(beta, threshold):
            map(n, x, out) { v in
                let z = v * beta
                return ((simdMax(z, zero) + log1pExp(-simdAbs(z))) / beta).replacing(with: v, where: z .> V16(repeating: threshold))
            }
        case .mish:
            map(n, x, out) { v in v * tanhSoftplus(v) }
        }
    }

    /// `out[i] = g[i]·a′(x[i])` from the saved input `x`.
    package static func backward(_ a: Activation, _ n: Int, grad g: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                 _ out: UnsafeMutablePointer<Float>) {
        let zero = V16(repeating: 0)
        switch a {
        case let .leakyRelu(slope):
            Elementwise.zip(n, g, x, out) { g, v in g.replacing(with: g * slope, where: v .<= zero) }
        case let .elu(alpha):
            Elementwise.zip(n, g, x, out) { g, v in g.replacing(with: g * alpha * simdExp(simdMin(v, zero)), where: v .<= zero) }
        case .silu:
            Elementwise.zip(n, g, x, out) { g, v in
                let s = simdSigmoid(v)
                return g * s * (1 + v * (1 - s))
            }
        case let .softplus(beta, threshold):
            Elementwise.zip(n, g, x, out) { g, v in
                let z = v * beta
                return (g * simdSigmoid(z)).replacing(with: g, where: z .> V16(repeating: threshold))
            }
        case .mish:
            // d/dx x·tanh(sp(x)) = tanh(sp) + x·(1 − tanh²(sp))·σ(x).
            Elementwise.zip(n, g, x, out) { g, v in
                let t = tanhSoftplus(v)
                return g * (t + v * (1 - t * t) * simdSigmoid(v))
            }
        }
    }

    /// PReLU on `x` viewed as `[outer, channels, inner]`: `x > 0 ? x : w[c]·x`, with
    /// `w` of `channels` slopes, or one slope for all when `shared`.
    package static func prelu(outer: Int, channels: Int, inner: Int, x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                              shared: Bool, out: UnsafeMutablePointer<Float>) {
        for o in 0..<outer {
            for c in 0..<channels {
                let base = (o * channels + c) * inner, slope = w[shared ? 0 : c]
                map(inner, x + base, out + base) { v in v.replacing(with: v * slope, where: v .<= V16(repeating: 0)) }
            }
        }
    }

    /// PReLU's backward: `dx = x > 0 ? g : w[c]·g` (when `dx` is given) and `dw[c] += Σ g·x`
    /// over the elements of channel `c` with `x ≤ 0` (all channels into `dw[0]` when `shared`).
    package static func preluBackward(outer: Int, channels: Int, inner: Int, grad g: UnsafePointer<Float>, x: UnsafePointer<Float>,
                                      weight w: UnsafePointer<Float>, shared: Bool,
                                      dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?) {
        for o in 0..<outer {
            for c in 0..<channels {
                let base = (o * channels + c) * inner, slope = w[shared ? 0 : c]
                if let dx {
                    Elementwise.zip(inner, g + base, x + base, dx + base) { g, v in g.replacing(with: g * slope, where: v .<= 0) }
                }
                if let dw {
                    var acc: Double = 0
                    for i in 0..<inner where x[base + i] <= 0 { acc += Double(g[base + i] * x[base + i]) }
                    dw[shared ? 0 : c] += Float(acc)
                }
            }
        }
    }
}
