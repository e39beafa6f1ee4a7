// The forecasting task's data handling: CSV column reading with interpolation and the
// time-order check, the chronological split and its windows (no validation or test
// target among the training windows' targets), the scaler fitted on the training part
// only, the baselines' scores and the linear autoregression against hand computations.
import CohortCore
import CohortNN
import CohortRuntime
import CohortTensor
import Foundation
import Testing

@Suite struct ForecastTaskTests {
    static let sharedData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data").path

    func csv(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("forecast-\(UUID().uuidString).csv").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    @Test func gapsAreInterpolatedLinearly() throws {
        let (values, filled) = try ForecastSeries.interpolate([1, nil, nil, 4, 5, nil, 9], path: "x", lines: Array(2...8))
        #expect(values == [1, 2, 3, 4, 5, 7, 9] && filled == 3)
        #expect(message { _ = try ForecastSeries.interpolate([nil, 1, 2], path: "x", lines: [2, 3, 4]) }.contains("line 2"))
        #expect(message { _ = try ForecastSeries.interpolate([1, 2, nil], path: "x", lines: [2, 3, 4]) }.contains("line 4"))
    }

    @Test func csvColumnTimeOrderAndErrors() throws {
        let good = try csv("date,value\n2020-01-01,1\n2020-01-08,\n2020-01-15,3\n2020-01-22,4\n")
        defer { try? FileManager.default.removeItem(atPath: good) }
        let s = try ForecastSeries.load(path: good, column: "value")
        #expect(s.values == [1, 2, 3, 4] && s.interpolated == 1)
        let missing = message { _ = try ForecastSeries.load(path: good, column: "valeu") }
        #expect(missing.contains("--column") && missing.contains("did you mean 'value'"), "\(missing)")
        let unordered = try csv("year,value\n1700,1\n1702,2\n1701,3\n")
        defer { try? FileManager.default.removeItem(atPath: unordered) }
        #expect(message { _ = try ForecastSeries.load(path: unordered, column: "value") }.contains("line 4"))
        let text = try csv("t,value\n1,1\n2,abc\n3,3\n")
        defer { try? FileManager.default.removeItem(atPath: text) }
        #expect(message { _ = try ForecastSeries.load(path: text, column: "value") }.contains("line 3"))
    }

    @Test func co2HasItsMissingWeeksInterpolated() throws {
        let s = try ForecastSeries.load(path: Self.sharedData + "/timeseries/co2.csv", column: "co2_ppm")
        #expect(s.values.count == 2284 && s.interpolated == 59, "\(s.values.count) values, \(s.interpolated) filled")
        #expect(s.values.allSatisfy { $0 > 300 && $0 < 400 })
    }

    @Test func splitWindowsNeverReachAcrossParts() throws {
        let series = ForecastSeries(name: "ramp", column: "y", values: (0..<200).map { Double($0) })
        let task = try ForecastTask(series: series, options: ForecastOptions(context: 12, horizon: 5))
        #expect(task.split.trainEnd == 140 && task.split.validationEnd == 170)
        let trainTargets = task.trainWindows.origins.map { $0 + 4 }.max()!
        #expect(trainTargets < task.split.trainEnd)
        #expect(task.validationWindows.origins.min()! >= task.split.trainEnd && task.validationWindows.origins.max()! + 5 <= task.split.validationEnd)
        #expect(task.testWindows.origins.min()! >= task.split.validationEnd && task.testWindows.origins.max()! + 5 == 200)
        #expect(task.trainWindows.count == 140 - 12 - 5 + 1 && task.testWindows.count == 30 - 5 + 1)
        // A batch holds the standardized context and targets of its windows, relative to the last context value.
        let b = try task.batch([0, 3], step: 1)
        let x = b.inputs.contiguous().scalars
        #expect(b.inputs.shape == [2, 12] && abs(Double(x[12]) - (task.scaler.scale(3) - task.scaler.scale(14))) < 1e-5)
        #expect(x[23] == 0)
        guard case .values(let y) = b.targets else { Issue.record("regression targets expected"); return }
        #expect(y.shape == [2, 5] && abs(Double(y.contiguous().scalars[0]) - (task.scaler.scale(12) - task.scaler.scale(11))) < 1e-5)
    }

    @Test func absoluteWindowsAreTheStandardizedValues() throws {
        let series = ForecastSeries(name: "ramp", column: "y", values: (0..<100).map { Double($0 * $0) })
        var options = ForecastOptions(context: 4, horizon: 2)
        options.relativeWindows = false
        let task = try ForecastTask(series: series, options: options)
        let b = try task.batch([5], step: 1)   // origin 9: inputs y(5…8), targets y(9), y(10)
        #expect(zip(b.inputs.contiguous().scalars, 5...8).allSatisfy { abs(Double($0) - task.scaler.scale(Double($1 * $1))) < 1e-5 })
        guard case .values(let y) = b.targets else { Issue.record("regression targets expected"); return }
        #expect(abs(Double(y.contiguous().scalars[1]) - task.scaler.scale(100)) < 1e-5)
    }

    /// Changing the validation and test parts must not change the scaler, the MASE scale,
    /// the AR fit or any training batch: nothing fitted sees data after the training part.
    @Test func nothingFittedSeesHeldOutData() throws {
        let base: [Double] = (0..<300).map { (i: Int) -> Double in
            let t = Double(i)
            return 5 * sin(0.2 * t) + 20 + 0.01 * t
        }
        var shifted = base
        for i in 210..<300 { shifted[i] = base[i] * 100 + 1000 }
        let options = ForecastOptions(context: 10, horizon: 3, season: 31)
        let a = try ForecastTask(series: ForecastSeries(name: "a", column: "y", values: base), options: options)
        let b = try ForecastTask(series: ForecastSeries(name: "b", column: "y", values: shifted), options: options)
        #expect(a.split.trainEnd == 210)
        let trainPart = base[..<210]
        let mean = trainPart.reduce(0, +) / 210
        #expect(abs(a.scaler.mean - mean) < 1e-9)
        #expect(a.scaler == b.scaler && a.maseScale == b.maseScale)
        #expect(a.autoregression?.coefficients == b.autoregression?.coefficients)
        let ia = try a.batch(Array(0..<a.count), step: 1), ib = try b.batch(Array(0..<b.count), step: 1)
        #expect(ia.inputs.contiguous().scalars == ib.inputs.contiguous().scalars)
    }

    @Test func baselineScoresByHand() throws {
        // train [1,3,2,5,4,7] (60 %), validation [6,9], test [8,12]; context 2, horizon 1, season 2.
        let series = ForecastSeries(name: "hand", column: "y", values: [1, 3, 2, 5, 4, 7, 6, 9, 8, 12])
        let task = try ForecastTask(series: series, options: ForecastOptions(context: 2, horizon: 1, season: 2, trainFraction: 0.6, validationFraction: 0.2))
        #expect(task.testWindows.origins == [8, 9])
        // MASE scale: season-2 differences of the training part 1, 2, 2, 2 → 7 / 4.
        #expect(abs(task.maseScale - 1.75) < 1e-12)
        let scores = try task.baselineScores(task.testWindows)
        let naive = scores[0].scores, seasonal = scores[1].scores
        // naive: 9 for 8, 8 for 12 → errors 1 and 4.
        #expect(abs(naive.mae - 2.5) < 1e-12 && abs(naive.rmse - 8.5.squareRoot()) < 1e-12 && abs(naive.mase - 2.5 / 1.75) < 1e-12)
        // seasonal-naive (2): 6 for 8, 9 for 12 → errors 2 and 3.
        #expect(abs(seasonal.mae - 2.5) < 1e-12 && abs(seasonal.rmse - 6.5.squareRoot()) < 1e-12)
        #expect(ForecastBaselines.seasonalNaive([1, 2, 3, 4, 5, 6, 7, 8], origin: 6, horizon: 3, season: 2) == [5, 6, 5])
    }

    /// A sine wave obeys y(t) = 2cos ω · y(t−1) − y(t−2) exactly: the least-squares AR on two values
    /// must forecast its continuation, one and two steps ahead.
    @Test func autoregressionRecoversAnExactRecurrence() throws {
        let w = 0.3
        let values = (0..<80).map { sin(w * Double($0)) }
        let task = try ForecastTask(series: ForecastSeries(name: "sine", column: "y", values: values), options: ForecastOptions(context: 2, horizon: 2))
        let ar = try #require(task.autoregression)
        for origin in task.testWindows.origins {
            let f = ar.forecast(values, origin: origin)
            #expect(abs(f[0] - values[origin]) < 1e-3 && abs(f[1] - values[origin + 1]) < 1e-3, "origin \(origin): \(f)")
        }
        // In the raw units the one-step weights are (−1, 2cos ω) and no intercept.
        let s = task.scaler.std
        #expect(abs(ar.coefficients[1][0] + 1) < 1e-3 && abs(ar.coefficients[2][0] - 2 * cos(w)) < 1e-3, "\(ar.coefficients), std \(s)")
    }

    @Test func settingsOutOfRangeNameTheirFlag() {
        let series = ForecastSeries(name: "short", column: "y", values: (0..<40).map(Double.init))
        #expect(message { _ = try ForecastTask(series: series, options: ForecastOptions(context: 4, horizon: 0)) }.contains("--horizon"))
        let short = message { _ = try ForecastTask(series: series, options: ForecastOptions(context: 52, horizon: 4)) }
        #expect(short.contains("--context") && short.contains("too short"), "\(short)")
        #expect(message { _ = try ForecastTask(series: series, options: ForecastOptions(context: 4, horizon: 2, season: 52)) }.contains("--season"))
        #expect(message { _ = try ForecastTask(series: series, options: ForecastOptions(context: 4, horizon: 8)) }.contains("--horizon"))
    }
}

/// The three forecasters map `[B, L]` to `[B, H]`, and gradients reach every parameter.
@Suite struct ForecastModelTests {
    @Test(arguments: ["lstm", "gru", "gpt"]) func forecastersMapWindowsToHorizons(model: String) throws {
        var spec = ModelSpec(name: model, hidden: [8], layers: 2, heads: 2, dModel: 8, embedding: 4)
        spec.dropout = 0
        var g = RandomGenerator(seed: 3)
        let net = try ForecastModels.build(spec, context: 6, horizon: 3, generator: &g)
        let x = Tensor.randn([5, 6], std: 1, generator: &g)
        let y = try net(x)
        #expect(y.shape == [5, 3])
        try (y * y).sum().backward()
        for (name, p) in net.namedParameters() { #expect(p.grad != nil, "\(model): \(name) got no gradient") }
        #expect(throws: (any Error).self) { _ = try net(Tensor.zeros([5, 7])) }
    }

    @Test func otherModelsAreRefusedNamingTheFlag() {
        var g = RandomGenerator(seed: 0)
        let spec = ModelSpec(name: "cnn", hidden: [8], layers: 1, heads: 1, dModel: 8, embedding: 4)
        do { _ = try ForecastModels.build(spec, context: 4, horizon: 2, generator: &g); Issue.record("cnn was accepted") } catch {
            #expect("\(error)".contains("model") && "\(error)".contains("lstm, gru, gpt"))
        }
    }
}
