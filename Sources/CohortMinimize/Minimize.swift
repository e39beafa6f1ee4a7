// Deterministic full-batch minimizers on a Float64 objective: gradient descent
// with Armijo backtracking, L-BFGS (two-loop recursion), and projected gradient
// descent onto a convex set. Same inputs, same iterates: no randomness, no threads.
import CohortCore
import CohortTensor

/// `scipy.optimize.minimize`-style entry points. Each returns a `MinimizeReport`
/// (it does not throw when a tolerance is not met: check `converged`).
public enum Minimize {
    /// Steepest descent, d = −∇f, with Armijo backtracking. Each search starts at twice
    /// the previous accepted step (1 at first), so the step adapts to the curvature.
    /// - Throws: `CohortError.invalidArgument` for bad options or an empty x0;
    ///   `CohortError.nonFinite` if f(x0) or ∇f(x0) is not finite; the objective's errors.
    public static func gradientDescent(_ objective: Objective, from x0: [Double],
                                       options: MinimizeOptions = MinimizeOptions()) throws -> MinimizeReport {
        var alpha = 0.5
        return try iterate("gradient descent", objective, x0, options) { e, x, f, g in
            alpha *= 2
            guard let step = try armijoSearch(e, x: x, f: f, slope: -dot(g, g), d: g.map { -$0 }, alpha0: alpha, options: options) else { return nil }
            alpha = step.alpha
            return step
        }
    }

    /// L-BFGS: the two-loop recursion over the last `options.memory` pairs (s, y), initial
    /// scaling γ = sᵀy / yᵀy, and a strong Wolfe line search (or Armijo, `options.lineSearch`)
    /// starting at α = 1 (1/‖∇f‖∞ capped at 1 on the first iteration). Pairs with
    /// sᵀy ≤ 1e-10·‖s‖‖y‖ are skipped, which keeps the implied Hessian positive definite.
    /// - Throws: as `gradientDescent`.
    public static func lbfgs(_ objective: Objective, from x0: [Double],
                             options: MinimizeOptions = MinimizeOptions()) throws -> MinimizeReport {
        var s: [[Double]] = [], y: [[Double]] = [], rho: [Double] = []
        var previous: (x: [Double], g: [Double])?
        return try iterate("L-BFGS", objective, x0, options) { e, x, f, g in
            if let (px, pg) = previous {
                let sk = zip(x, px).map { $0 - $1 }, yk = zip(g, pg).map { $0 - $1 }
                let sy = dot(sk, yk)
                if sy > 1e-10 * dot(sk, sk).squareRoot() * dot(yk, yk).squareRoot() {
                    s.append(sk); y.append(yk); rho.append(1 / sy)
                    if s.count > options.memory { s.removeFirst(); y.removeFirst(); rho.removeFirst() }
                }
            }
            previous = (x, g)
            // Two-loop recursion: d = −H g.
            var q = g
            var a = [Double](repeating: 0, count: s.count)
            for i in stride(from: s.count - 1, through: 0, by: -1) {
                a[i] = rho[i] * dot(s[i], q)
                q = axpy(q, -a[i], y[i])
            }
            if let sl = s.last, let yl = y.last { let gamma = dot(sl, yl) / dot(yl, yl); q = q.map { $0 * gamma } }
            for i in 0..<s.count {
                let b = rho[i] * dot(y[i], q)
                q = axpy(q, a[i] - b, s[i])
            }
            var d = q.map { -$0 }
            var slope = dot(g, d)
            if !(slope < 0) { d = g.map { -$0 }; slope = -dot(g, g); s = []; y = []; rho = [] }   // not a descent direction: restart
            let alpha0 = s.isEmpty ? Swift.min(1, 1 / Swift.max(infinityNorm(g), 1e-300)) : 1
            switch options.lineSearch {
            case .strongWolfe: return try strongWolfeSearch(e, x: x, f: f, slope: slope, d: d, alpha0: alpha0, options: options)
            case .armijo: return try armijoSearch(e, x: x, f: f, slope: slope, d: d, alpha0: alpha0, options: options)
            }
        }
    }

