// Digamma, trigamma and the regularized incomplete gamma functions P(a, x) and Q(a, x),
// behind the chi-square, gamma and Poisson distributions. Series and Lentz continued
// fraction as in Numerical Recipes §6.2; the prefactor xᵃe⁻ˣ/Γ(a) is formed as
// −a·(t − log(1 + t)) + … for large a, so it keeps its precision where both logs are huge.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The digamma function ψ(x) = d/dx log Γ(x). Reflection for x < 0, upward recurrence to x ≥ 10 and
/// the asymptotic series there; absolute error ≈ 1e-15. NaN at the poles 0, −1, −2, … and for NaN.
public func digamma(_ x: Double) -> Double {
    if x.isNaN || x == -.infinity { return .nan }
    if x == .infinity { return .infinity }
    if x <= 0 {
        if x == x.rounded(.down) { return .nan }
        return digamma(1 - x) - Double.pi / tan(Double.pi * x)   // ψ(1 − x) − ψ(x) = π cot(πx)
    }
    var result = 0.0, z = x
    while z < 10 { result -= 1 / z; z += 1 }
    let inv2 = 1 / (z * z)
    // ψ(z) ~ ln z − 1/(2z) − 1/(12z²) + 1/(120z⁴) − 1/(252z⁶) + 1/(240z⁸) − 1/(132z¹⁰) + 691/(32760z¹²) − 1/(12z¹⁴)
    let inner = 1.0 / 132 - inv2 * (691.0 / 32760 - inv2 / 12)
    let series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * inner))))
    return result + log(z) - 0.5 / z - series
}

/// The trigamma function ψ′(x) = d²/dx² log Γ(x); relative error ≈ 1e-15 for x > 0.
/// NaN at the poles 0, −1, −2, … and for NaN.
public func trigamma(_ x: Double) -> Double {
    if x.isNaN || x == -.infinity { return .nan }
    if x == .infinity { return 0 }
    if x <= 0 {
        if x == x.rounded(.down) { return .nan }
        let s = sin(Double.pi * x)
        return Double.pi * Double.pi / (s * s) - trigamma(1 - x)   // ψ′(1 − x) + ψ′(x) = π² / sin²(πx)
    }
    var result = 0.0, z = x
    while z < 10 { result += 1 / (z * z); z += 1 }
    let inv = 1 / z, inv2 = inv * inv
    // ψ′(z) ~ 1/z + 1/(2z²) + Σ B₂ₖ/z²ᵏ⁺¹ = … + 1/(6z³) − 1/(30z⁵) + 1/(42z⁷) − 1/(30z⁹) + 5/(66z¹¹) − 691/(2730z¹³) + 7/(6z¹⁵)
    let inner = 5.0 / 66 - inv2 * (691.0 / 2730 - inv2 * 7 / 6)
    let tail = inv * inv2 * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (1.0 / 42 - inv2 * (1.0 / 30 - inv2 * inner))))
    return result + inv + 0.5 * inv2 + tail
}

/// The regularized lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a) for a > 0, x ≥ 0
/// (scipy's `gammainc`). NaN outside that domain. Small values keep full relative precision.
public func regularizedGammaP(_ a: Double, _ x: Double) -> Double {
    guard a > 0, a.isFinite, x >= 0 else { return .nan }
    if x == 0 { return 0 }
    if x == .infinity { return 1 }
    return x < a + 1 ? gammaSeries(a, x) : 1 - gammaContinuedFraction(a, x)
}

/// The regularized upper incomplete gamma function Q(a, x) = 1 − P(a, x) for a > 0, x ≥ 0
/// (scipy's `gammaincc`), computed directly so far-tail values (down to ~1e-308) keep their precision.
public func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
    guard a > 0, a.isFinite, x >= 0 else { return .nan }
    if x == 0 { return 1 }
    if x == .infinity { return 0 }
    return x < a + 1 ? 1 - gammaSeries(a, x) : gammaContinuedFraction(a, x)
}

/// log(xᵃ e⁻ˣ / Γ(a)), the common prefactor of the series and the continued fraction.
func logGammaPrefactor(_ a: Double, _ x: Double) -> Double {
    if a < 10 { return a * log(x) - x - logGamma(a) }
    // With log Γ(a) = (a − ½) log a − a + ½ log 2π + s(a) and t = (x − a)/a this is
    // −a·(t − log1p(t)) + ½ log a − ½ log 2π − s(a): no cancellation between huge terms.
    let t = (x - a) / a
    return -a * tMinusLog1p(t) + 0.5 * log(a) - 0.5 * log(2 * Double.pi) - stirlingCorrection(a)
}

/// t − log(1 + t) for t > −1, by its series for small |t| (where the subtraction would cancel).
func tMinusLog1p(_ t: Double) -> Double {
    guard abs(t) < 0.3 else { return t - log1p(t) }
    var power = t * t, sum = 0.0, k = 2.0, sign = 1.0
    while true {
        let term = sign * power / k
        sum += term
        if abs(term) <= 1e-17 * abs(sum) { return sum }
        power *= t; k += 1; sign = -sign
    }
}

/// s(a) = log Γ(a) − [(a − ½) log a − a + ½ log 2π] for a ≥ 10 (Stirling's series, five terms).
func stirlingCorrection(_ a: Double) -> Double {
    let inv = 1 / a, inv2 = inv * inv
    return inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 * (1.0 / 1680 - inv2 / 1188))))
}

/// P(a, x) by the series e⁻ˣxᵃ/Γ(a) · Σ xⁿ / (a(a+1)…(a+n)); used for x < a + 1.
private func gammaSeries(_ a: Double, _ x: Double) -> Double {
    var ap = a, term = 1 / a, sum = term
    for _ in 0..<1_000_000 {
        ap += 1
        term *= x / ap
        sum += term
        if term < sum * 1e-17 { break }
    }
    return exp(logGammaPrefactor(a, x) + log(sum))
}

/// Q(a, x) by the continued fraction (modified Lentz); used for x ≥ a + 1.
private func gammaContinuedFraction(_ a: Double, _ x: Double) -> Double {
    let tiny = 1e-300
    var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
    for i in 1..<1_000_000 {
        let an = -Double(i) * (Double(i) - a)
        b += 2
        d = an * d + b
        if abs(d) < tiny { d = tiny }
        c = b + an / c
        if abs(c) < tiny { c = tiny }
        d = 1 / d
        let delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-16 { break }
    }
    return exp(logGammaPrefactor(a, x) + log(h))
}
