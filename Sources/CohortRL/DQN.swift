// Deep Q-learning (Mnih et al. 2015) as Stable-Baselines3's DQN computes it: a replay
// buffer (timeouts are not terminal: SB3's handle_timeout_termination), random actions
// until `learningStarts`, a linear ε schedule, `gradientSteps` Huber-loss updates every
// `trainFrequency` environment steps, a target network copied from the online one every
// `targetUpdateInterval` steps, gradient-norm clipping at 10. Data-parallel: each rank
// keeps its own buffer of its own environments and takes batch ÷ P samples per update.
import CohortCollectives
import CohortCore
import CohortNN
import CohortOptim
import CohortTensor

/// DQN's settings; `environments`, `bufferSize`, `batchSize`, `trainFrequency` are global.
public struct DQNConfig: Sendable, Equatable {
    public var environments = 1
    public var bufferSize = 100_000
    public var learningStarts = 1000
    public var batchSize = 64
    public var gamma = 0.99
    public var learningRate: Float = 2.3e-3
    /// Environment steps (global) between training bursts, and gradient steps per burst.
    public var trainFrequency = 256
    public var gradientSteps = 128
    /// Environment steps between target-network copies.
    public var targetUpdateInterval = 10
    public var explorationFraction = 0.16
    public var explorationInitial = 1.0
    public var explorationFinal = 0.04
    public var maxGradNorm: Float = 10
    public var hidden = [256, 256]
    public var totalSteps = 50_000

    public init() {}

    /// The RL Baselines3 Zoo's DQN settings for CartPole-v1 (SB3's defaults elsewhere, with a 1e5 budget).
    public static func zoo(_ env: String) -> DQNConfig {
        var c = DQNConfig()
        if !["cartpole", "cartpole-v1"].contains(env.lowercased()) {
            c.learningRate = 1e-4; c.bufferSize = 100_000; c.learningStarts = 1000; c.batchSize = 32; c.trainFrequency = 4
            c.gradientSteps = 1; c.targetUpdateInterval = 10_000; c.explorationFraction = 0.1; c.explorationFinal = 0.05
            c.hidden = [64, 64]; c.totalSteps = 100_000
        }
        return c
    }

    /// - Throws: `CohortError.invalidParameter` naming the setting that is invalid for `worldSize` ranks.
    public func validate(worldSize p: Int) throws {
        func bad(_ name: String, _ why: String) -> CohortError { .invalidParameter(name: name, why) }
        guard environments >= 1, environments % p == 0 else { throw bad("environments", "\(environments) environments cannot be split evenly over \(p) ranks") }
        guard batchSize >= p, batchSize % p == 0 else { throw bad("batchSize", "a batch of \(batchSize) cannot be split evenly over \(p) ranks") }
        guard bufferSize >= p, bufferSize % p == 0 else { throw bad("bufferSize", "a buffer of \(bufferSize) cannot be split evenly over \(p) ranks") }
        guard trainFrequency >= environments, trainFrequency % environments == 0 else {
            throw bad("trainFrequency", "\(trainFrequency) steps between updates must be a multiple of the \(environments) environments")
        }
        guard gradientSteps >= 1, targetUpdateInterval >= 1, totalSteps >= 1 else { throw bad("gradientSteps", "gradient steps, target interval and budget must be ≥ 1") }
        guard learningStarts >= 0 else { throw bad("learningStarts", "must be ≥ 0, got \(learningStarts)") }
        guard learningRate > 0, learningRate.isFinite else { throw bad("learningRate", "must be a positive number, got \(learningRate)") }
        guard (0...1).contains(gamma) else { throw bad("gamma", "must be in [0, 1], got \(gamma)") }
        guard explorationFraction > 0, explorationFraction <= 1 else { throw bad("explorationFraction", "must be in (0, 1], got \(explorationFraction)") }
        guard hidden.allSatisfy({ $0 >= 1 }) else { throw bad("hidden", "layer widths must be positive, got \(hidden)") }
    }
}

/// A data-parallel DQN learner on a discrete-action environment.
public final class DQN: RLLearner {
    public let config: DQNConfig
    public let communicator: any Communicator
    public let qNetwork: Sequential, target: Sequential
    public let arena: ParameterArena
    let targetArena: ParameterArena
    public let optimizer: Adam
    public let environments: VectorEnvironment
    public internal(set) var timesteps = 0
    public internal(set) var iterations = 0
    public var orderedReduction = false
    var random: RandomGenerator
    var episodeStarts: [Bool]
    let replay: ReplayBuffer
    let envName: String
    let actions: Int
    private var gatherScratch: [Float] = []

    static func mlp(_ inputs: Int, _ hidden: [Int], _ outputs: Int, generator g: inout RandomGenerator) -> Sequential {
        var layers: [any Module] = []
        var width = inputs
        for h in hidden { layers += [Linear(width, h, generator: &g), ReLU()]; width = h }
        return Sequential(layers + [Linear(width, outputs, generator: &g)])
    }

