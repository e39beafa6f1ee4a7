// Inverses of the special functions, for quantiles: P(a, ·)⁻¹, Q(a, ·)⁻¹, I(a, b)⁻¹ and
// erf⁻¹/erfc⁻¹. Each solves in whichever tail holds the smaller probability, by Newton's
// method on log(tail) as a function of log x (where power-law tails are nearly linear),
// kept inside a bracket that bisection shrinks whenever a Newton step would leave it.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// I_x(a, b), the regularized incomplete beta function (scipy's `betainc`), for a, b > 0 and x in [0, 1];
/// NaN outside that domain. For the upper tail call it with (b, a, 1 − x) or use the `x:y:` form.
public func regularizedIncompleteBeta(_ a: Double, _ b: Double, x: Double) -> Double {
    guard a > 0, b > 0, x >= 0, x <= 1 else { return .nan }
    return regularizedIncompleteBeta(a, b, x: x, y: 1 - x)
}

/// The x ≥ 0 with P(a, x) = `p` (scipy's `gammaincinv`); 0 at p = 0, +∞ at p = 1.
/// Throws unless a is finite and positive and p is in [0, 1].
public func inverseRegularizedGammaP(_ a: Double, _ p: Double) throws -> Double {
    try validateShape(a, "inverseRegularizedGammaP", name: "a")
    try validateProbability(p, "inverseRegularizedGammaP")
    if p == 0 { return 0 }
    if p == 1 { return .infinity }
    return gammaQuantile(a, p: p, q: 1 - p, preferLower: p <= 0.5)
}

/// The x ≥ 0 with Q(a, x) = `q` (scipy's `gammainccinv`); +∞ at q = 0, 0 at q = 1.
/// Accurate for upper-tail probabilities down to ~1e-300. Throws unless a > 0 is finite and q is in [0, 1].
public func inverseRegularizedGammaQ(_ a: Double, _ q: Double) throws -> Double {
    try validateShape(a, "inverseRegularizedGammaQ", name: "a")
    try validateProbability(q, "inverseRegularizedGammaQ", name: "q")
    if q == 0 { return .infinity }
    if q == 1 { return 0 }
    return gammaQuantile(a, p: 1 - q, q: q, preferLower: q > 0.5)
}

/// The x in [0, 1] with I_x(a, b) = `p` (scipy's `betaincinv`). Throws unless a, b > 0 are finite and p is in [0, 1].
public func inverseRegularizedIncompleteBeta(_ a: Double, _ b: Double, p: Double) throws -> Double {
    try validateShape(a, "inverseRegularizedIncompleteBeta", name: "a")
    try validateShape(b, "inverseRegularizedIncompleteBeta", name: "b")
    try validateProbability(p, "inverseRegularizedIncompleteBeta")
    if p == 0 { return 0 }
    if p == 1 { return 1 }
    if p <= 0.5 { return betaLowerQuantile(a, b, p) }
    return 1 - betaLowerQuantile(b, a, 1 - p)   // I_x(a, b) = p  ⇔  I_{1−x}(b, a) = 1 − p
}

/// The inverse error function: erf(x) = `y` for y in [−1, 1] (±∞ at ±1). Throws outside [−1, 1].
public func inverseErf(_ y: Double) throws -> Double {
    guard y >= -1, y <= 1 else { throw StatsError.invalidArgument("inverseErf: y must be in [-1, 1], got \(y)") }
    if y == 1 { return .infinity }
    if y == -1 { return -.infinity }
    if y == 0 { return y }
    if abs(y) > 0.5 { return y > 0 ? try inverseErfc(1 - y) : -(try inverseErfc(1 + y)) }
    // Start from the normal quantile and polish with Newton on erf itself, whose precision near 0 is relative.
    var x = try Normal.quantile(0.5 + y / 2) / 2.0.squareRoot()
    for _ in 0..<3 { x -= (erf(x) - y) / (2 / Double.pi.squareRoot() * exp(-x * x)) }
    return x
}

