// Multi-step forecasting of one series (`cohort train --task forecast`): training
// windows of the chronological training part (shuffled among themselves by the
// Trainer, never across time), MSE on standardized values, and MAE, RMSE and MASE in
// the series' units on the validation and test windows, with the naive,
// seasonal-naive and linear-autoregression baselines scored beside the test result.
import CohortCollectives
import CohortCore
import CohortDistributed
import CohortMetrics
import CohortNN
import CohortTensor
import CohortTrainer
import Foundation

/// What shapes a forecasting task besides the series (`cohort train`'s `--column`, `--context`,
/// `--horizon`, `--season`, `--split`).
public struct ForecastOptions: Sendable {
    public var context: Int
    public var horizon: Int
    /// The seasonal period of the seasonal-naive baseline and of MASE's scale (1: none).
    public var season = 1
    /// Fractions of the series, in time order; the test part is the rest.
    public var trainFraction = 0.7, validationFraction = 0.15
    /// Whether the network sees each window relative to its last input value (`--window-level last`,
    /// the default) or the standardized values themselves (`none`).
    public var relativeWindows = true

    public init(context: Int, horizon: Int, season: Int = 1, trainFraction: Double = 0.7, validationFraction: Double = 0.15) {
        (self.context, self.horizon, self.season) = (context, horizon, season)
        (self.trainFraction, self.validationFraction) = (trainFraction, validationFraction)
    }
}

public struct ForecastTask: TrainTask {
    public let series: ForecastSeries
    public let options: ForecastOptions
    public let split: ChronologicalSplit
    public let trainWindows: ForecastWindows, validationWindows: ForecastWindows, testWindows: ForecastWindows
    /// Fitted on the training part only.
    public let scaler: SeriesScaler
    /// MASE's denominator: the training part's in-sample seasonal-naive MAE.
    public let maseScale: Double
    /// The linear autoregression baseline (nil when the training windows cannot determine it).
    public let autoregression: LinearAutoregression?
    /// The series standardized with `scaler`.
    let z: [Float]

    /// - Throws: `CohortError.badFlag` naming `--horizon`, `--context`, `--season` or `--split` when a
    ///   setting is out of range or leaves a part of the series without a window.
    public init(series: ForecastSeries, options o: ForecastOptions) throws {
        let n = series.values.count, l = o.context, h = o.horizon
        guard h >= 1 else { throw CohortError.badFlag(flag: "--horizon", "must be ≥ 1 (values predicted per window), got \(h)") }
        guard l >= 1 else { throw CohortError.badFlag(flag: "--context", "must be ≥ 1 (values read per window), got \(l)") }
        guard o.season >= 1 else { throw CohortError.badFlag(flag: "--season", "must be ≥ 1 (1: no seasonality), got \(o.season)") }
        split = try ChronologicalSplit(count: n, train: o.trainFraction, validation: o.validationFraction)
        trainWindows = ForecastWindows(from: 0, to: split.trainEnd, context: l, horizon: h)
        validationWindows = ForecastWindows(from: split.trainEnd, to: split.validationEnd, context: l, horizon: h)
        testWindows = ForecastWindows(from: split.validationEnd, to: n, context: l, horizon: h)
        let parts = "the \(n) values of \(series.name) split \(split.trainEnd) / \(split.validationEnd - split.trainEnd) / \(n - split.validationEnd) (train / validation / test)"
        guard trainWindows.count >= 1 else {
            throw CohortError.badFlag(flag: "--context", "the series is too short: \(parts) leave no training window of --context \(l) + --horizon \(h) values")
        }
        if o.validationFraction > 0 && validationWindows.count == 0 {
            throw CohortError.badFlag(flag: "--horizon", "the series is too short: \(parts) leave no validation window of --horizon \(h) values (widen --split's validation part, or 0 for none)")
        }
        guard testWindows.count >= 1 else {
            throw CohortError.badFlag(flag: "--horizon", "the series is too short: \(parts) leave no test window of --horizon \(h) values")
        }
        guard o.season < split.trainEnd else {
            throw CohortError.badFlag(flag: "--season", "\(o.season) must be shorter than the training part (\(split.trainEnd) values)")
        }
        let trainPart = Array(series.values[..<split.trainEnd])
        scaler = SeriesScaler(fitting: trainPart)
        maseScale = try ForecastMetrics.seasonalNaiveScale(trainPart, season: o.season)
        autoregression = try? LinearAutoregression(fitting: series.values, windows: trainWindows, scaler: scaler)
        z = series.values.map { [scaler] in Float(scaler.scale($0)) }
        (self.series, options) = (series, o)
    }