    /// - Throws: `CohortError.invalidParameter` for invalid settings or a continuous-action environment.
    public init(env: String, config: DQNConfig, seed: UInt64, communicator: any Communicator) throws {
        var config = config
        if config.environments % communicator.size != 0 && config.environments == 1 { config.environments = communicator.size }
        try config.validate(worldSize: communicator.size)
        self.config = config
        self.communicator = communicator
        envName = env
        let perRank = config.environments / communicator.size
        environments = try VectorEnvironment(name: env, count: perRank, seed: seed &+ UInt64(communicator.rank * perRank))
        guard case let .discrete(n) = environments.actionSpace else {
            throw CohortError.invalidParameter(name: "env", "DQN needs discrete actions; \(environments.environments[0].id) has continuous ones (use PPO)")
        }
        actions = n
        var g = RandomGenerator(seed: SplitMix64.mix(seed ^ 0x4451_4e5f_6d6f_6465))
        qNetwork = Self.mlp(environments.observationSize, config.hidden, n, generator: &g)
        target = Self.mlp(environments.observationSize, config.hidden, n, generator: &g)
        arena = try ParameterArena(allocating: qNetwork)
        targetArena = try ParameterArena(allocating: target)
        optimizer = Adam(arena, lr: config.learningRate)
        random = RandomGenerator(seed: SplitMix64.mix(seed &+ 0x9E37_79B9 &* UInt64(communicator.rank + 1)))
        episodeStarts = [Bool](repeating: true, count: perRank)
        replay = ReplayBuffer(capacity: config.bufferSize / communicator.size, observationSize: environments.observationSize)
        try communicator.broadcast(UnsafeMutableBufferPointer(start: arena.values.pointer, count: arena.count), root: 0)
        syncTarget()
    }

    public var totalSteps: Int { config.totalSteps }
    public var weightsSHA256: String { arena.sha256() }

    func syncTarget() { targetArena.values.pointer.update(from: arena.values.pointer, count: arena.count) }

    /// ε at the current step: linear from the initial to the final value over `explorationFraction` of the budget.
    var epsilon: Double {
        let f = min(1, Double(timesteps) / (config.explorationFraction * Double(config.totalSteps)))
        return config.explorationInitial + f * (config.explorationFinal - config.explorationInitial)
    }

    public func evaluate(episodes: Int, seed: UInt64) throws -> Double {
        try PolicyEvaluation.meanReturn(env: envName, episodes: episodes, seed: seed, communicator: communicator,
                                        space: environments.actionSpace) { try self.qNetwork($0) }
    }

    /// Collects `trainFrequency` global steps, then (after `learningStarts`) `gradientSteps` updates.
    public func iterate() throws -> IterationStats {
        let e = environments.count, o = environments.observationSize
        let vectorSteps = config.trainFrequency / config.environments
        var chosen = [Float](repeating: 0, count: e)
        let before = timesteps
        for _ in 0..<vectorSteps {
            let eps = epsilon
            let greedy = try withNoGrad { try qNetwork(Tensor(environments.observations, shape: [e, o])).scalars }
            for i in 0..<e {
                if timesteps < config.learningStarts || random.nextDouble() < eps {
                    chosen[i] = Float(random.nextInt(below: actions))
                } else {
                    var best = 0
                    for j in 1..<actions where greedy[i * actions + j] > greedy[i * actions + best] { best = j }
                    chosen[i] = Float(best)
                }
            }
            let previous = environments.observations
            try chosen.withUnsafeBufferPointer { try environments.step($0.baseAddress!) }
            for i in 0..<e {
                let done = environments.terminated[i] || environments.truncated[i]
                let next = done ? environments.finalObservations : environments.observations
                replay.add(observation: previous[(i * o)..<(i * o + o)], action: chosen[i], reward: environments.rewards[i],
                           next: next[(i * o)..<(i * o + o)], terminal: environments.terminated[i])
                episodeStarts[i] = done
            }
            timesteps += config.environments
        }
        if timesteps / config.targetUpdateInterval != before / config.targetUpdateInterval { syncTarget() }
        var loss = Double.nan
        if timesteps >= config.learningStarts { loss = try train() }
        iterations += 1
        let finished = environments.drainFinishedEpisodes()
        let sums = try communicator.allreduce([Double(finished.count), finished.reduce(0) { $0 + $1.return },
                                               Double(finished.reduce(0) { $0 + $1.length })], op: .sum)
        return IterationStats(timesteps: timesteps, episodes: Int(sums[0]),
                              meanReturn: sums[0] > 0 ? sums[1] / sums[0] : .nan, meanLength: sums[0] > 0 ? sums[2] / sums[0] : .nan,
                              metrics: [("q_loss", loss), ("epsilon", epsilon)])
    }

    /// `gradientSteps` Huber-loss updates on batches of batch ÷ P transitions from this rank's buffer.
    func train() throws -> Double {
        let b = config.batchSize / communicator.size, o = environments.observationSize
        let gradients = UnsafeMutableBufferPointer(start: arena.grads.pointer, count: arena.count)
        var last = 0.0
        for _ in 0..<config.gradientSteps {
            let mb = replay.sample(b, generator: &random)
            let nextQ = try withNoGrad { try target(Tensor(mb.next, shape: [b, o])).max(axes: [1], keepDims: true).scalars }
            var y = [Float](repeating: 0, count: b)
            for k in 0..<b { y[k] = mb.rewards[k] + (1 - mb.terminal[k]) * Float(config.gamma) * nextQ[k] }
            let q = try qNetwork(Tensor(mb.observations, shape: [b, o])).gather(axis: 1, index: Tensor(mb.actions, shape: [b, 1]))
            let loss = try Loss.huber(q, Tensor(y, shape: [b, 1]))
            let value = try loss.item()
            guard value.isFinite else { throw CohortError.nonFinite("DQN loss is \(value) at iteration \(iterations) (rank \(communicator.rank))") }
            arena.zeroGrad()
            try loss.backward()
            try GradientAverage.average(gradients, communicator: communicator, ordered: orderedReduction, scratch: &gatherScratch)
            if config.maxGradNorm > 0 { clipGradNorm(arena, maxNorm: config.maxGradNorm) }
            optimizer.step()
            last = Double(value)
        }
        return try communicator.allreduce([last], op: .sum)[0] / Double(communicator.size)
    }
}
