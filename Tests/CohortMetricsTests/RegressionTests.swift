// Regression metrics against hand-worked arithmetic and numpy reference values,
// the constant-target rule for R², and bad input.
import Testing
import CohortCore
import CohortMetrics

@Suite struct RegressionTests {
    /// scikit-learn's r2_score docstring example, worked by hand.
    @Test func handWorkedExample() throws {
        var stats = RegressionCounts()
        try stats.add(predictions: [2.5, 0.0, 2, 8], targets: [3, -0.5, 2, 7])
        // errors ŷ − y: -0.5, 0.5, 0, 1 -> Σ = 1, Σ|·| = 2, Σ(·)² = 0.25 + 0.25 + 0 + 1 = 1.5
        #expect(stats.count == 4 && stats.sumErrors == 1 && stats.sumAbsoluteErrors == 2 && stats.sumSquaredErrors == 1.5)
        #expect(try stats.meanError() == 0.25 && stats.meanAbsoluteError() == 0.5 && stats.meanSquaredError() == 0.375)
        #expect(close(try stats.rootMeanSquaredError(), 0.375.squareRoot()))
        // Σy = 11.5, Σy² = 9 + 0.25 + 4 + 49 = 62.25 -> SS_tot = 62.25 − 11.5²/4 = 29.1875
        // R² = 1 − 1.5/29.1875 = 0.94860813704496...
        #expect(close(try stats.r2(), 1 - 1.5 / 29.1875))
        #expect(close(try stats.r2(), 0.9486081370449679))
    }

    /// Reference, numpy 2.4 with the two-pass formula for SS_tot:
    ///
    ///     y = np.array(TARGETS); p = np.array(PREDICTIONS); e = p - y
    ///     np.abs(e).mean(), (e**2).mean(), np.sqrt((e**2).mean()), e.mean()
    ///     1 - (e**2).sum() / ((y - y.mean())**2).sum()
    ///     # then the same with y + 1e3, p + 1e3 and with y + 1e6, p + 1e6 (same errors, same R²)
    @Test func matchesNumpyReference() throws {
        let targets = [3.0, -0.5, 2.0, 7.0, 4.25, -1.75, 0.5, 10.0]
        let predictions = [2.5, 0.0, 2.0, 8.0, 4.0, -2.5, 1.25, 9.0]
        // Offsets show the documented cancellation of Σy² − (Σy)²/n: exact-ish at 0 and 1e3; at 1e6
        // (ȳ²/σ² ≈ 7.4e10) the error bound ε·(ȳ²/σ²)·|1 − R²| is about 5.6e-7, and R² stays within it.
        for (offset, tolerance) in [(0.0, 1e-14), (1e3, 1e-10), (1e6, 1e-6)] {
            var stats = RegressionCounts()
            try stats.add(predictions: predictions.map { $0 + offset }, targets: targets.map { $0 + offset })
            #expect(close(try stats.meanAbsoluteError(), 0.59375, 1e-9))
            #expect(close(try stats.meanSquaredError(), 0.4609375, 1e-9))
            #expect(close(try stats.rootMeanSquaredError(), 0.6789237807000135, 1e-9))
            #expect(close(try stats.meanError(), -0.03125, 1e-9))
            #expect(close(try stats.r2(), 0.9660431654676259, tolerance))
        }
    }

    @Test func floatInputConvertsExactly() throws {
        var f = RegressionCounts(), d = RegressionCounts()
        try f.add(predictions: [Float(0.1), 2.5], targets: [Float(0.3), 2])
        try d.add(predictions: [Double(Float(0.1)), 2.5], targets: [Double(Float(0.3)), 2])
        #expect(f == d)
    }

    /// scikit-learn (force_finite=True): constant targets give R² = 1 for perfect predictions, 0 otherwise.
    @Test func constantTargets() throws {
        var perfect = RegressionCounts()
        try perfect.add(predictions: [0.1, 0.1, 0.1], targets: [0.1, 0.1, 0.1])
        #expect(try perfect.r2() == 1)
        var imperfect = RegressionCounts()
        // Σy² − (Σy)²/n comes out as rounding noise (≈ -3.5e-18 with exactly rounded sums), not 0;
        // it is below 4ε·Σy², so the targets still count as constant.
        try imperfect.add(predictions: [0.1, 0.2, 0.1], targets: [0.1, 0.1, 0.1])
        #expect(try imperfect.r2() == 0)
        var zeros = RegressionCounts()
        try zeros.add(predictions: [0, 1], targets: [0, 0])
        #expect(try zeros.r2() == 0)
    }

    @Test func badInput() throws {
        var stats = RegressionCounts()
        expectError(.invalidArgument, "no samples") { _ = try stats.meanAbsoluteError() }
        expectError(.invalidArgument, "no samples") { _ = try stats.rootMeanSquaredError() }
        try stats.add(predictions: [Double](), targets: [])
        #expect(stats == RegressionCounts())
        try stats.add(predictions: [1.0], targets: [2.0])
        expectError(.invalidArgument, "fewer than two samples (have 1)") { _ = try stats.r2() }
        let before = stats
        expectError(.shapeMismatch, "2 predictions vs 1 targets") { try stats.add(predictions: [1.0, 2], targets: [1.0]) }
        expectError(.invalidArgument, "target nan at index 1 is not finite") { try stats.add(predictions: [1.0, 2], targets: [1, .nan]) }
        expectError(.invalidArgument, "prediction inf at index 0") { try stats.add(predictions: [Float.infinity], targets: [1]) }
        #expect(stats == before)

        expectError(.shapeMismatch, "5 values, expected 6") { _ = try RegressionCounts(flattened: [1, 2, 3, 4, 5]) }
        expectError(.invalidArgument, "count 1.5 is not a whole number") { _ = try RegressionCounts(flattened: [1.5, 0, 0, 0, 0, 0]) }
        expectError(.invalidArgument, "must be non-negative") { _ = try RegressionCounts(flattened: [2, 0, 1, 0, -1, 0]) }
        expectError(.invalidArgument, "count is 0 but the sums") { _ = try RegressionCounts(flattened: [0, 1, 1, 0, 0, 0]) }
        expectError(.invalidArgument, "value 3 is nan") { _ = try RegressionCounts(flattened: [2, 0, 1, .nan, 0, 0]) }
        // A round trip keeps the values.
        let restored = try RegressionCounts(flattened: before.flattened)
        #expect(restored.flattened == before.flattened)
    }
}
