// The environment interface of CohortRL: Gymnasium's `Env` with a TimeLimit, as a
// protocol over flat Float buffers (observations written in place, actions read from
// a pointer), so a rollout steps without allocating. Snapshots hold everything a
// checkpoint needs to continue an episode exactly: dynamics state, RNG, step count.
import CohortCore

/// An environment's action space, as Gymnasium's `Discrete(n)` or `Box(low, high)`.
public enum ActionSpace: Sendable, Equatable {
    /// Actions 0..<n, passed as one Float holding the index.
    case discrete(Int)
    /// Continuous actions, one Float per dimension, within [low, high] (the environment clips).
    case box(low: [Float], high: [Float])

    /// Floats per action: 1 for a discrete action, the box's dimension otherwise.
    public var width: Int {
        switch self {
        case .discrete: return 1
        case let .box(low, _): return low.count
        }
    }
}

/// What one step returned besides the observation.
public struct StepOutcome: Sendable, Equatable {
    /// The step's reward (Gymnasium's float64 reward).
    public var reward: Double
    /// The episode ended inside the MDP (the pole fell, the goal was reached).
    public var terminated: Bool
    /// The episode was cut by the time limit (`TimeLimit`'s `max_episode_steps`).
    public var truncated: Bool
    public init(reward: Double, terminated: Bool, truncated: Bool) {
        self.reward = reward
        self.terminated = terminated
        self.truncated = truncated
    }
}

/// An environment's full state for a checkpoint: its dynamics state, its PCG64 words and
/// the steps taken in the current episode.
public struct EnvironmentSnapshot: Sendable, Equatable {
    public var dynamics: [Double]
    public var random: [UInt64]
    public var elapsedSteps: Int
    public init(dynamics: [Double], random: [UInt64], elapsedSteps: Int) {
        self.dynamics = dynamics
        self.random = random
        self.elapsedSteps = elapsedSteps
    }
}

/// A Gymnasium classic-control environment with its time limit: the same dynamics,
/// spaces, rewards, termination and truncation as the Python original.
public protocol Environment: AnyObject {
    /// Gymnasium's id, e.g. `CartPole-v1`.
    var id: String { get }
    /// Floats per observation.
    var observationSize: Int { get }
    /// The action space.
    var actionSpace: ActionSpace { get }
    /// The TimeLimit: an episode is truncated when it reaches this many steps.
    var maxEpisodeSteps: Int { get }
    /// Steps taken in the current episode.
    var elapsedSteps: Int { get }
    /// Starts an episode; a seed re-seeds the environment's PCG64 as `reset(seed=)` does
    /// (`nil`: continue the current stream), then draws the initial state from it.
    func reset(seed: UInt64?)
    /// Writes the current observation (`observationSize` Floats) to `out`.
    func observe(into out: UnsafeMutablePointer<Float>)
    /// Advances one step with the action at `action` (`actionSpace.width` Floats).
    /// - Throws: `CohortError.invalidArgument` for a discrete action outside 0..<n or a
    ///   non-finite continuous action.
    func step(_ action: UnsafePointer<Float>) throws -> StepOutcome
    /// The state a checkpoint stores.
    var snapshot: EnvironmentSnapshot { get }
    /// Restores a `snapshot`.
    /// - Throws: `CohortError.invalidArgument` when it does not fit this environment.
    func restore(_ snapshot: EnvironmentSnapshot) throws
}

extension Environment {
    /// Steps a discrete environment with action index `action`.
    public func step(action: Int) throws -> StepOutcome {
        var a = Float(action)
        return try step(&a)
    }

    /// The current observation as a new array (for tests and evaluation; rollouts use `observe(into:)`).
    public var observation: [Float] {
        [Float](unsafeUninitializedCapacity: observationSize) { buffer, n in
            observe(into: buffer.baseAddress!)
            n = observationSize
        }
    }

    /// Reads a discrete action index from `action`, checked against the space.
    @inline(__always) func discreteAction(_ action: UnsafePointer<Float>, count: Int) throws -> Int {
        let v = action.pointee
        guard v >= 0, v < Float(count), v == v.rounded(.towardZero) else {
            throw CohortError.invalidArgument("\(id): action \(v) is not one of 0..<\(count)")
        }
        return Int(v)
    }

    /// Checks a snapshot's sizes before `restore` applies it.
    func checkSnapshot(_ s: EnvironmentSnapshot, dynamics count: Int) throws -> PCG64 {
        guard s.dynamics.count == count, s.elapsedSteps >= 0, s.elapsedSteps <= maxEpisodeSteps else {
            throw CohortError.invalidArgument("\(id): a snapshot with \(s.dynamics.count) state values and \(s.elapsedSteps) steps "
                                              + "does not fit (\(count) values, at most \(maxEpisodeSteps) steps)")
        }
        return try PCG64(words: s.random)
    }
}

/// The classic-control environments by their command-line names.
public enum EnvironmentCatalog {
    /// Names `make` accepts: cartpole, acrobot, mountaincar, pendulum (and Gymnasium's ids).
    public static let names = ["cartpole", "acrobot", "mountaincar", "pendulum"]

    /// A new environment by name (`cartpole` or `CartPole-v1`, case-insensitive), not yet reset.
    /// - Throws: `CohortError.invalidParameter(name: "env")` for an unknown name.
    public static func make(_ name: String) throws -> any Environment {
        switch name.lowercased() {
        case "cartpole", "cartpole-v1": return CartPole()
        case "acrobot", "acrobot-v1": return Acrobot()
        case "mountaincar", "mountaincar-v0": return MountainCar()
        case "pendulum", "pendulum-v1": return Pendulum()
        default:
            throw CohortError.invalidParameter(name: "env", "unknown environment '\(name)'; one of \(names.joined(separator: ", "))")
        }
    }
}
