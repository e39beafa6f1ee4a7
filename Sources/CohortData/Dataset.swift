// ClassificationDataset: an in-memory, immutable set of (features, label) pairs
// with features stored as one contiguous row-major Float32 array, plus the
// subset/split helpers and the batch gather used by BatchIterator.
import CohortCore
import CohortTensor

/// Samples for classification held in memory: `count` rows of `featureSize` floats and one label each.
public struct ClassificationDataset: Sendable {
    /// A short name for logs and error messages, e.g. `mnist-train`.
    public let name: String
    /// Features, row-major `[count, featureSize]`; row `i` is sample `i`.
    public let features: [Float]
    /// Labels in `0..<numClasses`, one per sample.
    public let labels: [Int32]
    /// Shape of one sample, e.g. `[1, 28, 28]` for MNIST or `[64]` for vectors.
    public let featureShape: [Int]
    /// Number of classes; every label is below it.
    public let numClasses: Int
    /// How the features were prepared from raw data and what the labels mean, for running a
    /// model elsewhere (`cohort ckpt export`'s metadata): `normalization` and `class_names`, as
    /// JSON. Kept by subsets, splits and reshapes.
    public var preparation: [String: String] = [:]

    /// Makes a dataset, checking that `features` holds `labels.count` rows of `featureShape`
    /// and that every label is in `0..<numClasses`.
    /// - Throws: `CohortError.invalidArgument` naming the dataset and the inconsistency.
    public init(name: String, features: [Float], labels: [Int32], featureShape: [Int], numClasses: Int) throws {
        guard numClasses >= 1, !featureShape.isEmpty, featureShape.allSatisfy({ $0 > 0 }) else {
            throw CohortError.invalidArgument("dataset \(name): needs numClasses ≥ 1 (got \(numClasses)) and a "
                + "non-empty positive feature shape (got \(describeShape(featureShape)))")
        }
        let d = featureShape.reduce(1, *)
        guard features.count == labels.count * d else {
            throw CohortError.invalidArgument("dataset \(name): \(features.count) feature values do not make "
                + "\(labels.count) samples of shape \(describeShape(featureShape)) (\(labels.count * d) values)")
        }
        if let i = labels.firstIndex(where: { $0 < 0 || Int($0) >= numClasses }) {
            throw CohortError.invalidArgument("dataset \(name): label \(labels[i]) of sample \(i) is outside 0..<\(numClasses)")
        }
        self.init(unchecked: name, features, labels, featureShape, numClasses)
    }

    init(unchecked name: String, _ features: [Float], _ labels: [Int32], _ featureShape: [Int], _ numClasses: Int) {
        self.name = name
        self.features = features
        self.labels = labels
        self.featureShape = featureShape
        self.numClasses = numClasses
    }

    /// Number of samples.
    public var count: Int { labels.count }
    /// Number of floats per sample (product of `featureShape`).
    public var featureSize: Int { featureShape.reduce(1, *) }

