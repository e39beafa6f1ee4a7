// What `cohort rl` drives, whichever the algorithm: iterations (a rollout and its
// updates), evaluation, checkpoints, and the statistics each iteration reports.
import CohortCheckpoint
import CohortCore

/// Statistics of one iteration, the same on every rank.
public struct IterationStats: Sendable {
    /// Global environment steps so far.
    public var timesteps: Int
    /// Episodes finished during this iteration on all ranks, their mean return and length (NaN if none).
    public var episodes: Int
    public var meanReturn: Double, meanLength: Double
    /// The algorithm's own figures (losses averaged over ranks, learning rate, ε, …), in a fixed order.
    public var metrics: [(name: String, value: Double)]
}

/// A data-parallel RL learner.
public protocol RLLearner: AnyObject {
    /// Global environment steps so far and iterations done.
    var timesteps: Int { get }
    var iterations: Int { get }
    /// The environment-step budget.
    var totalSteps: Int { get }
    /// Sum gradients in rank order (deterministic mode).
    var orderedReduction: Bool { get set }
    /// SHA-256 of the parameters (bitwise comparisons of runs).
    var weightsSHA256: String { get }
    /// One iteration. Collective.
    func iterate() throws -> IterationStats
    /// Mean return of `episodes` deterministic episodes from `seed + 1000 + i`. Collective.
    func evaluate(episodes: Int, seed: UInt64) throws -> Double
    /// Saves a checkpoint (collective; the path on rank 0).
    func save(directory: String, config: [KeyValue], metadata: [KeyValue]) throws -> String?
    /// Restores from a checkpoint (every rank); returns its training config.
    func restore(from checkpoint: Checkpoint) throws -> [KeyValue]
}

extension PPO {
    public var weightsSHA256: String { arena.sha256() }
}
