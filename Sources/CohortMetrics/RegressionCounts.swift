// Sufficient statistics for regression metrics: six sums that add across ranks.
import CohortCore

/// A Neumaier (improved Kahan) compensated sum: `value` is the sum with the rounding error of each
/// addition carried separately, accurate to about one rounding of the result for any number of terms.
struct CompensatedSum: Sendable, Equatable {
    var sum = 0.0
    var compensation = 0.0

    init(_ value: Double = 0) { sum = value }

    mutating func add(_ x: Double) {
        let t = sum + x
        compensation += abs(sum) >= abs(x) ? (sum - t) + x : (x - t) + sum
        sum = t
    }

    /// Adds another compensated sum, keeping both its parts.
    mutating func merge(_ other: CompensatedSum) { add(other.sum); add(other.compensation) }

    var value: Double { sum + compensation }
}

/// Summable statistics for regression metrics over pairs (prediction ŷ, target y): n, Σy, Σy²,
/// Σ(ŷ−y), Σ|ŷ−y| and Σ(ŷ−y)².
///
/// Each sum is accumulated in `Double` with Neumaier compensated summation, so accuracy does not
/// degrade with the number of samples; `merge` folds in the other side's sum and compensation, and
/// `flattened` carries each resolved sum (an allreduce then adds one rounding per rank, negligible).
/// Equality compares the stored sums together with their compensation terms.
public struct RegressionCounts: Sendable, Equatable {
    private var n: Int64 = 0
    private var y = CompensatedSum(), ySquared = CompensatedSum()
    private var error = CompensatedSum(), absoluteError = CompensatedSum(), squaredError = CompensatedSum()

    /// Empty statistics.
    public init() {}

    /// The number of samples.
    public var count: Int64 { n }
    /// Σy over targets.
    public var sumTargets: Double { y.value }
    /// Σy² over targets.
    public var sumSquaredTargets: Double { ySquared.value }
    /// Σ(ŷ − y).
    public var sumErrors: Double { error.value }
    /// Σ|ŷ − y|.
    public var sumAbsoluteErrors: Double { absoluteError.value }
    /// Σ(ŷ − y)², the residual sum of squares.
    public var sumSquaredErrors: Double { squaredError.value }

