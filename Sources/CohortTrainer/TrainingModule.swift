// What a user implements to train with `Trainer`, in the spirit of PyTorch
// Lightning's LightningModule: the network, how training samples become a
// batch, the loss of a batch, held-out metrics, and the optimizer with its
// learning-rate schedule. The Trainer owns everything else: the data order and
// its resumable cursor, data-parallel gradient averaging, accumulation,
// checkpoints, validation cadence and callbacks.
import CohortCollectives
import CohortData
import CohortDistributed
import CohortNN
import CohortOptim
import CohortTensor

/// A model the `Trainer` can fit. Only `network`, `trainingSamples`, `trainingBatch`,
/// `trainingStep` and `configureOptimizers` are required.
public protocol TrainingModule: AnyObject {
    /// What one training batch holds (e.g. `(inputs: Tensor, labels: [Int])`).
    associatedtype Batch
    /// The network whose parameters are trained; every rank builds it identically (same seed).
    var network: any Module { get }
    /// Number of training samples: each epoch trains on a seeded permutation of `0..<trainingSamples`.
    var trainingSamples: Int { get }
    /// A name for the training data, recorded with the data cursor in checkpoints.
    var dataName: String { get }
    /// What the training data is (a name and a content fingerprint), recorded in checkpoints; a
    /// resume on data with another fingerprint is refused, naming both. Asked on rank 0 only, once
    /// per `fit` and only when checkpoints are saved or resumed, so it may be computed then.
    /// Default (`Checkpointing.swift`): nil, nothing recorded or checked.
    var dataIdentity: DataIdentity? { get throws }
    /// The batch of training samples `indices` (global sample ids) at 1-based training step `step`.
    /// With `prefetch` it runs on a background thread, so it must only read shared state.
    func trainingBatch(_ indices: [Int], step: Int) throws -> Batch
    /// The loss of one batch (a scalar tensor, mean over the batch); the Trainer runs backward.
    func trainingStep(_ batch: Batch) throws -> Tensor
    /// Held-out metrics, in evaluation mode and without a graph. Collective: every rank calls it,
    /// scores its share (`context.share(of:)`) and reduces counts with `context.sum`.
    func validate(_ context: ValidationContext) throws -> [Metric]
    /// Metrics on the test split (`test_*`), for reporting only: `fit` calls it once after the
    /// final validation, and once more for the best checkpoint when a `BestCheckpoint` callback
    /// kept one — never during training, so no decision of the run can depend on it. Collective,
    /// like `validate`. Default: none.
    func test(_ context: ValidationContext) throws -> [Metric]
    /// The optimizer over `parameters` and its schedule, for a run of `totalSteps` steps.
    func configureOptimizers(_ parameters: ParameterArena, totalSteps: Int) -> (optimizer: any Optimizer, schedule: any LRSchedule)
}

extension TrainingModule {
    public var dataName: String { "train" }
    public func validate(_ context: ValidationContext) throws -> [Metric] { [] }
    public func test(_ context: ValidationContext) throws -> [Metric] { [] }
}

/// One held-out measurement, e.g. `("val_accuracy", 0.97)` or `("test_accuracy", 0.98)`.
public struct Metric: Sendable, Equatable {
    public var name: String
    public var value: Double
    /// How the log line shows it, e.g. `test accuracy 98.00%`.
    public var text: String

    public init(name: String, value: Double, text: String? = nil) {
        self.name = name
        self.value = value
        self.text = text ?? "\(name) \(String(format: "%.4f", value))"
    }
}

/// What `TrainingModule.validate` gets: this rank's place in the group and exact reductions.
public struct ValidationContext {
    /// The communicator of the training group.
    public let communicator: any Communicator
    /// The deadline the reductions wait under (the Trainer's, from its supervision's watchdog).
    public let collectiveGuard: CollectiveGuard

    public init(communicator: any Communicator, collectiveGuard: CollectiveGuard = .unguarded) {
        self.communicator = communicator
        self.collectiveGuard = collectiveGuard
    }

    public var rank: Int { communicator.rank }
    public var worldSize: Int { communicator.size }

    /// This rank's strided share of `count` held-out samples (every sample scored exactly once).
    public func share(of count: Int) -> [Int] { Array(stride(from: rank, to: count, by: worldSize)) }

    /// Sums integer counts across ranks (exact and independent of the order of ranks).
    /// - Parameter what: names the reduction in a collective-timeout report.
    public func sum(_ counts: [Int64], what: String = "validation counts") throws -> [Int64] {
        guard worldSize > 1 else { return counts }
        return try collectiveGuard("allreduce of the \(what)") { try communicator.allreduce(counts, op: .sum) }
    }

    /// Sums real values across ranks exactly: each travels as a fixed-point integer with
    /// `scale` units per 1 (1e9 by default), so the result does not depend on rank order.
    public func sum(_ values: [Double], scale: Double = 1e9, what: String = "validation sums") throws -> [Double] {
        try sum(values.map { Int64(($0 * scale).rounded()) }, what: what).map { Double($0) / scale }
    }
}