    /// How many samples carry each label; index `c` counts label `c` (length `numClasses`).
    public func labelCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: numClasses)
        for l in labels { counts[Int(l)] += 1 }
        return counts
    }

    /// The same samples with each sample viewed as shape `featureShape` (same element count),
    /// e.g. `[784]` to feed MNIST's `[1, 28, 28]` images to an MLP.
    /// - Throws: `CohortError.shapeMismatch` if the element counts differ.
    public func reshaped(featureShape shape: [Int]) throws -> ClassificationDataset {
        guard shape.allSatisfy({ $0 > 0 }), shape.reduce(1, *) == featureSize else {
            throw CohortError.shapeMismatch(op: "ClassificationDataset.reshaped",
                                            "\(describeShape(featureShape)) cannot be viewed as \(describeShape(shape))")
        }
        var out = ClassificationDataset(unchecked: name, features, labels, shape, numClasses)
        out.preparation = preparation
        return out
    }

    /// The samples at `indices`, in that order (repeats allowed).
    /// - Throws: `CohortError.invalidArgument` if an index is outside `0..<count`.
    public func subset(_ indices: [Int], name newName: String? = nil) throws -> ClassificationDataset {
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw CohortError.invalidArgument("dataset \(name): index \(bad) is outside 0..<\(count)")
        }
        let d = featureSize
        var f = [Float](repeating: 0, count: indices.count * d)
        f.withUnsafeMutableBufferPointer { dst in
            features.withUnsafeBufferPointer { src in
                for (row, i) in indices.enumerated() {
                    (dst.baseAddress! + row * d).update(from: src.baseAddress! + i * d, count: d)
                }
            }
        }
        var out = ClassificationDataset(unchecked: newName ?? name, f, indices.map { labels[$0] }, featureShape, numClasses)
        out.preparation = preparation
        return out
    }

    /// The contiguous samples in `range`.
    /// - Throws: `CohortError.invalidArgument` if `range` is not within `0..<count`.
    public func subset(_ range: Range<Int>, name newName: String? = nil) throws -> ClassificationDataset {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw CohortError.invalidArgument("dataset \(name): range \(range) is outside 0..<\(count)")
        }
        let d = featureSize
        var out = ClassificationDataset(unchecked: newName ?? name, Array(features[range.lowerBound * d..<range.upperBound * d]),
                                        Array(labels[range]), featureShape, numClasses)
        out.preparation = preparation
        return out
    }

    /// Splits into the first `firstCount` samples and the rest, optionally after a seeded
    /// shuffle (`RandomGenerator(seed:).permutation(count)`), e.g. to hold out a validation set.
    /// The parts are named `<name>-a` / `<name>-b` unless `names` is given.
    /// - Throws: `CohortError.invalidArgument` if `firstCount` is not in `0...count`.
    public func split(firstCount: Int, shuffleSeed: UInt64? = nil,
                      names: (String, String)? = nil) throws -> (first: ClassificationDataset, second: ClassificationDataset) {
        guard (0...count).contains(firstCount) else {
            throw CohortError.invalidArgument("dataset \(name): cannot split \(count) samples at \(firstCount)")
        }
        let (n1, n2) = names ?? ("\(name)-a", "\(name)-b")
        guard let seed = shuffleSeed else {
            return (try subset(0..<firstCount, name: n1), try subset(firstCount..<count, name: n2))
        }
        var g = RandomGenerator(seed: seed)
        let order = g.permutation(count)
        return (try subset(Array(order[..<firstCount]), name: n1), try subset(Array(order[firstCount...]), name: n2))
    }

    /// Gathers the samples at `indices` into a contiguous tensor of shape `[indices.count] + featureShape`
    /// together with their labels.
    /// - Throws: `CohortError.invalidArgument` if an index is outside `0..<count`.
    public func makeBatch(indices: [Int]) throws -> (inputs: Tensor, labels: [Int]) {
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw CohortError.invalidArgument("dataset \(name): batch index \(bad) is outside 0..<\(count)")
        }
        return gather(indices)
    }

    /// `makeBatch` for indices already known to be in range (samplers).
    func gather(_ indices: [Int]) -> (inputs: Tensor, labels: [Int]) {
        let d = featureSize
        let storage = Storage(count: indices.count * d)
        var out = [Int](repeating: 0, count: indices.count)
        features.withUnsafeBufferPointer { src in
            for (row, i) in indices.enumerated() {
                (storage.pointer + row * d).update(from: src.baseAddress! + i * d, count: d)
                out[row] = Int(labels[i])
            }
        }
        return (Tensor(storage: storage, shape: [indices.count] + featureShape), out)
    }
}

/// A SplitMix64-style hash of (seed, stream): independent generator seeds for
/// different purposes (teacher, train, test, each epoch's shuffle) from one user seed.
func deriveSeed(_ seed: UInt64, _ stream: UInt64) -> UInt64 {
    SplitMix64.mix(seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
}
