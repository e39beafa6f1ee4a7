// Forecast accuracy beyond MAE/RMSE: the mean absolute scaled error (MASE, Hyndman &
// Koehler 2006), whose scale is the in-sample MAE of the seasonal-naive forecast
// (y_t predicted by y_{t−S}) over the training part of the series.
import CohortCore

/// The scale and the scaled error of MASE.
public enum ForecastMetrics {
    /// The in-sample MAE of the seasonal-naive forecast over `series`: mean of |y_t − y_{t−season}|
    /// for t = season…n−1 (season 1: the naive forecast's MAE).
    /// - Throws: `CohortError.invalidParameter(name: "season")` when `season` < 1 or the series holds
    ///   no more than `season` values; `CohortError.nonFinite` when the scale is 0 (a constant
    ///   seasonal pattern: MASE is undefined).
    public static func seasonalNaiveScale(_ series: [Double], season: Int) throws -> Double {
        guard season >= 1 else { throw CohortError.invalidParameter(name: "season", "must be ≥ 1, got \(season)") }
        guard series.count > season else {
            throw CohortError.invalidParameter(name: "season", "\(season) needs a training part longer than one season, it holds \(series.count) values")
        }
        var sum = 0.0
        for t in season..<series.count { sum += abs(series[t] - series[t - season]) }
        let scale = sum / Double(series.count - season)
        guard scale > 0, scale.isFinite else {
            throw CohortError.nonFinite("MASE: the training part's seasonal-naive MAE (season \(season)) is \(scale); the scaled error is undefined")
        }
        return scale
    }

    /// MASE: `mae` divided by the seasonal-naive `scale` (`seasonalNaiveScale`).
    public static func meanAbsoluteScaledError(mae: Double, scale: Double) -> Double { mae / scale }
}
