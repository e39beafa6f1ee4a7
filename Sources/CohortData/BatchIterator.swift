// Mini-batches over a ClassificationDataset. The sample order of each epoch is a
// pure function of (seed, epoch), and the position is one global cursor (samples
// consumed), so saving the cursor is enough to resume mid-epoch exactly.
import CohortCore
import CohortTensor

/// One mini-batch of samples.
public struct Batch {
    /// Features, contiguous, shape `[B] + featureShape`.
    public let inputs: Tensor
    /// Labels of the samples, length `B`.
    public let labels: [Int]
    /// Dataset indices of the samples, in batch order.
    public let indices: [Int]
    /// The epoch this batch belongs to.
    public let epoch: Int
}

/// Serves mini-batches epoch after epoch, reshuffling each epoch from `(seed, epoch)`.
///
/// With `samplesPerEpoch` = `count` (or `count` rounded down to a multiple of `batchSize` with
/// `dropLast`), the cursor `c` points at position `c % samplesPerEpoch` of epoch
/// `c / samplesPerEpoch`. A batch is the next `batchSize` positions of the epoch's order, cut at
/// the epoch's end (a short last batch unless `dropLast`). Two iterators with equal settings and
/// cursor serve identical batches, whatever happened before.
public struct BatchIterator {
    /// The samples being served, when the iterator was made from a dataset (`nextBatch`).
    public let dataset: ClassificationDataset?
    /// Number of samples indexed (`0..<count`).
    public let count: Int
    /// Name of what is indexed (for messages and checkpoints).
    public let name: String
    /// Samples per batch.
    public let batchSize: Int
    /// Whether each epoch uses a seeded permutation (otherwise dataset order).
    public let shuffle: Bool
    /// Whether the last, short batch of an epoch is skipped.
    public let dropLast: Bool
    /// Seed of the per-epoch permutations.
    public let seed: UInt64
    /// Samples served since the start of epoch 0 (dropped tails are not counted).
    public private(set) var cursor: Int
    private var cachedOrder: (epoch: Int, order: [Int])?

    /// An iterator over `dataset`, positioned at `cursor` (0: start of epoch 0).
    /// - Throws: `CohortError.invalidArgument` if `batchSize < 1`, `cursor < 0`, or an epoch
    ///   would hold no batch (an empty dataset, or fewer than `batchSize` samples with `dropLast`).
    public init(dataset: ClassificationDataset, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false,
                seed: UInt64 = 0, cursor: Int = 0) throws {
        try self.init(count: dataset.count, name: dataset.name, dataset: dataset, batchSize: batchSize,
                      shuffle: shuffle, dropLast: dropLast, seed: seed, cursor: cursor)
    }

    /// An iterator over sample indices `0..<count` of any dataset (`nextIndices`), e.g.
    /// windows of a token stream; same order, cursor and errors as the dataset form.
    public init(count: Int, name: String, batchSize: Int, shuffle: Bool = true, dropLast: Bool = false,
                seed: UInt64 = 0, cursor: Int = 0) throws {
        try self.init(count: count, name: name, dataset: nil, batchSize: batchSize,
                      shuffle: shuffle, dropLast: dropLast, seed: seed, cursor: cursor)
    }

    private init(count: Int, name: String, dataset: ClassificationDataset?, batchSize: Int, shuffle: Bool,
                 dropLast: Bool, seed: UInt64, cursor: Int) throws {
        guard batchSize >= 1 else {
            throw CohortError.invalidArgument("BatchIterator: batch size must be ≥ 1, got \(batchSize)")
        }
        let perEpoch = dropLast ? count / batchSize * batchSize : count
        guard perEpoch > 0 else {
            throw CohortError.invalidArgument("BatchIterator: dataset \(name) has \(count) samples, "
                + "not enough for one batch of \(batchSize)\(dropLast ? " with dropLast" : "")")
        }
        self.dataset = dataset
        self.count = count
        self.name = name
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.seed = seed
        self.cursor = 0
        try seek(to: cursor)
    }

    /// Samples served per epoch: the dataset size, rounded down to whole batches with `dropLast`.
    public var samplesPerEpoch: Int { dropLast ? count / batchSize * batchSize : count }
    /// Batches per (whole) epoch.
    public var batchesPerEpoch: Int { (samplesPerEpoch + batchSize - 1) / batchSize }
    /// The epoch the next batch comes from.
    public var epoch: Int { cursor / samplesPerEpoch }
    /// Position of the next sample within the current epoch's order.
    public var positionInEpoch: Int { cursor % samplesPerEpoch }
    /// Batches left before the current epoch ends.
    public var batchesRemainingInEpoch: Int {
        let left = samplesPerEpoch - positionInEpoch
        return dropLast ? left / batchSize : (left + batchSize - 1) / batchSize
    }

    /// Moves to `cursor` (samples served since the start of epoch 0), e.g. restored from a checkpoint.
    /// - Throws: `CohortError.invalidArgument` if `cursor < 0`.
    public mutating func seek(to cursor: Int) throws {
        guard cursor >= 0 else { throw CohortError.invalidArgument("BatchIterator: cursor must be ≥ 0, got \(cursor)") }
        self.cursor = cursor
    }

    /// The sample order of `epoch`: a permutation of `0..<count` drawn from `(seed, epoch)`,
    /// or `0..<count` in order when `shuffle` is false.
    public static func order(count: Int, seed: UInt64, epoch: Int, shuffle: Bool = true) -> [Int] {
        guard shuffle else { return Array(0..<count) }
        var g = RandomGenerator(seed: deriveSeed(seed, UInt64(truncatingIfNeeded: epoch)))
        return g.permutation(count)
    }

    /// Indices of the next batch (advancing the cursor), crossing into the next epoch when one ends.
    public mutating func nextIndices() -> (indices: [Int], epoch: Int) {
        if dropLast && batchesRemainingInEpoch == 0 {
            cursor += samplesPerEpoch - positionInEpoch   // an unaligned resume left a short tail
        }
        let e = epoch, start = positionInEpoch
        let end = min(start + batchSize, samplesPerEpoch)
        if cachedOrder?.epoch != e {
            cachedOrder = (e, BatchIterator.order(count: count, seed: seed, epoch: e, shuffle: shuffle))
        }
        cursor += end - start
        return (Array(cachedOrder!.order[start..<end]), e)
    }

    /// The next batch (advancing the cursor), crossing into the next epoch when one ends.
    /// Only for iterators made from a dataset.
    public mutating func nextBatch() -> Batch {
        guard let dataset else { preconditionFailure("BatchIterator(count:) serves indices only: use nextIndices()") }
        let (indices, e) = nextIndices()
        let (inputs, labels) = dataset.gather(indices)
        return Batch(inputs: inputs, labels: labels, indices: indices, epoch: e)
    }
}
