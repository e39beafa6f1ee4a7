// Optimizer update rules as single vectorised passes over flat buffers
// (parameters, gradients and state all share one layout).
import Glibc

/// Fused parameter-update kernels. All pointers cover `n` contiguous elements.
package enum OptimizerKernels {
    /// SGD with optional momentum/Nesterov and L2 weight decay (PyTorch semantics;
    /// `firstStep` initialises the momentum buffer with the gradient).
    package static func sgd(_ n: Int, p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, buf: UnsafeMutablePointer<Float>?,
                           lr: Float, momentum: Float, dampening: Float, nesterov: Bool, weightDecay: Float, firstStep: Bool) {
        let vlr = V16(repeating: lr), vwd = V16(repeating: weightDecay), vmu = V16(repeating: momentum)
        let vdamp = V16(repeating: firstStep ? 1 : 1 - dampening)
        @inline(__always) func lane(_ pv: V16, _ gv0: V16, _ bv: V16) -> (V16, V16) {
            var gv = gv0
            if weightDecay != 0 { gv += vwd * pv }
            guard buf != nil else { return (pv - vlr * gv, bv) }
            let nb = firstStep ? gv : vmu * bv + vdamp * gv
            let step = nesterov ? gv + vmu * nb : nb
            return (pv - vlr * step, nb)
        }
        var i = 0
        while i + 16 <= n {
            let (np, nb) = lane(loadF16(p + i), loadF16(g + i), buf.map { loadF16($0 + i) } ?? V16())
            storeF16(np, p + i)
            if let buf { storeF16(nb, buf + i) }
            i += 16
        }
        while i < n {
            var gv = g[i]
            if weightDecay != 0 { gv += weightDecay * p[i] }
            if let buf {
                let nb = firstStep ? gv : momentum * buf[i] + (1 - dampening) * gv
                buf[i] = nb
                gv = nesterov ? gv + momentum * nb : nb
            }
            p[i] -= lr * gv
            i += 1
        }
    }

    /// Adam / AdamW. `decoupled` applies weight decay to the parameters (AdamW),
    /// otherwise it is added to the gradient (Adam's L2). `step` counts from 1.
    package static func adam(_ n: Int, p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                            m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                            lr: Float, beta1: Float, beta2: Float, eps: Float, weightDecay: Float, decoupled: Bool, step: Int) {
        let (stepSize, bc2Sqrt) = adamBiasCorrections(lr: lr, beta1: beta1, beta2: beta2, step: step)
        let decay: Float = decoupled ? 1 - lr * weightDecay : 1
        let l2: Float = decoupled ? 0 : weightDecay
        let vb1 = V16(repeating: beta1), vb2 = V16(repeating: beta2)
        let v1b1 = V16(repeating: 1 - beta1), v1b2 = V16(repeating: 1 - beta2)
        var i = 0
        while i + 16 <= n {
            var pv = loadF16(p + i)
            var gv = loadF16(g + i)
            if l2 != 0 { gv += V16(repeating: l2) * pv }
            if decay != 1 { pv *= V16(repeating: decay) }
            let mv = vb1 * loadF16(m + i) + v1b1 * gv
            let vv = vb2 * loadF16(v + i) + v1b2 * gv * gv
            storeF16(mv, m + i); storeF16(vv, v + i)
            let denom = vv.squareRoot() / V16(repeating: bc2Sqrt) + V16(repeating: eps)
            storeF16(pv - V16(repeating: stepSize) * mv / denom, p + i)
            i += 16
        }
        while i < n {
            var gv = g[i]
            if l2 != 0 { gv += l2 * p[i] }
            if decay != 1 { p[i] *= decay }
            m[i] = beta1 * m[i] + (1 - beta1) * gv
            v[i] = beta2 * v[i] + (1 - beta2) * gv * gv
            p[i] -= stepSize * m[i] / (v[i].squareRoot() / bc2Sqrt + eps)
            i += 1
        }
    }

    /// Adam's step size `lr / (1 − β1ᵗ)` and `√(1 − β2ᵗ)`, formed in Double and rounded to Float
    /// once at the end. Rounding β2ᵗ to Float before subtracting it from 1 would scale early
    /// updates by up to 1 ± 3.4e-6 (β2 = 0.999, t ≈ 10); `1 − βᵗ = −expm1(t·log1p(β − 1))`
    /// keeps full precision even where βᵗ is close to 1.
    package static func adamBiasCorrections(lr: Float, beta1: Float, beta2: Float, step: Int) -> (stepSize: Float, bc2Sqrt: Float) {
        func oneMinusPower(_ beta: Float) -> Double { -expm1(Double(step) * log1p(Double(beta) - 1)) }
        return (Float(Double(lr) / oneMinusPower(beta1)), Float(oneMinusPower(beta2).squareRoot()))
    }

    /// RMSprop (PyTorch semantics, no centering): `v = αv + (1-α)g²`,
    /// with momentum `buf = μ·buf + g/(√v+ε)`, `p -= lr·buf`; else `p -= lr·g/(√v+ε)`.
    package static func rmsprop(_ n: Int, p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                               v: UnsafeMutablePointer<Float>, buf: UnsafeMutablePointer<Float>?,
                               lr: Float, alpha: Float, eps: Float, momentum: Float, weightDecay: Float) {
        for i in 0..<n {
            var gv = g[i]
            if weightDecay != 0 { gv += weightDecay * p[i] }
            v[i] = alpha * v[i] + (1 - alpha) * gv * gv
            let upd = gv / (v[i].squareRoot() + eps)
            if let buf {
                buf[i] = momentum * buf[i] + upd
                p[i] -= lr * buf[i]
            } else {
                p[i] -= lr * upd
            }
        }
    }
}
