// A validation part carved out of the training data (`cohort train --val-split F`), so
// that periodic validation, early stopping, best checkpoints and tuning select on data
// the test split never sees: stratified for classes, chronological for sequences,
// seeded random for regression. Every split is a pure function of (seed, data, F).
import CohortCore
import CohortTensor

/// How a run's training data gives up a validation part.
public enum ValidationSplit {
    /// The seed of the validation draw for run seed `runSeed`: fixed, and distinct from the seed of
    /// the test split's draw, so the validation part is not correlated with the test part.
    public static func seed(_ runSeed: UInt64) -> UInt64 { runSeed ^ 0x7661_6c5f_7370_6c74 }   // "val_splt"

    /// Samples of `count` that go to validation at `fraction`: rounded, at least 1, and at most `count − 1`.
    /// - Throws: `CohortError.invalidArgument` naming `what` for a fraction outside (0, 1) or fewer than 2 samples.
    public static func size(of count: Int, fraction: Double, what: String) throws -> Int {
        guard fraction > 0, fraction < 1 else {
            throw CohortError.invalidArgument("\(what): validation fraction \(fraction) must be between 0 and 1")
        }
        guard count >= 2 else { throw CohortError.invalidArgument("\(what): \(count) training samples are too few to hold a validation part out") }
        return min(max(Int((Double(count) * fraction).rounded()), 1), count - 1)
    }

    /// A seeded random split of `0..<count` (regression rows): about `fraction` of them for validation.
    /// Both parts are sorted, disjoint, and together every index.
    public static func random(count: Int, fraction: Double, seed: UInt64, what: String) throws -> (train: [Int], validation: [Int]) {
        let k = try size(of: count, fraction: fraction, what: what)
        var g = RandomGenerator(seed: seed)
        let order = g.permutation(count)
        return (Array(order[k...]).sorted(), Array(order[..<k]).sorted())
    }

    /// Chronological split of a sequence of `count` items (tokens, problems): the training part is
    /// `0..<cut`, the validation part `cut..<count` (the last `fraction`). Windows built separately
    /// over the two parts never share an item, so no training window sees a validation token.
    public static func chronologicalCut(count: Int, fraction: Double, what: String) throws -> Int {
        count - (try size(of: count, fraction: fraction, what: what))
    }
}

extension ClassificationDataset {
    /// A stratified validation part of about `fraction` of every class (`ValidationSplit.seed(runSeed)`
    /// draws it); the training part keeps this dataset's name, the validation part is `<name>-val`.
    /// - Throws: `CohortError.invalidArgument` for a fraction outside (0, 1) or an empty part.
    public func validationSplit(fraction: Double, runSeed: UInt64) throws -> (train: ClassificationDataset, validation: ClassificationDataset) {
        let (train, validation) = try stratifiedIndices(testFraction: fraction, seed: ValidationSplit.seed(runSeed))
        return (try subset(train, name: name), try subset(validation, name: name + "-val"))
    }
}
