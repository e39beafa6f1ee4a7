// MASE's scale (the in-sample seasonal-naive MAE) and the scaled error, against hand computations.
import CohortMetrics
import Testing

@Suite struct ForecastMetricsTests {
    @Test func seasonalNaiveScaleByHand() throws {
        let y: [Double] = [1, 3, 2, 5, 4]
        // season 1: |3−1| + |2−3| + |5−2| + |4−5| = 7 over 4 differences.
        #expect(abs(try ForecastMetrics.seasonalNaiveScale(y, season: 1) - 1.75) < 1e-12)
        // season 2: |2−1| + |5−3| + |4−2| = 5 over 3.
        #expect(abs(try ForecastMetrics.seasonalNaiveScale(y, season: 2) - 5.0 / 3) < 1e-12)
        #expect(abs(ForecastMetrics.meanAbsoluteScaledError(mae: 3.5, scale: 1.75) - 2) < 1e-12)
    }

    @Test func undefinedScalesAreErrors() {
        #expect(throws: (any Error).self) { try ForecastMetrics.seasonalNaiveScale([1, 2, 3], season: 0) }
        #expect(throws: (any Error).self) { try ForecastMetrics.seasonalNaiveScale([1, 2, 3], season: 3) }
        #expect(throws: (any Error).self) { try ForecastMetrics.seasonalNaiveScale([1, 2, 1, 2], season: 2) }   // a pure season: scale 0
    }
}
