// PPO's hyper-parameters, with the RL Baselines3 Zoo's tuned sets as presets
// (CartPole-v1, Acrobot-v1, Pendulum-v1, MountainCar-v0) and the checks a user's values
// must pass. Counts are global (all ranks together), as `cohort train`'s --global-batch.
import CohortCore

/// PPO's settings. `environments` and `batchSize` are global: each of P ranks steps
/// `environments / P` environments and takes `batchSize / P` samples per minibatch.
public struct PPOConfig: Sendable, Equatable {
    public var environments = 8
    /// Steps per environment per rollout (SB3's `n_steps`).
    public var rolloutSteps = 32
    /// Global minibatch size.
    public var batchSize = 256
    /// Passes over each rollout (`n_epochs`).
    public var epochs = 20
    public var gamma = 0.98
    public var gaeLambda = 0.8
    public var learningRate: Float = 1e-3
    /// Decay the learning rate linearly to 0 over `totalSteps` (the zoo's `lin_1e-3`).
    public var linearLearningRate = true
    public var clipRange: Float = 0.2
    /// Decay the clip range linearly to 0 over `totalSteps` (the zoo's `lin_0.2`).
    public var linearClipRange = true
    public var entropyCoefficient: Float = 0
    public var valueCoefficient: Float = 0.5
    public var maxGradNorm: Float = 0.5
    public var hidden = [64, 64]
    /// The environment-step budget (global), which the linear schedules decay over.
    public var totalSteps = 100_000
    /// gSDE (generalized State-Dependent Exploration) for box actions instead of a
    /// state-independent Gaussian (SB3's `use_sde`).
    public var sde = false
    /// With gSDE, draw new exploration matrices every this many steps of each rollout; ≤ 0: only
    /// at the start of each rollout (SB3's `sde_sample_freq`, default −1).
    public var sdeSampleFrequency = -1
    /// The initial log standard deviation (SB3's `log_std_init`, default 0).
    public var logStdInit: Float = 0

    public init() {}

    /// The zoo's tuned PPO settings for an environment (`cartpole`, `acrobot`, `pendulum`,
    /// `mountaincar`; SB3's defaults otherwise). Pendulum's zoo set uses gSDE, resampled every
    /// 4 steps.
    public static func zoo(_ env: String) -> PPOConfig {
        var c = PPOConfig()
        switch env.lowercased() {
        case "cartpole", "cartpole-v1": break
        case "acrobot", "acrobot-v1":
            c.environments = 16; c.rolloutSteps = 256; c.batchSize = 64; c.epochs = 4; c.gamma = 0.99; c.gaeLambda = 0.94
            c.learningRate = 3e-4; c.linearLearningRate = false; c.linearClipRange = false; c.totalSteps = 1_000_000
        case "pendulum", "pendulum-v1":
            c.environments = 4; c.rolloutSteps = 1024; c.batchSize = 64; c.epochs = 10; c.gamma = 0.9; c.gaeLambda = 0.95
            c.learningRate = 1e-3; c.linearLearningRate = false; c.linearClipRange = false; c.totalSteps = 100_000
            c.sde = true; c.sdeSampleFrequency = 4
        case "mountaincar", "mountaincar-v0":
            c.environments = 16; c.rolloutSteps = 16; c.batchSize = 256; c.epochs = 4; c.gamma = 0.99; c.gaeLambda = 0.98
            c.learningRate = 3e-4; c.linearLearningRate = false; c.linearClipRange = false; c.totalSteps = 1_000_000
        default:
            c.environments = 1; c.rolloutSteps = 2048; c.batchSize = 64; c.epochs = 10; c.gamma = 0.99; c.gaeLambda = 0.95
            c.learningRate = 3e-4; c.linearLearningRate = false; c.linearClipRange = false
        }
        return c
    }

    /// Checks the values and that a world of `worldSize` ranks divides the environments and
    /// the minibatch, and the minibatch divides each rank's rollout.
    /// - Throws: `CohortError.invalidParameter` naming the setting.
    public func validate(worldSize: Int) throws {
        func bad(_ name: String, _ why: String) -> CohortError { .invalidParameter(name: name, why) }
        guard environments >= 1 else { throw bad("environments", "needs at least 1 environment, got \(environments)") }
        guard rolloutSteps >= 1 else { throw bad("rolloutSteps", "must be at least 1, got \(rolloutSteps)") }
        guard epochs >= 1 else { throw bad("epochs", "must be at least 1, got \(epochs)") }
        guard totalSteps >= 1 else { throw bad("totalSteps", "must be at least 1, got \(totalSteps)") }
        guard (0...1).contains(gamma), (0...1).contains(gaeLambda) else { throw bad("gamma", "gamma \(gamma) and GAE λ \(gaeLambda) must be in [0, 1]") }
        guard learningRate > 0, learningRate.isFinite else { throw bad("learningRate", "must be a positive number, got \(learningRate)") }
        guard clipRange > 0, clipRange.isFinite else { throw bad("clipRange", "must be positive, got \(clipRange)") }
        guard entropyCoefficient >= 0, valueCoefficient >= 0, maxGradNorm >= 0 else {
            throw bad("entropyCoefficient", "the entropy and value coefficients and the gradient-norm limit must be ≥ 0")
        }
        guard logStdInit.isFinite else { throw bad("logStdInit", "must be a finite number, got \(logStdInit)") }
        guard hidden.allSatisfy({ $0 >= 1 }) else { throw bad("hidden", "layer widths must be positive, got \(hidden)") }
        guard environments % worldSize == 0 else {
            throw bad("environments", "\(environments) environments cannot be split evenly over \(worldSize) ranks")
        }
        guard batchSize >= worldSize, batchSize % worldSize == 0 else {
            throw bad("batchSize", "a minibatch of \(batchSize) cannot be split evenly over \(worldSize) ranks")
        }
        let perRank = environments / worldSize * rolloutSteps, batchPerRank = batchSize / worldSize
        guard perRank % batchPerRank == 0 else {
            throw bad("batchSize", "each rank's rollout of \(perRank) samples (`environments` ÷ ranks × `rolloutSteps`) "
                      + "is not a multiple of its minibatch of \(batchPerRank)")
        }
    }
}
