// PyTorch's map-style Dataset and DataLoader, the Cohort way: a dataset
// gathers the samples at given indices into one batch; the loader serves the
// batches of a seeded, resumable order (BatchIterator), each rank its slice of
// every global batch (as DistributedSampler does, but from one global order,
// so the data a run sees does not depend on the world size), optionally
// transformed (augmentation) and prepared ahead on a background thread.
import CohortTensor

/// Samples addressed by index that can be gathered into batches.
public protocol Dataset: Sendable {
    /// What `batch` returns, e.g. `(inputs: Tensor, labels: [Int])`.
    associatedtype Batch
    /// A short name for logs, errors and checkpoints.
    var name: String { get }
    /// Number of samples (`0..<count`).
    var count: Int { get }
    /// The samples at `indices`, in that order, as one batch.
    func batch(_ indices: [Int]) throws -> Batch
}

extension ClassificationDataset: Dataset {
    public func batch(_ indices: [Int]) throws -> (inputs: Tensor, labels: [Int]) { try makeBatch(indices: indices) }
}

extension TokenWindows: Dataset {
    public func batch(_ indices: [Int]) throws -> (inputs: Tensor, targets: [Int]) {
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw CohortError.invalidArgument("dataset \(name): window \(bad) is outside 0..<\(count)")
        }
        return makeBatch(indices: indices)
    }
}

/// One batch served by a `DataLoader`.
public struct LoadedBatch<Value> {
    /// This rank's samples.
    public var value: Value
    /// Their dataset indices.
    public var indices: [Int]
    /// 1-based number of this batch in the whole stream (the training step it is for).
    public var step: Int
    /// 0-based epoch it belongs to.
    public var epoch: Int
}

/// Serves batches of a `Dataset` epoch after epoch from a seeded order with one resumable cursor.
///
///     let loader = try DataLoader(train, batchSize: 128, seed: 1, prefetch: 2)
///     for _ in 0..<steps { let b = try loader.next(); … b.value.inputs … }
///
/// Under data parallelism each of `worldSize` ranks gets its contiguous `batchSize / worldSize`
/// slice of every global batch. `cursor` (global samples served) is all a checkpoint needs.
public final class DataLoader<D: Dataset> {
    public let dataset: D
    /// Global batch size (all ranks together).
    public let batchSize: Int
    public let rank: Int, worldSize: Int
    /// Steps prepared ahead on a background thread (0: in `next`).
    public let prefetch: Int
    /// Applied to each batch after gathering (on the prefetch thread when prefetching): e.g.
    /// augmentation keyed on (seed, step, sample ids), which keeps resumes exact.
    public let transform: (@Sendable (D.Batch, _ indices: [Int], _ step: Int) throws -> D.Batch)?
    /// Seconds `next` has waited for batches so far (gathering, or for the prefetch thread).
    public private(set) var waitSeconds = 0.0

    private var order: BatchIterator
    private var ahead: BatchIterator
    private var prefetcher: Prefetcher<LoadedBatch<D.Batch>>?
    private var served: Int

    /// - Throws: `CohortError.invalidArgument` naming the dataset when the batch does not divide
    ///   among the ranks, or an epoch holds no batch.
    public init(_ dataset: D, batchSize: Int, shuffle: Bool = true, dropLast: Bool = true, seed: UInt64 = 0,
                rank: Int = 0, worldSize: Int = 1, prefetch: Int = 0,
                transform: (@Sendable (D.Batch, _ indices: [Int], _ step: Int) throws -> D.Batch)? = nil) throws {
        guard worldSize >= 1, (0..<worldSize).contains(rank) else {
            throw CohortError.invalidArgument("DataLoader(\(dataset.name)): rank \(rank) is not in 0..<\(worldSize)")
        }
        guard batchSize >= 1, batchSize % worldSize == 0 else {
            throw CohortError.invalidArgument("DataLoader(\(dataset.name)): batch size \(batchSize) does not divide among \(worldSize) ranks")
        }
        guard !(worldSize > 1 && !dropLast) else {
            throw CohortError.invalidArgument("DataLoader(\(dataset.name)): with \(worldSize) ranks every batch must be whole: use dropLast")
        }
        guard prefetch >= 0 else { throw CohortError.invalidArgument("DataLoader(\(dataset.name)): prefetch must be ≥ 0, got \(prefetch)") }
        self.dataset = dataset
        self.batchSize = batchSize
        self.rank = rank
        self.worldSize = worldSize
        self.prefetch = prefetch
        self.transform = transform
        order = try BatchIterator(count: dataset.count, name: dataset.name, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, seed: seed)
        ahead = order
        served = 0
        prefetcher = prefetch > 0 ? Prefetcher() : nil
    }

    /// Global samples served so far (save it; `seek` restores the position exactly).
    public var cursor: Int { order.cursor }
    /// The epoch of the next batch.
    public var epoch: Int { order.epoch }
    /// Whole batches per epoch.
    public var batchesPerEpoch: Int { order.batchesPerEpoch }

    /// Moves to global sample `cursor` with `step` batches served (both from a checkpoint).
    public func seek(to cursor: Int, step: Int) throws {
        try order.seek(to: cursor)
        ahead = order
        served = step
        if prefetcher != nil { prefetcher = Prefetcher() }   // drop batches prepared for the old position
    }

    /// The next batch of this rank (crossing epochs; the stream does not end).
    public func next() throws -> LoadedBatch<D.Batch> {
        let t0 = monotonicSeconds()
        defer { waitSeconds += monotonicSeconds() - t0 }
        guard let prefetcher else {
            let (global, epoch) = order.nextIndices()
            served += 1
            return try load(global, step: served, epoch: epoch)
        }
        while prefetcher.pending < prefetch {
            let (global, epoch) = ahead.nextIndices()
            let step = served + prefetcher.pending + 1
            let job = UncheckedLoad(loader: self)
            prefetcher.submit { try job.loader.load(global, step: step, epoch: epoch) }
        }
        _ = order.nextIndices()
        served += 1
        return try prefetcher.next().value
    }

    /// This rank's slice of the global batch `global`, gathered and transformed.
    private func load(_ global: [Int], step: Int, epoch: Int) throws -> LoadedBatch<D.Batch> {
        let share = global.count / worldSize
        let mine = Array(global[(rank * share)..<((rank + 1) * share)])
        var value = try dataset.batch(mine)
        if let transform { value = try transform(value, mine, step) }
        return LoadedBatch(value: value, indices: mine, step: step, epoch: epoch)
    }
}

/// Hands the loader to the prefetch thread, which only reads its immutable parts (dataset, transform, rank).
private struct UncheckedLoad<D: Dataset>: @unchecked Sendable {
    let loader: DataLoader<D>
}
