// Regression on a CSV table (`cohort train --data FILE.csv --task regression`):
// features and targets standardized with the training part's statistics (the
// model learns z-scored targets; metrics are reported in the target's own units),
// mean squared error as the loss, MAE, RMSE and R² on the validation part
// (`--val-split`, a seeded random share of the training rows) and the test part,
// from sums reduced across ranks.
import CohortCollectives
import CohortCore
import CohortData
import CohortDistributed
import CohortMetrics
import CohortNN
import CohortTensor
import CohortTrainer
import Foundation

public struct RegressionTask: TrainTask {
    public let name: String
    public let trainX: [Float], trainY: [Float], testX: [Float], testY: [Float]
    /// The validation rows (`--val-split`; empty without one).
    public let valX: [Float], valY: [Float]
    public let features: Int
    /// The training targets' mean and standard deviation (the model predicts (y − mean) / std).
    public let targetMean: Float, targetStd: Float
    public let targetName: String
    /// The feature columns' names (recorded for `cohort predict`).
    public let featureNames: [String]
    /// The feature standardizer fitted on the training rows.
    public let scaler: Standardizer

    /// Splits `table` 80/20 by the seed (a random, unstratified split), or with `fold` = (i, k)
    /// holds out fold i (0-based) of k: the rows in a seeded random order dealt round-robin to
    /// k folds (scikit-learn's shuffled `KFold`; `cohort cv --task regression`). Then
    /// `validationFraction` of the training rows at random (`ValidationSplit.seed`), and
    /// standardizes with the rows left for training.
    public init(table: CSVRegression, name: String, seed: UInt64, fold: (index: Int, count: Int)? = nil,
         validationFraction: Double = 0) throws {
        let n = table.count, d = table.featureCount
        var g = RandomGenerator(seed: seed)
        let order = g.permutation(n)
        let test: [Int]
        var train: [Int], validation: [Int] = []
        if let fold {
            guard fold.count >= 2, fold.count <= n / 2, (0..<fold.count).contains(fold.index) else {
                throw CohortError.invalidParameter(name: "cvFolds", "\(name): fold \(fold.index + 1) of \(fold.count) needs 2 ≤ folds ≤ \(n / 2) (\(n) rows, at least 2 per fold)")
            }
            let held = order.indices.filter { $0 % fold.count == fold.index }
            test = held.map { order[$0] }.sorted()
            train = order.indices.filter { $0 % fold.count != fold.index }.map { order[$0] }.sorted()
        } else {
            guard n >= 5 else { throw CohortError.invalidArgument("\(name): \(n) rows are too few to hold 20 % out") }
            let testCount = max(1, Int((Double(n) * 0.2).rounded()))
            test = Array(order[..<testCount]).sorted(); train = Array(order[testCount...]).sorted()
        }
        if validationFraction > 0 {
            let parts = try ValidationSplit.random(count: train.count, fraction: validationFraction, seed: ValidationSplit.seed(seed), what: name)
            let rows = train
            (train, validation) = (parts.train.map { rows[$0] }, parts.validation.map { rows[$0] })
        }
        func rows(_ idx: [Int]) -> [Float] { idx.flatMap { Array(table.features[($0 * d)..<(($0 + 1) * d)]) } }
        // Standardize features with the training rows' statistics.
        let scaler = Standardizer(fitting: try ClassificationDataset(name: name, features: rows(train), labels: [Int32](repeating: 0, count: train.count),
                                                                   featureShape: [d], numClasses: 1))
        func scaled(_ x: [Float]) -> [Float] { x.enumerated().map { ($0.element - scaler.mean[$0.offset % d]) / scaler.std[$0.offset % d] } }
        let ys = train.map { Double(table.targets[$0]) }
        let mean = ys.reduce(0, +) / Double(ys.count)
        let std = (ys.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(ys.count)).squareRoot()
        self.name = name
        features = d
        trainX = scaled(rows(train)); testX = scaled(rows(test)); valX = scaled(rows(validation))
        trainY = train.map { table.targets[$0] }; testY = test.map { table.targets[$0] }; valY = validation.map { table.targets[$0] }
        targetMean = Float(mean); targetStd = std > 0 ? Float(std) : 1
        targetName = table.targetName
        featureNames = table.featureNames
        self.scaler = scaler
    }

    public var count: Int { trainY.count }
    public var hasValidation: Bool { !valY.isEmpty }
    public var summary: String {
        "\(name) regression of \(targetName): \(trainY.count) train / " + (hasValidation ? "\(valY.count) validation / " : "") + "\(testY.count) test rows, \(features) features"
    }
    public var modelShape: ModelShape { ModelShape(inputs: features, outputs: 1, sequence: false) }
    public var inference: [(key: String, value: String)] {
        [("input_shape", "[\(features)]"), ("input_dtype", "float32"), ("normalization", scaler.json),
         ("target_normalization", #"{"kind":"standardize","mean":"# + "\(targetMean),\"std\":\(targetStd)}"),
         ("feature_names", jsonStringArray(featureNames)), ("target_name", targetName)]
    }

    public func batch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, targets: Targets) {
        let x = indices.flatMap { Array(trainX[($0 * features)..<(($0 + 1) * features)]) }
        let y = indices.map { (trainY[$0] - targetMean) / targetStd }
        return (try Tensor(x, shape: [indices.count, features]), .values(try Tensor(y, shape: [indices.count, 1])))
    }

    /// MAE, RMSE and R² in the target's units over the validation or test rows; sums reduced across ranks.
    public func evaluate(_ model: any Module, _ comm: any Communicator, _ guarding: CollectiveGuard, on split: HeldOut) throws -> [Metric] {
        let (testX, testY) = split == .validation ? (valX, valY) : (self.testX, self.testY)
        var counts = RegressionCounts()
        let mine = Array(stride(from: comm.rank, to: testY.count, by: comm.size))
        if !mine.isEmpty {
            let x = mine.flatMap { Array(testX[($0 * features)..<(($0 + 1) * features)]) }
            let out = try withNoGrad { try model(try Tensor(x, shape: [mine.count, features])).contiguous().scalars }
            try counts.add(predictions: out.map { Double($0 * targetStd + targetMean) }, targets: mine.map { Double(testY[$0]) })
        }
        let total = try guarding("allreduce of the regression sums") { try comm.allreduce(counts.flattened, op: .sum) }
        let merged = try RegressionCounts(flattened: total)
        let mae = try merged.meanAbsoluteError(), rmse = try merged.rootMeanSquaredError(), r2 = try merged.r2()
        let p = split.prefix, w = split == .validation ? "val " : ""
        return [Metric(name: p + "mae", value: mae, text: String(format: "%@ MAE %.3f", split.word, mae)),
                Metric(name: p + "rmse", value: rmse, text: String(format: "%@RMSE %.3f", w, rmse)),
                Metric(name: p + "r2", value: r2, text: String(format: "%@R² %.4f", w, r2))]
    }
}