    public var name: String { series.name }
    public var count: Int { trainWindows.count }
    public var hasValidation: Bool { validationWindows.count > 0 }
    public var summary: String {
        let n = split.count
        return "\(series.name) forecast of \(series.column): \(n) values" + (series.interpolated > 0 ? " (\(series.interpolated) missing, interpolated linearly)" : "")
            + ", \(split.trainEnd) train / \(split.validationEnd - split.trainEnd) validation / \(n - split.validationEnd) test values in time order; "
            + "\(trainWindows.count) / \(validationWindows.count) / \(testWindows.count) windows, context \(options.context), horizon \(options.horizon), season \(options.season)"
            + (options.relativeWindows ? "" : ", absolute windows")
    }
    public var modelShape: ModelShape { ModelShape(inputs: options.context, outputs: options.horizon, sequence: false) }
    public var inference: [(key: String, value: String)] {
        [("task", "forecast"), ("input_shape", "[\(options.context)]"), ("input_dtype", "float32"), ("series_normalization", scaler.json),
         ("window", options.relativeWindows ? "relative_to_last_input" : "standardized"), ("horizon", "\(options.horizon)"), ("season", "\(options.season)"), ("target_name", series.column)]
    }

    /// Inputs `[B, L]` and targets `[B, H]` of training windows `indices` (`windows(_:)`).
    public func batch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, targets: Targets) {
        let (x, y) = windows(indices.map { trainWindows.origins[$0] })
        return (try Tensor(x, shape: [indices.count, options.context]), .values(try Tensor(y, shape: [indices.count, options.horizon])))
    }

    /// The inputs and targets of the windows at `origins`, flattened: standardized values minus the
    /// window's last input value (unless `relativeWindows` is off), so the network sees each window relative to its level (a
    /// trending series leaves the training part's range; its windows' shapes do not).
    func windows(_ origins: [Int]) -> (inputs: [Float], targets: [Float]) {
        let l = options.context, h = options.horizon
        var x = [Float](), y = [Float]()
        x.reserveCapacity(origins.count * l); y.reserveCapacity(origins.count * h)
        for t in origins {
            let last = options.relativeWindows ? z[t - 1] : 0
            x += z[(t - l)..<t].map { $0 - last }
            y += z[t..<(t + h)].map { $0 - last }
        }
        return (x, y)
    }

    /// The model's forecasts (series units) for the windows at `origins`, `[origins.count][H]` flattened.
    public func forecasts(_ model: any Module, origins: [Int]) throws -> [Double] {
        var out: [Double] = []
        try withNoGrad {
            var start = 0
            while start < origins.count {
                let chunk = Array(origins[start..<min(start + 512, origins.count)])
                let x = try Tensor(windows(chunk).inputs, shape: [chunk.count, options.context])
                let levels = chunk.flatMap { [Float](repeating: options.relativeWindows ? z[$0 - 1] : 0, count: options.horizon) }
                out += try zip(model(x).contiguous().scalars, levels).map { scaler.unscale(Double($0 + $1)) }
                start += 512
            }
        }
        return out
    }

    /// The true values of the windows at `origins`, flattened like `forecasts`.
    public func actuals(_ origins: [Int]) -> [Double] { origins.flatMap { series.values[$0..<($0 + options.horizon)] } }

    /// MAE, RMSE and MASE over every step of every window of the part, each rank forecasting a
    /// strided share; the forecasts are gathered and summed in window order on every rank, so the
    /// scores do not depend on the world size. On the test part also the baselines' scores on the
    /// same windows (`test_naive_*`, `test_snaive_*`, `test_ar_*`), logged as a table by rank 0.
    public func evaluate(_ model: any Module, _ comm: any Communicator, _ guarding: CollectiveGuard, on part: HeldOut) throws -> [Metric] {
        let windows = part == .validation ? validationWindows : testWindows
        let predictions = try gatheredForecasts(model, comm, guarding, origins: windows.origins)
        var counts = RegressionCounts()
        try counts.add(predictions: predictions, targets: actuals(windows.origins))
        let scores = try Scores(counts, scale: maseScale)
        let p = part.prefix, w = part.word
        var metrics = [Metric(name: p + "mae", value: scores.mae, text: String(format: "%@ MAE %.4f", w, scores.mae)),
                       Metric(name: p + "rmse", value: scores.rmse, text: String(format: "%@ RMSE %.4f", w, scores.rmse)),
                       Metric(name: p + "mase", value: scores.mase, text: String(format: "%@ MASE %.4f", w, scores.mase))]
        guard part == .test else { return metrics }
        let baselines = try baselineScores(windows)
        for (key, label, s) in baselines {
            metrics.append(Metric(name: p + key + "_rmse", value: s.rmse, text: String(format: "%@ RMSE %.4f", label, s.rmse)))
            metrics.append(Metric(name: p + key + "_mae", value: s.mae, text: String(format: "%@ MAE %.4f", label, s.mae)))
        }
        if comm.rank == 0 {
            Log.main("forecast test: \(windows.count) windows × \(options.horizon) steps of \(series.column), in its units:")
            Log.main("  " + "forecaster".padding(toLength: 24, withPad: " ", startingAt: 0) + "      MAE      RMSE     MASE")
            for (label, s) in [("model", scores)] + baselines.map({ ($0.label, $0.scores) }) {
                Log.main("  " + label.padding(toLength: 24, withPad: " ", startingAt: 0) + String(format: " %9.4f %9.4f %8.4f", s.mae, s.rmse, s.mase))
            }
        }
        return metrics
    }

    /// The forecasts for every window at `origins`, in that order, on every rank: rank r forecasts
    /// windows r, r + size, …, and an allgather puts the shares back in window order.
    func gatheredForecasts(_ model: any Module, _ comm: any Communicator, _ guarding: CollectiveGuard, origins: [Int]) throws -> [Double] {
        let h = options.horizon, ranks = comm.size
        let mine = stride(from: comm.rank, to: origins.count, by: ranks).map { origins[$0] }
        let local = mine.isEmpty ? [] : try forecasts(model, origins: mine)
        guard ranks > 1 else { return local }
        let counts = (0..<ranks).map { r in (origins.count - r + ranks - 1) / ranks * h }
        var gathered = [Double](repeating: 0, count: origins.count * h)
        try guarding("allgather of the forecasts") {
            try local.withUnsafeBufferPointer { s in try gathered.withUnsafeMutableBufferPointer { try comm.allgatherv(s, counts: counts, into: $0) } }
        }
        var ordered = [Double](repeating: 0, count: gathered.count), offset = 0
        for r in 0..<ranks {
            for (k, w) in stride(from: r, to: origins.count, by: ranks).enumerated() {
                ordered[(w * h)..<(w * h + h)] = gathered[(offset + k * h)..<(offset + k * h + h)]
            }
            offset += counts[r]
        }
        return ordered
    }

    /// The naive, seasonal-naive and (when fitted) linear-AR scores on `windows`.
    public func baselineScores(_ windows: ForecastWindows) throws -> [(key: String, label: String, scores: Scores)] {
        let h = options.horizon, values = series.values, targets = actuals(windows.origins)
        func score(_ forecast: (Int) -> [Double]) throws -> Scores {
            var c = RegressionCounts()
            try c.add(predictions: windows.origins.flatMap(forecast), targets: targets)
            return try Scores(c, scale: maseScale)
        }
        var out = [("naive", "naive", try score { ForecastBaselines.naive(values, origin: $0, horizon: h) }),
                   ("snaive", "seasonal-naive (\(options.season))", try score { ForecastBaselines.seasonalNaive(values, origin: $0, horizon: h, season: options.season) })]
        if let ar = autoregression { out.append(("ar", "linear AR (\(options.context))", try score { ar.forecast(values, origin: $0) })) }
        return out
    }

    /// MAE, RMSE and MASE of one forecaster.
    public struct Scores: Sendable {
        public let mae: Double, rmse: Double, mase: Double
        init(_ counts: RegressionCounts, scale: Double) throws {
            mae = try counts.meanAbsoluteError(); rmse = try counts.rootMeanSquaredError()
            mase = ForecastMetrics.meanAbsoluteScaledError(mae: mae, scale: scale)
        }
    }
}
