// Scalar random variates in Double from a `RandomGenerator`: the algorithms
// behind every `sample`. Normal by Box–Muller, Gamma by Marsaglia–Tsang (2000),
// Poisson by inversion below λ = 10 and Hörmann's PTRS (1993) above, Binomial by
// inversion when n·min(p, 1 − p) < 10 and otherwise by Knuth's order-statistic
// splitting (TAOCP vol. 2, 3.4.1): a Beta variate halves n until inversion is cheap.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CohortCore
import CohortStats
import CohortTensor

enum Variates {
    /// Uniform in the open interval (0, 1).
    static func openUniform(_ g: inout RandomGenerator) -> Double {
        while true { let u = g.nextDouble(); if u > 0 { return u } }
    }

    /// A standard normal draw (Box–Muller, one of the pair).
    static func normal(_ g: inout RandomGenerator) -> Double {
        let u1 = openUniform(&g), u2 = g.nextDouble()
        return BoxMuller.first(u1, u2)
    }

    /// log of a Gamma(shape α, rate 1) draw; the log keeps tiny draws (α ≪ 1) from underflowing to 0.
    static func logGamma(_ alpha: Double, _ g: inout RandomGenerator) -> Double {
        if alpha < 1 {
            // Gamma(α) = Gamma(α + 1) · U^(1/α) (Marsaglia–Tsang's boost).
            return logGamma(alpha + 1, &g) + log(openUniform(&g)) / alpha
        }
        let d = alpha - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            let x = normal(&g), v1 = 1 + c * x
            if v1 <= 0 { continue }
            let v = v1 * v1 * v1, u = openUniform(&g)
            if log(u) < 0.5 * x * x + d - d * v + d * log(v) { return log(d * v) }
        }
    }

    /// A Beta(α, β) draw as X / (X + Y) with X ~ Gamma(α), Y ~ Gamma(β), formed from logs.
    static func beta(_ alpha: Double, _ beta: Double, _ g: inout RandomGenerator) -> Double {
        let lx = logGamma(alpha, &g), ly = logGamma(beta, &g)
        return 1 / (1 + exp(ly - lx))
    }

    /// A Poisson(λ) draw.
    static func poisson(_ lambda: Double, _ g: inout RandomGenerator) -> Double {
        if lambda == 0 { return 0 }
        if lambda < 10 {
            // Inversion by sequential search from 0.
            var k = 0.0, p = exp(-lambda), s = p
            let u = g.nextDouble()
            while u > s && k < 1000 { k += 1; p *= lambda / k; s += p }
            return k
        }
        // PTRS: transformed rejection with squeeze (Hörmann 1993), as in NumPy.
        let slam = lambda.squareRoot(), loglam = log(lambda)
        let b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b
        let invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = g.nextDouble() - 0.5, v = g.nextDouble()
            let us = 0.5 - abs(u)
            let k = ((2 * a / us + b) * u + lambda + 0.43).rounded(.down)
            if us >= 0.07 && v <= vr { return k }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if log(v) + log(invalpha) - log(a / (us * us) + b) <= -lambda + k * loglam - CohortStats.logGamma(k + 1) {
                return k
            }
        }
    }

    /// A Binomial(n, p) draw.
    static func binomial(_ n: Double, _ p: Double, _ g: inout RandomGenerator) -> Double {
        if p <= 0 || n == 0 { return 0 }
        if p >= 1 { return n }
        if p > 0.5 { return n - binomial(n, 1 - p, &g) }
        if n * p < 10 { return binomialInversion(n, p, &g) }
        // The i-th smallest of n uniforms is Beta(i, n − i + 1): compare it with p and recurse on one side.
        let i = (n / 2).rounded(.down) + 1
        let x = beta(i, n - i + 1, &g)
        if x < p { return i + binomial(n - i, (p - x) / (1 - x), &g) }
        return binomial(i - 1, p / x, &g)
    }

    /// Binomial by inversion (sequential search), for n·p < 10 and p ≤ ½.
    private static func binomialInversion(_ n: Double, _ p: Double, _ g: inout RandomGenerator) -> Double {
        let q = 1 - p, r = p / q, s = r * (n + 1)
        var u = g.nextDouble(), k = 0.0, px = exp(n * log1p(-p))
        while u > px {
            u -= px
            k += 1
            if k > n { u = g.nextDouble(); k = 0; px = exp(n * log1p(-p)); continue }   // rounding ran off: redraw
            px *= s / k - r
        }
        return k
    }
}
