// Numerical integration of Double functions and samples: composite trapezoid
// and Simpson rules, adaptive Simpson with an error estimate, and seeded Monte
// Carlo over a box with its standard error.
import CohortCore
import CohortTensor

/// Quadrature rules on `Double` samples and functions (`scipy.integrate`-style).
public enum Integration {
    /// The result of `adaptiveSimpson`.
    public struct AdaptiveResult: Sendable, Equatable {
        /// The integral estimate (with Richardson's correction on every accepted panel).
        public let value: Double
        /// Sum of the per-panel error estimates `|S₂ − S₁| / 15`.
        public let errorEstimate: Double
        /// Number of function evaluations.
        public let evaluations: Int
    }

    /// The result of `monteCarlo`.
    public struct MonteCarloEstimate: Sendable, Equatable {
        /// The integral estimate: box volume × sample mean.
        public let value: Double
        /// Box volume × sample standard deviation / √samples.
        public let standardError: Double
        /// Number of samples drawn.
        public let samples: Int
    }

    /// Composite trapezoid rule on equally spaced samples `y` (spacing `dx`).
    /// - Throws: `CohortError.invalidArgument` for fewer than 2 samples or a non-finite `dx`.
    public static func trapezoid(_ y: [Double], dx: Double) throws -> Double {
        guard y.count >= 2 else { throw CohortError.invalidArgument("trapezoid: needs at least 2 samples, got \(y.count)") }
        guard dx.isFinite else { throw CohortError.invalidArgument("trapezoid: spacing dx = \(dx) is not finite") }
        var s = (y[0] + y[y.count - 1]) / 2
        for i in 1..<(y.count - 1) { s += y[i] }
        return s * dx
    }

    /// Composite trapezoid rule on samples `y` at (possibly unequal) abscissae `x`.
    /// - Throws: `CohortError.invalidArgument` if the counts differ or there are fewer than 2 samples.
    public static func trapezoid(_ y: [Double], x: [Double]) throws -> Double {
        guard y.count == x.count else { throw CohortError.invalidArgument("trapezoid: \(y.count) samples but \(x.count) abscissae") }
        guard y.count >= 2 else { throw CohortError.invalidArgument("trapezoid: needs at least 2 samples, got \(y.count)") }
        var s = 0.0
        for i in 1..<y.count { s += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2 }
        return s
    }

    /// Composite trapezoid rule for `f` on `[a, b]` with `n` equal intervals (error O(h²)).
    /// - Throws: `CohortError.invalidArgument` if `n < 1` or a bound is not finite.
    public static func trapezoid(_ f: (Double) throws -> Double, from a: Double, to b: Double, intervals n: Int) throws -> Double {
        try checkInterval(a, b, n, rule: "trapezoid")
        let h = (b - a) / Double(n)
        return try trapezoid((0...n).map { try f(a + Double($0) * h) }, dx: h)
    }

    /// Composite Simpson's rule on equally spaced samples (an odd count: an even number of intervals).
    /// - Throws: `CohortError.invalidArgument` for an even sample count (odd number of intervals) or fewer than 3 samples.
    public static func simpson(_ y: [Double], dx: Double) throws -> Double {
        guard y.count >= 3 else { throw CohortError.invalidArgument("simpson: needs at least 3 samples, got \(y.count)") }
        guard (y.count - 1) % 2 == 0 else {
            throw CohortError.invalidArgument("simpson: needs an even number of intervals, got \(y.count - 1) (from \(y.count) samples); use an odd sample count or trapezoid")
        }
        guard dx.isFinite else { throw CohortError.invalidArgument("simpson: spacing dx = \(dx) is not finite") }
        var s = y[0] + y[y.count - 1]
        for i in 1..<(y.count - 1) { s += (i % 2 == 1 ? 4 : 2) * y[i] }
        return s * dx / 3
    }

    /// Composite Simpson's rule for `f` on `[a, b]` with `n` (even) equal intervals (error O(h⁴);
    /// exact for cubics).
    /// - Throws: `CohortError.invalidArgument` if `n` is odd or < 2, or a bound is not finite.
    public static func simpson(_ f: (Double) throws -> Double, from a: Double, to b: Double, intervals n: Int) throws -> Double {
        try checkInterval(a, b, n, rule: "simpson")
        guard n % 2 == 0 else { throw CohortError.invalidArgument("simpson: needs an even number of intervals, got \(n)") }
        let h = (b - a) / Double(n)
        return try simpson((0...n).map { try f(a + Double($0) * h) }, dx: h)
    }

