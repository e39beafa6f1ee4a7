// Line searches along a descent direction d from x: Armijo backtracking, and the
// strong Wolfe search of Nocedal & Wright (Algorithms 3.5 and 3.6: bracket, then
// zoom with safeguarded cubic interpolation).
import CohortCore
import CohortTensor

/// Counts evaluations and rejects non-finite values with a clear error.
final class Evaluator {
    let objective: Objective
    let op: String
    var functionEvaluations = 0, gradientEvaluations = 0

    init(_ objective: Objective, op: String) { self.objective = objective; self.op = op }

    func valueAndGradient(_ x: [Double]) throws -> (value: Double, gradient: [Double]) {
        functionEvaluations += 1; gradientEvaluations += 1
        let r = try objective.valueAndGradient(x)
        guard r.gradient.count == x.count else {
            throw CohortError.shapeMismatch(op: op, "the objective's gradient has \(r.gradient.count) elements, x has \(x.count)")
        }
        return r
    }

    func value(_ x: [Double]) throws -> Double {
        guard let v = objective.value else { return try valueAndGradient(x).value }
        functionEvaluations += 1
        return try v(x)
    }
}

/// An accepted step: length, new point, value and gradient (nil when only the value was computed).
struct LineSearchStep {
    let alpha: Double
    let x: [Double]
    let value: Double
    let gradient: [Double]?
}

/// Backtracking from `alpha0` until f(x + αd) ≤ f + c₁ α ∇f·d; nil after `maxLineSearchSteps` trials.
func armijoSearch(_ e: Evaluator, x: [Double], f: Double, slope: Double, d: [Double], alpha0: Double,
                  options: MinimizeOptions) throws -> LineSearchStep? {
    var alpha = alpha0
    for _ in 0..<options.maxLineSearchSteps {
        let xt = axpy(x, alpha, d)
        let ft = try e.value(xt)
        if ft.isFinite && ft <= f + options.armijo * alpha * slope { return LineSearchStep(alpha: alpha, x: xt, value: ft, gradient: nil) }
        alpha *= options.backtrack
    }
    return nil
}

/// A step satisfying the strong Wolfe conditions, or nil if none was found in
/// `maxLineSearchSteps` evaluations.
func strongWolfeSearch(_ e: Evaluator, x: [Double], f: Double, slope: Double, d: [Double], alpha0: Double,
                       options: MinimizeOptions) throws -> LineSearchStep? {
    let (c1, c2) = (options.armijo, options.wolfe)
    var trials = 0
    func phi(_ a: Double) throws -> (Double, Double, [Double], [Double]) {
        trials += 1
        let xt = axpy(x, a, d)
        let (v, g) = try e.valueAndGradient(xt)
        return (v, dot(g, d), xt, g)
    }
    // Zoom on [lo, hi] where lo satisfies sufficient decrease with the lowest value so far.
    func zoom(_ lo0: (a: Double, f: Double, s: Double), _ hi0: (a: Double, f: Double, s: Double)) throws -> LineSearchStep? {
        var lo = lo0, hi = hi0
        while trials < options.maxLineSearchSteps {
            let a = interpolate(lo, hi)
            let (fa, sa, xa, ga) = try phi(a)
            if !fa.isFinite || fa > f + c1 * a * slope || fa >= lo.f {
                hi = (a, fa.isFinite ? fa : .greatestFiniteMagnitude, sa)
            } else {
                if Swift.abs(sa) <= -c2 * slope { return LineSearchStep(alpha: a, x: xa, value: fa, gradient: ga) }
                if sa * (hi.a - lo.a) >= 0 { hi = lo }
                lo = (a, fa, sa)
            }
            if Swift.abs(hi.a - lo.a) <= 1e-16 * Swift.max(1, lo.a) { break }
        }
        return nil
    }
    var prev = (a: 0.0, f: f, s: slope)
    var alpha = alpha0
    while trials < options.maxLineSearchSteps {
        let (fa, sa, xa, ga) = try phi(alpha)
        if !fa.isFinite || fa > f + c1 * alpha * slope || (trials > 1 && fa >= prev.f) {
            return try zoom(prev, (alpha, fa.isFinite ? fa : .greatestFiniteMagnitude, sa))
        }
        if Swift.abs(sa) <= -c2 * slope { return LineSearchStep(alpha: alpha, x: xa, value: fa, gradient: ga) }
        if sa >= 0 { return try zoom((alpha, fa, sa), prev) }
        prev = (alpha, fa, sa)
        alpha *= 2
    }
    return nil
}

/// The minimiser of the cubic through both ends' values and slopes, kept inside the
/// middle 80% of the interval (bisection when the cubic is unusable).
private func interpolate(_ lo: (a: Double, f: Double, s: Double), _ hi: (a: Double, f: Double, s: Double)) -> Double {
    let (a, b) = (lo.a, hi.a)
    let mid = (a + b) / 2
    guard hi.f < .greatestFiniteMagnitude else { return mid }
    let d1 = lo.s + hi.s - 3 * (lo.f - hi.f) / (a - b)
    let disc = d1 * d1 - lo.s * hi.s
    guard disc >= 0 else { return mid }
    let d2 = (b > a ? 1.0 : -1.0) * disc.squareRoot()
    let t = b - (b - a) * (hi.s + d2 - d1) / (hi.s - lo.s + 2 * d2)
    let (low, high) = (Swift.min(a, b), Swift.max(a, b))
    let margin = 0.1 * (high - low)
    guard t.isFinite, t >= low + margin, t <= high - margin else { return mid }
    return t
}
