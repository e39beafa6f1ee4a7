// `cohort eval` on a regression checkpoint (`cohort train --task regression`): the
// held-out rows of the CSV rebuilt as training split them (seed, `--val-split`),
// standardized with the training rows' statistics, predicted without a graph and
// scored in the target's units — MAE, RMSE and R² from RegressionCounts' sums.
import CohortCheckpoint
import CohortCore
import CohortData
import CohortMetrics
import CohortNN
import CohortRuntime
import CohortTensor
import Foundation

extension Eval {
    /// Scores the regression model in `c` on the held-out part of `data` and prints the report.
    func evaluateRegression(_ c: Checkpoint, config: [String: String], settings: [String: String]) throws {
        guard data.lowercased().hasSuffix(".csv") else {
            throw CohortError.badFlag(flag: "--data", "\(data): a regression model is scored on the CSV file it was trained on")
        }
        let seed = config["seed"].flatMap(UInt64.init) ?? 0
        let table = try CSVDataset.regression(path: data, targetColumn: labelColumn)
        let task = try RegressionTask(table: table, name: URL(fileURLWithPath: data).deletingPathExtension().lastPathComponent, seed: seed,
                                      validationFraction: config["val_split"].flatMap(Double.init) ?? 0)
        guard let inputs = settings["inputs"].flatMap(Int.init) else {
            throw CohortError.badFlag(flag: "--checkpoint", "\(c.path) does not record its input count (saved by an older cohort?)")
        }
        guard inputs == task.features else {
            throw CohortError.badFlag(flag: "--data", "\(data) has \(task.features) features; the model in \(c.path) takes \(inputs)")
        }
        var g = RandomGenerator(seed: 0)
        let model = try ModelZoo.build(ModelSpec(name: c.manifest.model.name, settings: settings),
                                       shape: task.modelShape, generator: &g)
        try TrainingCheckpoint.restore(c, arena: ParameterArena(model), optimizer: nil)
        model.eval()
        var counts = RegressionCounts()
        let n = task.testY.count, d = task.features
        try withNoGrad {
            var start = 0
            while start < n {
                let end = min(start + 1000, n)
                let out = try model(try Tensor(Array(task.testX[(start * d)..<(end * d)]), shape: [end - start, d])).contiguous().scalars
                try counts.add(predictions: out.map { Double($0 * task.targetStd + task.targetMean) },
                               targets: task.testY[start..<end].map(Double.init))
                start = end
            }
        }
        let mae = try counts.meanAbsoluteError(), rmse = try counts.rootMeanSquaredError(), r2 = try counts.r2()
        if json {
            let out: [String: Any] = ["checkpoint": c.path, "step": c.manifest.step, "samples": n, "target": task.targetName,
                                      "mae": mae, "rmse": rmse, "r2": r2]
            let text = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: text, as: UTF8.self))
            return
        }
        print("\(c.path) (step \(c.manifest.step)) on \(task.name): \(n) held-out rows, target \(task.targetName)")
        print(String(format: "MAE %.4f, RMSE %.4f, R² %.4f", mae, rmse, r2))
    }
}
