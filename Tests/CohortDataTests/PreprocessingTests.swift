// Stratified splits keep every class's share on both sides and are reproducible;
// the standardizer is fitted on training data only and matches numpy's population
// mean/std; a constant feature is centred, not divided by zero.
import Testing
@testable import CohortData

@Suite struct PreprocessingTests {
    /// 30 samples, classes 0/1/2 in a 20/6/4 mix, 2 features (x, 2x + label).
    func data() throws -> ClassificationDataset {
        let labels: [Int32] = (0..<30).map { $0 < 20 ? 0 : $0 < 26 ? 1 : 2 }
        let features = (0..<30).flatMap { i in [Float(i), Float(2 * i) + Float(labels[i])] }
        return try ClassificationDataset(name: "mix", features: features, labels: labels, featureShape: [2], numClasses: 3)
    }

    @Test func stratifiedSplitKeepsClassSharesAndIsSeeded() throws {
        let d = try data()
        let (train, test) = try d.stratifiedSplit(testFraction: 0.25, seed: 7)
        #expect(test.labelCounts() == [5, 2, 1] && train.labelCounts() == [15, 4, 3])
        #expect(train.count + test.count == d.count)
        // Disjoint and covering: every feature row appears exactly once.
        let rows = Set((0..<train.count).map { train.features[$0 * 2] } + (0..<test.count).map { test.features[$0 * 2] })
        #expect(rows.count == 30)
        let again = try d.stratifiedSplit(testFraction: 0.25, seed: 7)
        #expect(again.test.features == test.features)
        let other = try d.stratifiedSplit(testFraction: 0.25, seed: 8)
        #expect(other.test.features != test.features)
        // A tiny class still lands on both sides.
        let (a, b) = try d.stratifiedSplit(testFraction: 0.01, seed: 1)
        #expect(b.labelCounts().allSatisfy { $0 >= 1 } && a.labelCounts().allSatisfy { $0 >= 1 })
        #expect(throws: (any Error).self) { try d.stratifiedSplit(testFraction: 1, seed: 1) }
    }

    @Test func standardizerUsesTrainingStatisticsOnly() throws {
        let d = try data()
        let (train, test) = try d.stratifiedSplit(testFraction: 0.2, seed: 3)
        let s = Standardizer(fitting: train)
        // numpy: x = train[:, 0]; x.mean(), x.std() (population, ddof=0)
        let x = (0..<train.count).map { Double(train.features[$0 * 2]) }
        let mean = x.reduce(0, +) / Double(x.count)
        let std = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)).squareRoot()
        #expect(abs(Double(s.mean[0]) - mean) < 1e-4 && abs(Double(s.std[0]) - std) < 1e-4)
        let z = try train.standardized(s)
        let zx = (0..<z.count).map { Double(z.features[$0 * 2]) }
        #expect(abs(zx.reduce(0, +) / Double(zx.count)) < 1e-5)
        // The test part is transformed with the training statistics, so its mean is not forced to 0.
        let t = try test.standardized(s)
        #expect(t.features[0] == (test.features[0] - s.mean[0]) / s.std[0])
        let constant = try ClassificationDataset(name: "c", features: [5, 5, 5], labels: [0, 1, 0], featureShape: [1], numClasses: 2)
        let c = Standardizer(fitting: constant)
        let centred = try constant.standardized(c)
        #expect(c.std == [1] && centred.features == [0, 0, 0])
        #expect(throws: (any Error).self) { try constant.standardized(s) }
    }
}

@Suite struct FoldTests {
    @Test func stratifiedFoldsPartitionAndBalanceClasses() throws {
        let labels: [Int32] = (0..<30).map { $0 < 20 ? 0 : $0 < 26 ? 1 : 2 }
        let d = try ClassificationDataset(name: "mix", features: (0..<30).map(Float.init), labels: labels, featureShape: [1], numClasses: 3)
        let folds = try d.stratifiedFolds(5, seed: 3)
        #expect(folds.flatMap { $0 }.sorted() == Array(0..<30), "disjoint and covering")
        #expect(folds.allSatisfy { $0.count == 6 })
        for f in folds { #expect(f.filter { labels[$0] == 0 }.count == 4) }   // 20 of class 0 over 5 folds
        #expect(try d.stratifiedFolds(5, seed: 3) == folds && d.stratifiedFolds(5, seed: 4) != folds)
        let (train, test) = try d.foldSplit(2, of: 5, seed: 3)
        #expect(test.count == 6 && train.count == 24 && Set(test.features).isDisjoint(with: Set(train.features)))
        #expect(throws: (any Error).self) { try d.stratifiedFolds(1, seed: 0) }
        #expect(throws: (any Error).self) { try d.foldSplit(5, of: 5, seed: 0) }
    }
}
