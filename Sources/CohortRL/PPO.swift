// Proximal Policy Optimization (Schulman et al. 2017) as Stable-Baselines3 computes it:
// rollouts from a vector environment (truncated episodes bootstrapped from their final
// observation), GAE(λ), per-minibatch advantage normalisation, the clipped surrogate,
// a value loss and an entropy bonus, gradient-norm clipping, Adam (ε 1e-5), linear
// learning-rate and clip-range decay. Data-parallel: each rank steps its own
// environments and its share of every minibatch; gradients are averaged over ranks.
import CohortCollectives
import CohortCore
import CohortNN
import CohortOptim
import CohortTensor
import Foundation

/// A data-parallel PPO learner over one vector environment per rank.
public final class PPO: RLLearner {
    public let config: PPOConfig
    public let communicator: any Communicator
    public let model: ActorCritic
    public let arena: ParameterArena
    public let optimizer: Adam
    public let environments: VectorEnvironment
    /// Global environment steps taken so far, and updates (iterations) done.
    public internal(set) var timesteps = 0
    public internal(set) var iterations = 0
    /// The rank's generator for action sampling and minibatch order.
    var random: RandomGenerator
    /// Which environments start a new episode at the next step (SB3's `_last_episode_starts`).
    var episodeStarts: [Bool]
    let buffer: RolloutBuffer
    /// gSDE's exploration matrices (one per environment of this rank), drawn from `random` at
    /// every rollout's start, so a checkpoint between iterations needs only `random`'s state.
    var exploration: ExplorationMatrices?
    let envName: String
    /// Sum gradients in rank order (deterministic mode) instead of MPI's allreduce.
    public var orderedReduction = false
    private var gatherScratch: [Float] = []

    /// A learner for environment `env`: the model is seeded from `seed` (the same on every
    /// rank), rank r's environments from `seed + r · envsPerRank + i`, its sampler from (seed, rank).
    /// - Throws: `CohortError.invalidParameter` for invalid settings or an unknown environment.
    public init(env: String, config: PPOConfig, seed: UInt64, communicator: any Communicator) throws {
        try config.validate(worldSize: communicator.size)
        self.config = config
        self.communicator = communicator
        envName = env
        let perRank = config.environments / communicator.size
        environments = try VectorEnvironment(name: env, count: perRank, seed: seed &+ UInt64(communicator.rank * perRank))
        model = try ActorCritic(observationSize: environments.observationSize, actionSpace: environments.actionSpace,
                                hidden: config.hidden, seed: SplitMix64.mix(seed ^ 0x5050_4f5f_6d6f_6465),
                                sde: config.sde, logStdInit: config.logStdInit)
        if model.stateDependentNoise {
            exploration = ExplorationMatrices(environments: perRank, latentSize: model.latentSize, actionWidth: environments.actionWidth)
        }
        arena = try ParameterArena(allocating: model)
        optimizer = Adam(arena, lr: config.learningRate, eps: 1e-5)
        random = RandomGenerator(seed: SplitMix64.mix(seed &+ 0x9E37_79B9 &* UInt64(communicator.rank + 1)))
        episodeStarts = [Bool](repeating: true, count: perRank)
        buffer = RolloutBuffer(steps: config.rolloutSteps, environments: perRank,
                               observationSize: environments.observationSize, actionWidth: environments.actionSpace.width)
        // Every rank starts from rank 0's weights (they are equal already; this makes it a fact).
        try communicator.broadcast(UnsafeMutableBufferPointer(start: arena.values.pointer, count: arena.count), root: 0)
    }

    public var totalSteps: Int { config.totalSteps }

    public func evaluate(episodes: Int, seed: UInt64) throws -> Double {
        try PolicyEvaluation.meanReturn(env: envName, episodes: episodes, seed: seed, communicator: communicator,
                                        space: environments.actionSpace) { try self.model.policy($0) }
    }

    /// 1 at the start, falling linearly to 0 at `totalSteps` (SB3's `progress_remaining`).
    var progressRemaining: Double { max(0, 1 - Double(timesteps) / Double(config.totalSteps)) }

