// The forecasts a forecasting model must beat, scored on the same windows as the model:
// naive (the last observed value for every step ahead), seasonal-naive (the value one
// season earlier) and a direct linear autoregression on the context window, fitted by
// least squares (CohortLinalg's lstsq) on the training windows.
import CohortCore
import CohortLinalg
import CohortTensor

/// Naive and seasonal-naive forecasts from an origin.
public enum ForecastBaselines {
    /// `horizon` copies of the last value before `origin`.
    public static func naive(_ values: [Double], origin: Int, horizon: Int) -> [Double] {
        [Double](repeating: values[origin - 1], count: horizon)
    }

    /// ŷ(origin + h) = y(origin + h − season·(⌊h / season⌋ + 1)): the same point of the last
    /// observed season. Needs `origin ≥ season`.
    public static func seasonalNaive(_ values: [Double], origin: Int, horizon: Int, season: Int) -> [Double] {
        (0..<horizon).map { h in values[origin + h - season * (h / season + 1)] }
    }
}

/// A direct multi-step linear autoregression: for each step ahead h, ŷ(t + h) = b_h + Σ_j a_hj · y(t − L + j),
/// fitted jointly by least squares on standardized values of the training windows.
public struct LinearAutoregression: Sendable {
    /// `[L + 1][H]`: row 0 the intercepts, row 1 + j the weights of the j-th context value (oldest first).
    public let coefficients: [[Double]]
    public let context: Int, horizon: Int
    /// The standardization the fit works in (the training part's).
    public let scaler: SeriesScaler

    /// Fits on the windows `windows` of `values`.
    /// - Throws: `CohortError.invalidArgument` with fewer windows than coefficients (L + 1);
    ///   the errors of `Linalg.lstsq`.
    public init(fitting values: [Double], windows: ForecastWindows, scaler: SeriesScaler) throws {
        let l = windows.context, h = windows.horizon, n = windows.count
        guard n >= l + 1 else {
            throw CohortError.invalidArgument("linear autoregression: \(n) training windows cannot determine \(l + 1) coefficients per step; use a shorter --context or more training data")
        }
        var x = [Float](), y = [Float]()
        x.reserveCapacity(n * (l + 1)); y.reserveCapacity(n * h)
        for t in windows.origins {
            x.append(1)
            for j in (t - l)..<t { x.append(Float(scaler.scale(values[j]))) }
            for j in t..<(t + h) { y.append(Float(scaler.scale(values[j]))) }
        }
        let fit = try Linalg.lstsq(try Tensor(x, shape: [n, l + 1]), try Tensor(y, shape: [n, h]))
        let flat = fit.solution.contiguous().scalars
        coefficients = (0...l).map { r in (0..<h).map { Double(flat[r * h + $0]) } }
        (context, horizon, self.scaler) = (l, h, scaler)
    }

    /// The `horizon` forecasts from `origin` (reads `values[origin − L ..< origin]`), in the series' units.
    public func forecast(_ values: [Double], origin: Int) -> [Double] {
        (0..<horizon).map { k in
            var z = coefficients[0][k]
            for j in 0..<context { z += coefficients[1 + j][k] * scaler.scale(values[origin - context + j]) }
            return scaler.unscale(z)
        }
    }
}
