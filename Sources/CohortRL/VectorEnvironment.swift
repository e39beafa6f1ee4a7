// N environments stepped together with automatic reset, observations, rewards and flags
// in flat preallocated buffers (no allocation per step). Environment i is first reset
// with seed + i (as SB3's make_vec_env and Gymnasium's SyncVectorEnv seed a list), later
// resets continue its own PCG64 stream. Reset is same-step (SB3's VecEnv convention):
// after a terminated or truncated step the observation slot already holds the next
// episode's first observation, and the last one is kept in `finalObservations`.
import CohortCore

/// A vector of environments of one kind, stepped together.
public final class VectorEnvironment {
    /// The environments, in order.
    public let environments: [any Environment]
    /// Number of environments.
    public var count: Int { environments.count }
    /// Floats per observation and per action.
    public let observationSize: Int, actionWidth: Int
    /// The action space they share.
    public let actionSpace: ActionSpace
    /// Current observations, `count × observationSize` (after automatic resets).
    public private(set) var observations: [Float]
    /// The last step's rewards, terminated and truncated flags (`count` each).
    public private(set) var rewards: [Float]
    public private(set) var terminated: [Bool]
    public private(set) var truncated: [Bool]
    /// The observation that ended each environment's episode in the last step (valid where
    /// terminated or truncated), for bootstrapping truncated episodes.
    public private(set) var finalObservations: [Float]
    /// Running return and length of each environment's current episode.
    public private(set) var episodeReturns: [Double], episodeLengths: [Int]
    /// Episodes finished since the last `drainFinishedEpisodes()`: (return, length).
    public private(set) var finishedEpisodes: [(return: Double, length: Int)] = []

    /// `count` new environments named `name`, reset with seeds `seed`, `seed + 1`, ….
    /// - Throws: `CohortError.invalidParameter` for an unknown name or `count` < 1.
    public init(name: String, count: Int, seed: UInt64) throws {
        guard count >= 1 else { throw CohortError.invalidParameter(name: "count", "needs at least 1 environment, got \(count)") }
        environments = try (0..<count).map { _ in try EnvironmentCatalog.make(name) }
        let first = environments[0]
        observationSize = first.observationSize
        actionSpace = first.actionSpace
        actionWidth = actionSpace.width
        observations = [Float](repeating: 0, count: count * observationSize)
        finalObservations = observations
        rewards = [Float](repeating: 0, count: count)
        terminated = [Bool](repeating: false, count: count)
        truncated = terminated
        episodeReturns = [Double](repeating: 0, count: count)
        episodeLengths = [Int](repeating: 0, count: count)
        for (i, env) in environments.enumerated() { env.reset(seed: seed &+ UInt64(i)) }
        refreshObservations()
    }

    private func refreshObservations() {
        observations.withUnsafeMutableBufferPointer { o in
            for (i, env) in environments.enumerated() { env.observe(into: o.baseAddress! + i * observationSize) }
        }
    }

    /// Steps every environment with its action (`count × actionWidth` Floats at `actions`),
    /// resetting those whose episode ended.
    /// - Throws: `CohortError.invalidArgument` for an action outside the space.
    public func step(_ actions: UnsafePointer<Float>) throws {
        let n = observationSize
        try observations.withUnsafeMutableBufferPointer { o in
            try finalObservations.withUnsafeMutableBufferPointer { f in
                for i in 0..<environments.count {
                    let env = environments[i]
                    let out = try env.step(actions + i * actionWidth)
                    rewards[i] = Float(out.reward)
                    terminated[i] = out.terminated
                    truncated[i] = out.truncated
                    episodeReturns[i] += out.reward
                    episodeLengths[i] += 1
                    if out.terminated || out.truncated {
                        env.observe(into: f.baseAddress! + i * n)
                        finishedEpisodes.append((episodeReturns[i], episodeLengths[i]))
                        episodeReturns[i] = 0
                        episodeLengths[i] = 0
                        env.reset(seed: nil)
                    }
                    env.observe(into: o.baseAddress! + i * n)
                }
            }
        }
    }

    /// The episodes finished since the last call, oldest first; clears the list.
    public func drainFinishedEpisodes() -> [(return: Double, length: Int)] {
        defer { finishedEpisodes.removeAll(keepingCapacity: true) }
        return finishedEpisodes
    }

    /// Every environment's snapshot plus the running episode sums, for a checkpoint.
    public var snapshot: VectorSnapshot {
        VectorSnapshot(environments: environments.map(\.snapshot), episodeReturns: episodeReturns, episodeLengths: episodeLengths)
    }

    /// Restores a `snapshot` (same environment kind and count).
    /// - Throws: `CohortError.invalidArgument` when the counts differ or a snapshot does not fit.
    public func restore(_ s: VectorSnapshot) throws {
        guard s.environments.count == count, s.episodeReturns.count == count, s.episodeLengths.count == count else {
            throw CohortError.invalidArgument("a checkpoint of \(s.environments.count) environments cannot restore \(count)")
        }
        for (env, snap) in zip(environments, s.environments) { try env.restore(snap) }
        episodeReturns = s.episodeReturns
        episodeLengths = s.episodeLengths
        finishedEpisodes.removeAll()
        refreshObservations()
    }
}

/// A `VectorEnvironment`'s state for checkpoints.
public struct VectorSnapshot: Sendable, Equatable {
    public var environments: [EnvironmentSnapshot]
    public var episodeReturns: [Double]
    public var episodeLengths: [Int]
    public init(environments: [EnvironmentSnapshot], episodeReturns: [Double], episodeLengths: [Int]) {
        self.environments = environments
        self.episodeReturns = episodeReturns
        self.episodeLengths = episodeLengths
    }
}