    /// Adds pairs (`predictions[i]`, `targets[i]`), converted to `Double`. Empty arrays add nothing.
    /// Validates everything before changing anything.
    /// - Throws: `shapeMismatch` if the lengths differ; `invalidArgument` for a non-finite value.
    public mutating func add<T: BinaryFloatingPoint>(predictions: [T], targets: [T]) throws {
        let op = "RegressionCounts.add(predictions:targets:)"
        guard predictions.count == targets.count else {
            throw CohortError.shapeMismatch(op: op, "\(predictions.count) predictions vs \(targets.count) targets")
        }
        for (name, values) in [("prediction", predictions), ("target", targets)] {
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw CohortError.invalidArgument("\(op): \(name) \(Double(values[i])) at index \(i) is not finite")
            }
        }
        for (p, t) in zip(predictions, targets) {
            let yi = Double(t), e = Double(p) - yi
            y.add(yi); ySquared.add(yi * yi)
            error.add(e); absoluteError.add(abs(e)); squaredError.add(e * e)
        }
        n += Int64(targets.count)
    }

    /// Adds `other`'s statistics to these (the same as having added its samples here).
    public mutating func merge(_ other: RegressionCounts) {
        n += other.n
        y.merge(other.y); ySquared.merge(other.ySquared)
        error.merge(other.error); absoluteError.merge(other.absoluteError); squaredError.merge(other.squaredError)
    }

    /// `[n, Σy, Σy², Σ(ŷ−y), Σ|ŷ−y|, Σ(ŷ−y)²]` for a sum-allreduce: sum it element-wise over ranks
    /// (e.g. `communicator.allreduce(stats.flattened, op: .sum)`, never `.average`) and rebuild with
    /// `init(flattened:)`; the result equals merging every rank's statistics up to summation order.
    public var flattened: [Double] {
        [Double(n), y.value, ySquared.value, error.value, absoluteError.value, squaredError.value]
    }

    /// Rebuilds statistics from `flattened` (typically summed over ranks).
    /// - Throws: `shapeMismatch` unless there are 6 values; `invalidArgument` for a non-finite value,
    ///   a count that is not a whole number in [0, 2⁵³], a negative Σy², Σ|ŷ−y| or Σ(ŷ−y)², or non-zero sums with n = 0.
    public init(flattened: [Double]) throws {
        let op = "RegressionCounts(flattened:)"
        guard flattened.count == 6 else { throw CohortError.shapeMismatch(op: op, "\(flattened.count) values, expected 6") }
        if let i = flattened.firstIndex(where: { !$0.isFinite }) {
            throw CohortError.invalidArgument("\(op): value \(i) is \(flattened[i]), not finite")
        }
        let c = flattened[0]
        guard c >= 0, c == c.rounded(), c <= ClassificationCounts.maxExactCount else {
            throw CohortError.invalidArgument("\(op): count \(c) is not a whole number in [0, 2^53]")
        }
        guard flattened[2] >= 0, flattened[4] >= 0, flattened[5] >= 0 else {
            throw CohortError.invalidArgument("\(op): Σy², Σ|ŷ−y| and Σ(ŷ−y)² must be non-negative, got \(flattened[2]), \(flattened[4]), \(flattened[5])")
        }
        guard c > 0 || flattened.allSatisfy({ $0 == 0 }) else {
            throw CohortError.invalidArgument("\(op): count is 0 but the sums \(flattened.dropFirst()) are not")
        }
        n = Int64(c)
        y = CompensatedSum(flattened[1]); ySquared = CompensatedSum(flattened[2])
        error = CompensatedSum(flattened[3]); absoluteError = CompensatedSum(flattened[4]); squaredError = CompensatedSum(flattened[5])
    }

    /// The mean signed error Σ(ŷ − y)/n (positive when predictions run high).
    public func meanError() throws -> Double { try mean(sumErrors, "meanError") }
    /// The mean absolute error Σ|ŷ − y|/n.
    public func meanAbsoluteError() throws -> Double { try mean(sumAbsoluteErrors, "meanAbsoluteError") }
    /// The mean squared error Σ(ŷ − y)²/n.
    public func meanSquaredError() throws -> Double { try mean(sumSquaredErrors, "meanSquaredError") }
    /// The root of the mean squared error.
    public func rootMeanSquaredError() throws -> Double { try mean(sumSquaredErrors, "rootMeanSquaredError").squareRoot() }

    /// The coefficient of determination R² = 1 − SS_res/SS_tot with SS_res = Σ(ŷ−y)² and
    /// SS_tot = Σy² − (Σy)²/n.
    ///
    /// Cancellation caveat: SS_tot from sums carries an absolute error of about ε·Σy² (ε = 2.2e-16),
    /// so R² is off by about ε·(1 + ȳ²/σ²)·|1 − R²| — it loses log10(ȳ²/σ²) digits when the targets'
    /// mean dwarfs their spread (≈ 2e-8·|1 − R²| at |ȳ| = 1e4·σ). The two-pass Σ(y − ȳ)² avoids this but
    /// needs the global mean first, i.e. a second pass and allreduce; centring targets helps too.
    /// SS_tot at or below 4ε·Σy² cannot be told from rounding and is taken as 0 (constant targets).
    ///
    /// Constant targets (SS_tot = 0): as scikit-learn's `r2_score` with its default `force_finite=True`,
    /// R² is 1.0 for perfect predictions (SS_res = 0) and 0.0 otherwise (instead of NaN or −∞).
    /// - Throws: `invalidArgument` with fewer than two samples (scikit-learn returns NaN and warns
    ///   that R² is not well-defined there).
    public func r2() throws -> Double {
        guard n >= 2 else {
            throw CohortError.invalidArgument("r2: R² is not well-defined with fewer than two samples (have \(n))")
        }
        let ssRes = sumSquaredErrors, sumY = sumTargets, sumY2 = sumSquaredTargets
        let ssTot = sumY2 - sumY * sumY / Double(n)
        if ssTot <= 4 * Double.ulpOfOne * sumY2 { return ssRes == 0 ? 1 : 0 }
        return 1 - ssRes / ssTot
    }

    private func mean(_ sum: Double, _ metric: String) throws -> Double {
        guard n > 0 else { throw CohortError.invalidArgument("\(metric): no samples have been added") }
        return sum / Double(n)
    }
}