    /// One rollout of `rolloutSteps` steps per environment and the PPO update on it.
    /// - Throws: a `CommunicationError` when a collective fails; `CohortError.nonFinite` for a NaN loss.
    public func iterate() throws -> IterationStats {
        try collect()
        let progress = progressRemaining
        let lr = config.linearLearningRate ? config.learningRate * Float(progress) : config.learningRate
        let clip = config.linearClipRange ? config.clipRange * Float(progress) : config.clipRange
        optimizer.learningRate = lr
        let losses = try update(clipRange: clip)
        iterations += 1
        let finished = environments.drainFinishedEpisodes()
        var sums = [Double(finished.count), finished.reduce(0) { $0 + $1.return }, Double(finished.reduce(0) { $0 + $1.length })]
        sums = try communicator.allreduce(sums, op: .sum)
        return IterationStats(timesteps: timesteps, episodes: Int(sums[0]),
                              meanReturn: sums[0] > 0 ? sums[1] / sums[0] : .nan, meanLength: sums[0] > 0 ? sums[2] / sums[0] : .nan,
                              metrics: [("policy_loss", losses.policy), ("value_loss", losses.value), ("entropy", losses.entropy),
                                        ("lr", Double(lr)), ("clip_range", Double(clip))])
    }

    /// Policy outputs for a batch of observations without recording a graph: the head's output
    /// `[n, width]`, the values `[n]` and the policy's latent `[n, latent]` (only with gSDE).
    func act(_ observations: [Float], count n: Int) throws -> (head: [Float], values: [Float], latent: [Float]) {
        try withNoGrad {
            let x = try Tensor(observations, shape: [n, environments.observationSize])
            if model.stateDependentNoise {
                let (latent, head) = try model.latentAndOutput(x)
                return (head.scalars, try model.value(x).scalars, latent.scalars)
            }
            return (try model.policy(x).scalars, try model.value(x).scalars, [])
        }
    }

    /// Steps every environment `rolloutSteps` times, filling the buffer and its advantages.
    func collect() throws {
        let e = environments.count, width = environments.actionWidth, obsSize = environments.observationSize
        var actions = [Float](repeating: 0, count: e * width), envActions = actions
        let std = model.logStd.map { $0.scalars.map { Foundation.exp($0) } } ?? []
        let logStdSum = model.logStd.map { $0.scalars.reduce(0, +) } ?? 0
        let logStd = model.logStd?.scalars ?? []
        for t in 0..<config.rolloutSteps {
            let (head, values, latent) = try act(environments.observations, count: e)
            var logProbs = [Float](repeating: 0, count: e)
            // gSDE: new exploration matrices at the rollout's start and every `sdeSampleFrequency` steps.
            if t == 0 || (config.sdeSampleFrequency > 0 && t % config.sdeSampleFrequency == 0) {
                exploration?.resample(logStd: logStd, random: &random)
            }
            switch environments.actionSpace {
            case let .box(low, high) where exploration != nil:
                guard let sampled = exploration?.sample(means: head, latents: latent, logStd: logStd) else { break }
                actions = sampled.actions
                logProbs = sampled.logProbs
                for k in 0..<(e * width) { envActions[k] = min(max(actions[k], low[k % width]), high[k % width]) }
            case let .discrete(n):
                for i in 0..<e {
                    let row = Array(head[(i * n)..<(i * n + n)])
                    let m = row.max() ?? 0
                    let z = row.reduce(0.0) { $0 + Foundation.exp(Double($1 - m)) }
                    var u = random.nextDouble() * z, k = 0
                    while k < n - 1 { u -= Foundation.exp(Double(row[k] - m)); if u < 0 { break }; k += 1 }
                    actions[i] = Float(k)
                    envActions[i] = Float(k)
                    logProbs[i] = Float(Double(row[k] - m) - Foundation.log(z))
                }
            case let .box(low, high):
                var noise = [Float](repeating: 0, count: e * width)
                noise.withUnsafeMutableBufferPointer { random.fillNormal($0.baseAddress!, e * width) }
                let halfLog2Pi = Float(0.5 * Foundation.log(2 * Double.pi))
                for i in 0..<e {
                    var lp: Float = -logStdSum - halfLog2Pi * Float(width)
                    for d in 0..<width {
                        let a = head[i * width + d] + std[d] * noise[i * width + d]
                        actions[i * width + d] = a
                        envActions[i * width + d] = min(max(a, low[d]), high[d])
                        lp -= 0.5 * noise[i * width + d] * noise[i * width + d]
                    }
                    logProbs[i] = lp
                }
            }
            buffer.store(step: t, observations: environments.observations, actions: actions, values: values,
                         logProbs: logProbs, episodeStarts: episodeStarts)
            try envActions.withUnsafeBufferPointer { try environments.step($0.baseAddress!) }
            var rewards = environments.rewards
            // Truncated (not terminated) episodes: add γ·V(final observation), as SB3 does.
            let cut = (0..<e).filter { environments.truncated[$0] && !environments.terminated[$0] }
            if !cut.isEmpty {
                var finals: [Float] = []
                for i in cut { finals += environments.finalObservations[(i * obsSize)..<(i * obsSize + obsSize)] }
                let v = try act(finals, count: cut.count).values
                for (k, i) in cut.enumerated() { rewards[i] += Float(config.gamma) * v[k] }
            }
            buffer.storeRewards(step: t, rewards)
            for i in 0..<e { episodeStarts[i] = environments.terminated[i] || environments.truncated[i] }
        }
        timesteps += config.rolloutSteps * config.environments
        let last = try act(environments.observations, count: e).values
        buffer.computeAdvantages(lastValues: last, lastEpisodeStarts: episodeStarts, gamma: Float(config.gamma), lambda: Float(config.gaeLambda))
    }

