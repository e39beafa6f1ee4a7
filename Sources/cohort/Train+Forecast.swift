// `cohort train --task forecast`: its flags (--column, --horizon, --season, --split) read
// into a `ForecastTask`, checked before MPI starts where they can be, and recorded in
// the run's configuration so a resume with other settings is refused.
import ArgumentParser
import CohortCheckpoint
import CohortCore
import CohortNN
import CohortRuntime
import CohortTensor

/// The flags of `--task forecast` (docs/cli.md, docs/timeseries.md).
struct ForecastFlags: ParsableArguments {
    @Option(help: "--task forecast: the CSV column holding the series (rows in time order; docs/timeseries.md).") var column: String?
    @Option(parsing: .unconditional, help: "--task forecast: values predicted per window (direct multi-step).") var horizon = 1
    @Option(parsing: .unconditional, help: "--task forecast: the seasonal period S of the seasonal-naive baseline and of MASE's scale (1: none; 52 for weekly data with a yearly cycle).") var season = 1
    @Option(help: "--task forecast: TRAIN,VAL,TEST fractions of the series in time order (VAL may be 0).") var split = "0.7,0.15,0.15"
    @Option(name: .customLong("window-level"), help: "--task forecast: last (the network sees each window minus its last value: trends) or none (standardized values as they are: level-dependent series).") var windowLevel = "last"
}

extension Train {
    var column: String? { forecast.column }
    var horizon: Int { forecast.horizon }
    var season: Int { forecast.season }
    var split: String { forecast.split }

    /// The forecast-only flags: refused without `--task forecast`, required with it.
    func validateForecast() throws {
        guard taskKind == "forecast" else {
            for (flag, given) in [("--column", column != nil), ("--horizon", horizon != 1), ("--season", season != 1), ("--split", split != "0.7,0.15,0.15"),
                                  ("--window-level", forecast.windowLevel != "last")] where given {
                throw ValidationError("\(flag) applies to --task forecast (got --task \(taskKind))")
            }
            return
        }
        guard let data, data.lowercased().hasSuffix(".csv") else {
            throw ValidationError("--task forecast needs --data FILE.csv (got \(data ?? "the built-in dataset"))")
        }
        guard column != nil else { throw ValidationError("--task forecast needs --column NAME: the CSV column holding the series") }
        guard horizon >= 1 else { throw ValidationError("--horizon must be ≥ 1 (values predicted per window), got \(horizon)") }
        guard context >= 1 else { throw ValidationError("--context must be ≥ 1 (values read per window), got \(context)") }
        guard season >= 1 else { throw ValidationError("--season must be ≥ 1 (1: no seasonality), got \(season)") }
        guard valSplit == 0 else { throw ValidationError("--val-split does not apply to --task forecast: its validation part is the middle fraction of --split TRAIN,VAL,TEST") }
        guard ForecastModels.names.contains(model) else {
            throw ValidationError("--task forecast takes --model \(ForecastModels.names.joined(separator: ", ")); got '\(model)'")
        }
        guard ["last", "none"].contains(forecast.windowLevel) else { throw ValidationError("--window-level must be last or none, got '\(forecast.windowLevel)'") }
        if labelSmoothing > 0 { throw ValidationError("--label-smoothing smooths class targets; --task forecast has none (MSE loss)") }
        if try splitFractions().validation == 0, let flag = [("--val-every", valEvery != nil), ("--early-stop", earlyStop != nil), ("--save-best", saveBest != nil)].first(where: \.1)?.0 {
            throw ValidationError("\(flag) needs a validation part: --split's VAL fraction is 0 (e.g. --split 0.7,0.15,0.15)")
        }
        if cvFold != nil || cvParallelFolds != nil {
            throw ValidationError("--task forecast has one chronological split; cohort cv's folds (--cv-fold) would mix past and future")
        }
    }

    /// `--split` as (train, validation) fractions; the test part is the rest.
    func splitFractions() throws -> (train: Double, validation: Double) {
        let parts = split.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, let a = parts[0], let b = parts[1], let c = parts[2], a > 0, b >= 0, c > 0, abs(a + b + c - 1) < 1e-6 else {
            throw CohortError.badFlag(flag: "--split", "expected three fractions TRAIN,VAL,TEST summing to 1 with TRAIN and TEST > 0 (e.g. 0.7,0.15,0.15), got '\(split)'")
        }
        return (a, b)
    }

    /// Whether a forecasting run has a validation part (periodic validation, early stopping, best checkpoints).
    var forecastValidation: Bool { taskKind == "forecast" && ((try? splitFractions().validation) ?? 0) > 0 }

    /// The series `--data`/`--column` name, windowed by `--context`/`--horizon`.
    func forecastTask() throws -> ForecastTask {
        guard let data, let column else { throw CohortError.badFlag(flag: "--column", "--task forecast needs --data FILE.csv and --column NAME") }
        let f = try splitFractions()
        let series = try ForecastSeries.load(path: data, column: column)
        var options = ForecastOptions(context: context, horizon: horizon, season: season, trainFraction: f.train, validationFraction: f.validation)
        options.relativeWindows = forecast.windowLevel == "last"
        return try ForecastTask(series: series, options: options)
    }

    /// The model zoo's network for `task`, or a forecaster for a forecasting task.
    func network(for task: any TrainTask, _ spec: ModelSpec, shape: ModelShape, generator: inout RandomGenerator) throws -> any Module {
        if let detection = task as? DetectionTask { return try detector(for: detection, spec, generator: &generator) }
        guard task is ForecastTask else { return try ModelZoo.build(spec, shape: shape, generator: &generator) }
        return try ForecastModels.build(spec, context: shape.inputs, horizon: shape.outputs, generator: &generator)
    }

    /// The forecast settings a resumed run must match (none for other tasks).
    var forecastConfig: [KeyValue] {
        guard taskKind == "forecast" else { return [] }
        return [KeyValue("column", column ?? ""), KeyValue("context", "\(context)"), KeyValue("horizon", "\(horizon)"),
                KeyValue("season", "\(season)"), KeyValue("split", split), KeyValue("window_level", forecast.windowLevel)]
    }
}