    /// Adaptive Simpson quadrature: splits each panel until `|S₂ − S₁| ≤ 15·tol` for its share of
    /// `tolerance`, then adds the Richardson correction `(S₂ − S₁)/15`.
    /// - Throws: `CohortError.invalidArgument` for a non-positive tolerance or bad bounds;
    ///   `CohortError.nonFinite` if `f` returns a non-finite value; also if `maxDepth` is reached
    ///   before the tolerance is met (the message gives the panel).
    public static func adaptiveSimpson(_ f: (Double) throws -> Double, from a: Double, to b: Double,
                                       tolerance: Double = 1e-10, maxDepth: Int = 50) throws -> AdaptiveResult {
        try checkInterval(a, b, 2, rule: "adaptiveSimpson")
        guard tolerance > 0 else { throw CohortError.invalidArgument("adaptiveSimpson: tolerance must be > 0, got \(tolerance)") }
        var evaluations = 0
        func eval(_ x: Double) throws -> Double {
            evaluations += 1
            let y = try f(x)
            guard y.isFinite else { throw CohortError.nonFinite("adaptiveSimpson: f(\(x)) = \(y)") }
            return y
        }
        var error = 0.0
        func panel(_ a: Double, _ b: Double, _ fa: Double, _ fm: Double, _ fb: Double, _ whole: Double,
                   _ tol: Double, _ depth: Int) throws -> Double {
            let m = (a + b) / 2, lm = (a + m) / 2, rm = (m + b) / 2
            let flm = try eval(lm), frm = try eval(rm)
            let left = (m - a) / 6 * (fa + 4 * flm + fm), right = (b - m) / 6 * (fm + 4 * frm + fb)
            let delta = left + right - whole
            if Swift.abs(delta) <= 15 * tol { error += Swift.abs(delta) / 15; return left + right + delta / 15 }
            guard depth < maxDepth else {
                throw CohortError.invalidArgument("adaptiveSimpson: tolerance \(tolerance) not met on [\(a), \(b)] after \(maxDepth) subdivisions (singular or discontinuous integrand?)")
            }
            return try panel(a, m, fa, flm, fm, left, tol / 2, depth + 1) + panel(m, b, fm, frm, fb, right, tol / 2, depth + 1)
        }
        let fa = try eval(a), fb = try eval(b), fm = try eval((a + b) / 2)
        let value = try panel(a, b, fa, fm, fb, (b - a) / 6 * (fa + 4 * fm + fb), tolerance, 0)
        return AdaptiveResult(value: value, errorEstimate: error, evaluations: evaluations)
    }

    /// Plain Monte Carlo over the box `bounds` (one range per dimension) with `samples` uniform
    /// points from `RandomGenerator(seed:)`: the same seed gives the same estimate.
    /// - Throws: `CohortError.invalidArgument` for no dimensions, fewer than 2 samples or an
    ///   infinite bound; `CohortError.nonFinite` if `f` returns a non-finite value.
    public static func monteCarlo(_ f: ([Double]) throws -> Double, over bounds: [ClosedRange<Double>],
                                  samples: Int, seed: UInt64) throws -> MonteCarloEstimate {
        guard !bounds.isEmpty else { throw CohortError.invalidArgument("monteCarlo: the box has no dimensions") }
        guard samples >= 2 else { throw CohortError.invalidArgument("monteCarlo: needs at least 2 samples, got \(samples)") }
        for (d, r) in bounds.enumerated() where !(r.lowerBound.isFinite && r.upperBound.isFinite) {
            throw CohortError.invalidArgument("monteCarlo: bound \(d) (\(r)) is not finite")
        }
        let volume = bounds.reduce(1.0) { $0 * ($1.upperBound - $1.lowerBound) }
        var generator = RandomGenerator(seed: seed)
        var point = [Double](repeating: 0, count: bounds.count)
        // Welford's running mean and variance: stable for many samples.
        var mean = 0.0, m2 = 0.0
        for k in 1...samples {
            for (d, r) in bounds.enumerated() { point[d] = r.lowerBound + generator.nextDouble() * (r.upperBound - r.lowerBound) }
            let y = try f(point)
            guard y.isFinite else { throw CohortError.nonFinite("monteCarlo: f(\(point)) = \(y) at sample \(k)") }
            let delta = y - mean
            mean += delta / Double(k)
            m2 += delta * (y - mean)
        }
        let sd = (m2 / Double(samples - 1)).squareRoot()
        return MonteCarloEstimate(value: volume * mean, standardError: volume * sd / Double(samples).squareRoot(), samples: samples)
    }

    static func checkInterval(_ a: Double, _ b: Double, _ n: Int, rule: String) throws {
        guard a.isFinite, b.isFinite else { throw CohortError.invalidArgument("\(rule): bounds [\(a), \(b)] must be finite") }
        guard n >= 1 else { throw CohortError.invalidArgument("\(rule): needs at least 1 interval, got \(n)") }
    }
}
