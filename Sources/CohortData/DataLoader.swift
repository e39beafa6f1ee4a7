// PyTorch's map-style Dataset and DataLoader, the Cohort way: a dataset
// gathers the samples at given indices into one batch; the loader serves the
// batches of a seeded, resumable order (BatchIterator), each rank its slice of
// every global batch (as DistributedSampler does, but from one global order,
// so the data a run sees does not depend on the world size), optionally cut
// into micro-batches (gradient accumulation, virtual shards), transformed
// (augmentation) and prepared ahead on a background thread.
import CohortCore
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
    /// The samples at `indices` as (part of) the batch of 1-based step `step`, for data whose
    /// batches depend on the step (e.g. augmentation keyed on it). Default: `batch(indices)`.
    func batch(_ indices: [Int], step: Int) throws -> Batch
}

extension Dataset {
    public func batch(_ indices: [Int], step: Int) throws -> Batch { try batch(indices) }
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
    /// This rank's samples, as the loader's `microBatches` consecutive pieces (one by default).
    public var pieces: [Value]
    /// This rank's samples, for a loader without micro-batches (`pieces[0]`).
    public var value: Value { pieces[0] }
    /// Their dataset indices (all pieces, in order).
    public var indices: [Int]
    /// The whole global batch's dataset indices, every rank's slice in rank order.
    public var globalIndices: [Int]
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
/// slice of every global batch, gathered as `microBatches` consecutive equal pieces. `cursor`
/// (global samples served) is all a checkpoint needs.
public final class DataLoader<D: Dataset> {
    public let dataset: D
    /// Global batch size (all ranks together).
    public let batchSize: Int
    public let rank: Int, worldSize: Int
    /// Steps prepared ahead on a background thread (0: in `next`).
    public let prefetch: Int
    /// Pieces each rank's slice is gathered in (gradient accumulation, virtual shards).
    public let microBatches: Int
    /// The stream's last step (prefetching stops there; `next` after it throws); nil: endless.
    public let steps: Int?
    /// Applied to each batch after gathering (on the prefetch thread when prefetching): e.g.
    /// augmentation keyed on (seed, step, sample ids), which keeps resumes exact.
    public let transform: (@Sendable (D.Batch, _ indices: [Int], _ step: Int) throws -> D.Batch)?
    /// Seconds `next` has waited for batches so far (gathering, or for the prefetch thread).
    public private(set) var waitSeconds = 0.0

    private var order: BatchIterator
    private var ahead: BatchIterator
    private var prefetcher: Prefetcher<LoadedBatch<D.Batch>>?
    private var served: Int
    private var prepared: Int   // the step of the newest batch submitted to the prefetcher

    /// - Parameters:
    ///   - microBatches: pieces each rank's slice is gathered in (`LoadedBatch.pieces`); it must
    ///     divide the slice.
    ///   - steps: the last step the stream serves (prefetching prepares nothing beyond it); nil: endless.
    /// - Throws: `CohortError.invalidArgument` naming the dataset when the batch does not divide
    ///   among the ranks or micro-batches, or an epoch holds no batch.
    public init(_ dataset: D, batchSize: Int, shuffle: Bool = true, dropLast: Bool = true, seed: UInt64 = 0,
                rank: Int = 0, worldSize: Int = 1, prefetch: Int = 0, microBatches: Int = 1, steps: Int? = nil,
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
        guard microBatches >= 1, (batchSize / worldSize) % microBatches == 0, microBatches == 1 || dropLast else {
            throw CohortError.invalidArgument("DataLoader(\(dataset.name)): \(microBatches) micro-batches do not divide the per-rank batch "
                                              + "\(batchSize / worldSize)\(dropLast ? "" : " (micro-batches need dropLast)")")
        }
        guard prefetch >= 0 else { throw CohortError.invalidArgument("DataLoader(\(dataset.name)): prefetch must be ≥ 0, got \(prefetch)") }
        self.dataset = dataset
        self.batchSize = batchSize
        self.rank = rank
        self.worldSize = worldSize
        self.prefetch = prefetch
        self.microBatches = microBatches
        self.steps = steps
        self.transform = transform
        order = try BatchIterator(count: dataset.count, name: dataset.name, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, seed: seed)
        ahead = order
        served = 0
        prepared = 0
        prefetcher = prefetch > 0 ? Prefetcher() : nil
    }

    /// Global samples served so far (save it; `seek` restores the position exactly).
    public var cursor: Int { order.cursor }
    /// The epoch of the next batch.
    public var epoch: Int { order.epoch }
    /// Position of the next sample within its epoch's order (checkpoints record it beside `cursor`).
    public var positionInEpoch: Int { order.positionInEpoch }
    /// Whole batches per epoch.
    public var batchesPerEpoch: Int { order.batchesPerEpoch }

    /// Moves to global sample `cursor` with `step` batches served (both from a checkpoint).
    public func seek(to cursor: Int, step: Int) throws {
        try order.seek(to: cursor)
        ahead = order
        served = step
        prepared = step
        if prefetcher != nil { prefetcher = Prefetcher() }   // drop batches prepared for the old position
    }

    /// The next batch of this rank (crossing epochs; the stream ends only after `steps`).
    /// With prefetch, the following `prefetch` steps are being prepared when it returns.
    public func next() throws -> LoadedBatch<D.Batch> {
        let t0 = monotonicSeconds()
        defer { waitSeconds += monotonicSeconds() - t0 }
        if let steps, served >= steps {
            throw CohortError.invalidArgument("DataLoader(\(dataset.name)): all \(steps) steps were served")
        }
        let (global, epoch) = order.nextIndices()
        served += 1
        guard let prefetcher else { return try load(global, step: served, epoch: epoch) }
        refill(prefetcher)   // only the first batch after the start or a seek is submitted here
        let batch = try prefetcher.next().value
        guard batch.globalIndices == global else {
            throw CohortError.invalidArgument("step \(served): prefetched batch does not match the data order (internal error)")
        }
        refill(prefetcher)   // the next steps are prepared while this one computes
        return batch
    }

    /// Submits the steps after `prepared` until `prefetch` are pending (none past `steps`).
    private func refill(_ prefetcher: Prefetcher<LoadedBatch<D.Batch>>) {
        while prefetcher.pending < prefetch && prepared < (steps ?? .max) {
            let (global, epoch) = ahead.nextIndices()
            prepared += 1
            let step = prepared, job = UncheckedLoad(loader: self)
            prefetcher.submit { try job.loader.load(global, step: step, epoch: epoch) }
        }
    }

    /// This rank's slice of the global batch `global`, gathered (piece by piece) and transformed.
    private func load(_ global: [Int], step: Int, epoch: Int) throws -> LoadedBatch<D.Batch> {
        let share = global.count / worldSize, first = rank * share, piece = share / microBatches
        let pieces = try (0..<microBatches).map { m in
            let ids = Array(global[(first + m * piece)..<(first + (m + 1) * piece)])
            var value = try dataset.batch(ids, step: step)
            if let transform { value = try transform(value, ids, step) }
            return value
        }
        return LoadedBatch(pieces: pieces, indices: Array(global[first..<(first + share)]), globalIndices: global, step: step, epoch: epoch)
    }
}

/// Hands the loader to the prefetch thread, which only reads its immutable parts (dataset, transform, rank).
private struct UncheckedLoad<D: Dataset>: @unchecked Sendable {
    let loader: DataLoader<D>
}