    /// `epochs` passes over the rollout in shuffled minibatches; returns the last minibatch's losses.
    func update(clipRange clip: Float) throws -> (policy: Double, value: Double, entropy: Double) {
        let n = buffer.count, b = config.batchSize / communicator.size
        var last = (policy: 0.0, value: 0.0, entropy: 0.0)
        let gradients = UnsafeMutableBufferPointer(start: arena.grads.pointer, count: arena.count)
        // Every epoch's order is drawn first, so the advantage statistics of every global minibatch
        // (sum and sum of squares over all ranks' shares) travel in one allreduce per iteration.
        let orders = (0..<config.epochs).map { _ in random.permutation(n) }
        var moments: [Double] = []
        for order in orders {
            for start in stride(from: 0, to: n, by: b) {
                var s = 0.0, q = 0.0
                for k in order[start..<(start + b)] { let a = Double(buffer.advantages[k]); s += a; q += a * a }
                moments += [s, q]
            }
        }
        moments = try communicator.allreduce(moments, op: .sum)
        var batchIndex = 0
        for order in orders {
            for start in stride(from: 0, to: n, by: b) {
                let mb = try buffer.minibatch(Array(order[start..<(start + b)]))
                let total = Double(config.batchSize), mean = moments[2 * batchIndex] / total
                let std = total > 1 ? max(0, (moments[2 * batchIndex + 1] - total * mean * mean) / (total - 1)).squareRoot() : 0
                batchIndex += 1
                let adv = try Tensor(mb.advantages.map { Float((Double($0) - mean) / (std + 1e-8)) }, shape: [b, 1])
                let obs = try Tensor(mb.observations, shape: [b, environments.observationSize])
                let actions = try Tensor(mb.actions, shape: [b, environments.actionWidth])
                let (logp, entropy) = try model.logProbabilityAndEntropy(obs, actions: actions)
                let ratio = try (logp - Tensor(mb.logProbs, shape: [b, 1])).exp()
                let surrogate = try Tensor.minimum(adv * ratio, adv * ratio.clamp(min: 1 - clip, max: 1 + clip))
                let policyLoss = try -surrogate.mean()
                let values = try model.value(obs)
                let valueLoss = try (Tensor(mb.returns, shape: [b, 1]) - values).square().mean()
                let entropyLoss = try -entropy.mean()
                let loss = try policyLoss + entropyLoss * config.entropyCoefficient + valueLoss * config.valueCoefficient
                let lossValue = try loss.item()
                guard lossValue.isFinite else {
                    throw CohortError.nonFinite("PPO loss is \(lossValue) at iteration \(iterations) (rank \(communicator.rank))")
                }
                arena.zeroGrad()
                try loss.backward()
                try GradientAverage.average(gradients, communicator: communicator, ordered: orderedReduction, scratch: &gatherScratch)
                if config.maxGradNorm > 0 { clipGradNorm(arena, maxNorm: config.maxGradNorm) }
                optimizer.step()
                last = (Double(try policyLoss.item()), Double(try valueLoss.item()), -Double(try entropyLoss.item()))
            }
        }
        let mean = try communicator.allreduce([last.policy, last.value, last.entropy], op: .sum).map { $0 / Double(communicator.size) }
        return (mean[0], mean[1], mean[2])
    }
}
