// Splits and feature scaling that do not leak the held-out data into training:
// a stratified split keeps each class's share in both parts, and the
// standardizer is fitted on the training part only and then applied to both.
import CohortCore
import CohortTensor

extension ClassificationDataset {
    /// Splits each class's samples (in a seeded random order) so that about `testFraction`
    /// of every class goes to the second part, as scikit-learn's stratified `train_test_split`.
    /// A class with at least 2 samples keeps at least one on each side.
    /// - Throws: `CohortError.invalidArgument` for a fraction outside (0, 1) or a part that would be empty.
    public func stratifiedSplit(testFraction: Double, seed: UInt64,
                                names: (String, String)? = nil) throws -> (train: ClassificationDataset, test: ClassificationDataset) {
        let (train, test) = try stratifiedIndices(testFraction: testFraction, seed: seed)
        let (n1, n2) = names ?? ("\(name)-train", "\(name)-test")
        return (try subset(train, name: n1), try subset(test, name: n2))
    }

    /// The sample indices of `stratifiedSplit` (each part sorted; disjoint, together every sample).
    /// - Throws: `CohortError.invalidArgument` for a fraction outside (0, 1) or a part that would be empty.
    public func stratifiedIndices(testFraction: Double, seed: UInt64) throws -> (train: [Int], test: [Int]) {
        guard testFraction > 0, testFraction < 1 else {
            throw CohortError.invalidArgument("dataset \(name): test fraction \(testFraction) must be between 0 and 1")
        }
        var g = RandomGenerator(seed: seed)
        var byClass = [[Int]](repeating: [], count: numClasses)
        for (i, l) in labels.enumerated() { byClass[Int(l)].append(i) }
        var train: [Int] = [], test: [Int] = []
        for members in byClass where !members.isEmpty {
            let order = g.permutation(members.count).map { members[$0] }
            var k = Int((Double(members.count) * testFraction).rounded())
            if members.count >= 2 { k = min(max(k, 1), members.count - 1) }
            test += order[..<k]
            train += order[k...]
        }
        guard !train.isEmpty, !test.isEmpty else {
            throw CohortError.invalidArgument("dataset \(name): \(count) samples give an empty part at test fraction \(testFraction)")
        }
        return (train.sorted(), test.sorted())
    }

    /// The same samples with every feature mapped to `(x − mean) / std` (a constant feature: `x − mean`).
    public func standardized(_ s: Standardizer) throws -> ClassificationDataset {
        guard s.mean.count == featureSize else {
            throw CohortError.shapeMismatch(op: "Standardizer", "fitted on \(s.mean.count) features, dataset \(name) has \(featureSize)")
        }
        var f = features
        let d = featureSize
        for i in 0..<count { for j in 0..<d { f[i * d + j] = (f[i * d + j] - s.mean[j]) / s.std[j] } }
        var out = try ClassificationDataset(name: name, features: f, labels: labels, featureShape: featureShape, numClasses: numClasses)
        out.preparation = preparation
        out.preparation["normalization"] = s.json
        return out
    }
}

/// Per-feature mean and standard deviation fitted on training data (population std, as
/// scikit-learn's `StandardScaler`), applied unchanged to validation and test data.
public struct Standardizer: Sendable, Equatable {
    public let mean: [Float]
    /// Standard deviations, with 1 in place of 0 (constant features are only centred).
    public let std: [Float]

    /// `{"kind": "standardize", "mean": […], "std": […]}`: inputs become `(x − mean) / std` per feature.
    public var json: String {
        func list(_ v: [Float]) -> String { "[" + v.map { "\($0)" }.joined(separator: ",") + "]" }
        return #"{"kind":"standardize","mean":"# + list(mean) + #","std":"# + list(std) + "}"
    }

    /// Fits on `data`'s features.
    public init(fitting data: ClassificationDataset) {
        let d = data.featureSize, n = Double(max(data.count, 1))
        var sum = [Double](repeating: 0, count: d), sq = [Double](repeating: 0, count: d)
        for i in 0..<data.count { for j in 0..<d { let x = Double(data.features[i * d + j]); sum[j] += x; sq[j] += x * x } }
        mean = sum.map { Float($0 / n) }
        std = (0..<d).map { j in
            let v = max(sq[j] / n - (sum[j] / n) * (sum[j] / n), 0)
            return v > 0 ? Float(v.squareRoot()) : 1
        }
    }
}

extension ClassificationDataset {
    /// Sample indices of `k` stratified folds (scikit-learn's `StratifiedKFold` with shuffling):
    /// each class's samples, in a seeded random order, are dealt round-robin to the folds, so
    /// every fold holds about 1/k of every class. The folds are disjoint and cover every sample.
    /// - Throws: `CohortError.invalidArgument` when `k` < 2 or exceeds the number of samples.
    public func stratifiedFolds(_ k: Int, seed: UInt64) throws -> [[Int]] {
        guard k >= 2, k <= count else {
            throw CohortError.invalidArgument("dataset \(name): \(k) folds need 2 ≤ k ≤ \(count) samples")
        }
        var g = RandomGenerator(seed: seed)
        var folds = [[Int]](repeating: [], count: k)
        var next = 0   // continue dealing where the previous class stopped, so fold sizes stay balanced
        for c in 0..<numClasses {
            let members = labels.indices.filter { Int(labels[$0]) == c }
            for i in g.permutation(members.count) {
                folds[next % k].append(members[i])
                next += 1
            }
        }
        return folds.map { $0.sorted() }
    }

    /// Fold `index` (0-based) of `stratifiedFolds(k, seed:)` as the held-out part, the other folds as training data.
    public func foldSplit(_ index: Int, of k: Int, seed: UInt64) throws -> (train: ClassificationDataset, test: ClassificationDataset) {
        let folds = try stratifiedFolds(k, seed: seed)
        guard (0..<k).contains(index) else { throw CohortError.invalidArgument("dataset \(name): fold \(index + 1) of \(k) does not exist") }
        let train = folds.enumerated().filter { $0.offset != index }.flatMap(\.element).sorted()
        return (try subset(train, name: "\(name)-train-\(index + 1)of\(k)"), try subset(folds[index], name: "\(name)-fold-\(index + 1)of\(k)"))
    }
}