    /// Projected gradient descent onto `constraint`: x₊ = P(x − α∇f), backtracking along the
    /// projection arc until f(x₊) ≤ f(x) + c₁∇f·(x₊ − x). Stops on the projected-gradient
    /// norm ‖x − P(x − ∇f)‖∞, which is 0 exactly at a constrained minimum. x0 is projected first.
    /// - Throws: as `gradientDescent`, and `invalidArgument` for a constraint that does not fit x0.
    public static func projectedGradient(_ objective: Objective, from x0: [Double], onto constraint: ConvexSet,
                                         options: MinimizeOptions = MinimizeOptions()) throws -> MinimizeReport {
        let start = try constraint.project(x0)
        var alpha = 0.5
        return try iterate("projected gradient", objective, start, options,
                           stationarity: { x, g in
                               let p = try constraint.project(zip(x, g).map { $0 - $1 })
                               return infinityNorm(zip(x, p).map { $0 - $1 })
                           }) { e, x, f, g in
            alpha *= 2
            for _ in 0..<options.maxLineSearchSteps {
                let xt = try constraint.project(zip(x, g).map { $0 - alpha * $1 })
                let ft = try e.value(xt)
                if ft.isFinite && ft <= f + options.armijo * dot(g, zip(xt, x).map { $0 - $1 }) {
                    return LineSearchStep(alpha: alpha, x: xt, value: ft, gradient: nil)
                }
                alpha *= options.backtrack
            }
            return nil
        }
    }

    /// The shared loop: evaluate, test the stopping criteria, take `step`, record history.
    /// `stationarity` maps (x, ∇f) to the norm tested against `gradientTolerance`.
    static func iterate(_ method: String, _ objective: Objective, _ x0: [Double], _ options: MinimizeOptions,
                        stationarity: ([Double], [Double]) throws -> Double = { _, g in infinityNorm(g) },
                        step: (Evaluator, [Double], Double, [Double]) throws -> LineSearchStep?) throws -> MinimizeReport {
        try options.validate(method)
        guard !x0.isEmpty else { throw CohortError.invalidArgument("\(method): the start point x0 is empty") }
        let e = Evaluator(objective, op: method)
        var x = x0
        var (f, g) = try e.valueAndGradient(x)
        guard f.isFinite, g.allSatisfy(\.isFinite) else {
            throw CohortError.nonFinite("\(method): the objective or its gradient is not finite at the start point (f = \(f))")
        }
        var norm = try stationarity(x, g)
        var history = [IterationRecord(iteration: 0, value: f, gradientNorm: norm, stepLength: 0)]
        var reason = StopReason.maxIterations
        var k = 0
        if norm <= options.gradientTolerance { reason = .gradientTolerance }
        while reason == .maxIterations && k < options.maxIterations {
            guard let next = try step(e, x, f, g) else { reason = .lineSearchFailed; break }
            k += 1
            let (fOld, xOld) = (f, x)
            x = next.x
            if let ng = next.gradient { f = next.value; g = ng } else { (f, g) = try e.valueAndGradient(x) }
            norm = try stationarity(x, g)
            history.append(IterationRecord(iteration: k, value: f, gradientNorm: norm, stepLength: next.alpha))
            let dx = infinityNorm(zip(x, xOld).map { $0 - $1 })
            if norm <= options.gradientTolerance { reason = .gradientTolerance }
            else if Swift.abs(fOld - f) <= options.functionTolerance * Swift.max(Swift.abs(fOld), Swift.abs(f), 1) { reason = .functionTolerance }
            else if dx <= options.stepTolerance * Swift.max(infinityNorm(x), 1) { reason = .stepTolerance }
        }
        return MinimizeReport(method: method, reason: reason, iterations: k, functionEvaluations: e.functionEvaluations,
                              gradientEvaluations: e.gradientEvaluations, x: x, value: f, gradientNorm: norm, history: history)
    }
}