/// The inverse complementary error function: erfc(x) = `z` for z in [0, 2] (+∞ at 0, −∞ at 2).
/// Accurate for z down to ~1e-300. Throws outside [0, 2].
public func inverseErfc(_ z: Double) throws -> Double {
    guard z >= 0, z <= 2 else { throw StatsError.invalidArgument("inverseErfc: z must be in [0, 2], got \(z)") }
    if z == 0 { return .infinity }
    if z == 2 { return -.infinity }
    if z > 0.5 && z < 1.5 { return try inverseErf(1 - z) }
    if z >= 1.5 { return -(try inverseErfc(2 - z)) }
    var x = -(try Normal.quantile(z / 2)) / 2.0.squareRoot()   // erfc(x) = 2Φ(−x√2)
    // Newton on log erfc(x), which is nearly quadratic in x in the tail.
    for _ in 0..<3 {
        let value = erfc(x)
        guard value > 0 else { break }
        let slope = -2 / Double.pi.squareRoot() * exp(-x * x) / value
        let step = (log(value) - log(z)) / slope
        if !step.isFinite { break }
        x -= step
    }
    return x
}

/// Throws unless a shape parameter is finite and positive.
func validateShape(_ a: Double, _ function: String, name: String) throws {
    guard a.isFinite, a > 0 else { throw StatsError.invalidArgument("\(function): \(name) must be finite and > 0, got \(a)") }
}

/// Solves P(a, x) = p (preferLower) or Q(a, x) = q in u = log x.
private func gammaQuantile(_ a: Double, p: Double, q: Double, preferLower: Bool) -> Double {
    // Wilson–Hilferty guess; for small p the series' first term, P ≈ xᵃ / Γ(a + 1), is better.
    let z = (try? Normal.quantile(preferLower ? p : 1 - q)) ?? 0
    let wh = a * pow(1 - 1 / (9 * a) + z / (3 * a.squareRoot()), 3)
    var guess = wh > 0 ? log(wh) : 0
    if preferLower {
        let small = (log(p) + logGamma(a + 1)) / a
        if small < -745 { return 0 }   // the quantile underflows (tiny a and p)
        if wh <= 0 || small < log(a) - 1 { guess = small }
    }
    let logTarget = preferLower ? log(p) : log(q)
    let u = solveIncreasing(guess: guess, lower: -745, upper: 709.7) { u in
        let x = exp(u)
        let tail = preferLower ? regularizedGammaP(a, x) : regularizedGammaQ(a, x)
        let logDensityTimesX = logGammaPrefactor(a, x)   // log(x · xᵃ⁻¹e⁻ˣ/Γ(a))
        let slope = exp(logDensityTimesX - log(tail))
        // log P increases with u; log Q decreases, so it is negated to make both increasing.
        return preferLower ? (log(tail) - logTarget, slope) : (logTarget - log(tail), slope)
    }
    return exp(u)
}

/// Solves I_x(a, b) = p for p ≤ ½ in u = log x.
private func betaLowerQuantile(_ a: Double, _ b: Double, _ p: Double) -> Double {
    let logB = logBeta(a, b), logTarget = log(p)
    // I_x ≈ xᵃ / (a B(a, b)) for small x.
    let guess = Swift.min((logTarget + log(a) + logB) / a, log(a / (a + b)))
    if guess < -745 { return 0 }   // the quantile underflows (tiny a and p)
    let u = solveIncreasing(guess: guess, lower: -745, upper: 0) { u in
        let x = exp(u), y = -expm1(u)
        let tail = regularizedIncompleteBeta(a, b, x: x, y: y)
        let logDensityTimesX = a * u + (b - 1) * log1p(-x) - logB
        return (log(tail) - logTarget, exp(logDensityTimesX - log(tail)))
    }
    return exp(u)
}

/// Finds u in [lower, upper] with g(u) = 0 for increasing g, given (g(u), g′(u)): Newton steps,
/// replaced by bisection whenever a step would leave the current bracket or is not finite.
func solveIncreasing(guess: Double, lower: Double, upper: Double, _ g: (Double) -> (value: Double, slope: Double)) -> Double {
    var lo = lower, hi = upper
    var u = Swift.min(Swift.max(guess.isFinite ? guess : (lower + upper) / 2, lower), upper)
    for _ in 0..<500 {
        let (value, slope) = g(u)
        if value == 0 { return u }
        if value.isNaN { u = (lo + hi) / 2; continue }
        if value < 0 { lo = u } else { hi = u }
        var next = u - value / slope
        if !(next > lo && next < hi) { next = (lo + hi) / 2 }
        if abs(next - u) <= 1e-15 * Swift.max(1, abs(u)) || hi - lo <= 1e-15 * Swift.max(1, abs(u)) { return next }
        u = next
    }
    return u
}
