// PPO's pieces on one process: the log-probabilities the rollout records (from the
// sampled noise or the softmax) equal what the update recomputes from the stored
// actions — so the first epoch's ratio is 1 — for discrete, Gaussian and gSDE policies; GAE
// against a hand-computed case (a bootstrapped end, an episode boundary); and a short
// continuous run that changes the weights and keeps every loss finite.
@testable import CohortRL
import CohortCollectives
import CohortTensor
import Testing

@Suite struct PPOTests {
    func rolloutLogProbsMatchTheModel(_ env: String, sde: Bool? = nil) throws {
        var c = PPOConfig.zoo(env)
        if let sde { c.sde = sde }
        c.environments = 2; c.rolloutSteps = 16; c.batchSize = 32
        let ppo = try PPO(env: env, config: c, seed: 9, communicator: SingleProcessCommunicator())
        try ppo.collect()
        let b = ppo.buffer
        let obs = try Tensor(b.observations, shape: [b.count, b.observationSize])
        let actions = try Tensor(b.actions, shape: [b.count, b.actionWidth])
        let (logp, entropy) = try ppo.model.logProbabilityAndEntropy(obs, actions: actions)
        let worst = zip(logp.scalars, b.logProbs).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-4, "\(env): rollout and update log-probabilities differ by \(worst)")
        #expect(entropy.scalars.allSatisfy { $0.isFinite })
    }

    @Test func discreteRolloutLogProbabilities() throws { try rolloutLogProbsMatchTheModel("cartpole") }
    @Test func gaussianRolloutLogProbabilities() throws { try rolloutLogProbsMatchTheModel("pendulum", sde: false) }
    @Test func gSDERolloutLogProbabilities() throws { try rolloutLogProbsMatchTheModel("pendulum", sde: true) }

    @Test func gaeMatchesAHandComputedCase() {
        // One environment, 3 steps; an episode ends after step 1 (step 2 starts a new one).
        let r = RolloutBuffer(steps: 3, environments: 1, observationSize: 1, actionWidth: 1)
        r.values = [1, 2, 3]
        r.rewards = [1, 1, 1]
        r.episodeStarts = [0, 0, 1]
        let g: Float = 0.9, l: Float = 0.5
        r.computeAdvantages(lastValues: [4], lastEpisodeStarts: [false], gamma: g, lambda: l)
        let a2 = 1 + g * 4 - 3                     // bootstrapped from the last value
        let a1 = 1 + g * 3 * 0 - 2                 // the episode ended: no bootstrap, no carry
        let a0 = (1 + g * 2 - 1) + g * l * a1
        for (x, y) in zip(r.advantages, [a0, a1, a2]) { #expect(abs(x - y) < 1e-6) }
        for (x, y) in zip(r.returns, [a0 + 1, a1 + 2, a2 + 3]) { #expect(abs(x - y) < 1e-6) }
    }

    @Test func continuousPPOTrainsWithFiniteLosses() throws {
        var c = PPOConfig.zoo("pendulum")
        c.environments = 2; c.rolloutSteps = 64; c.batchSize = 32; c.epochs = 2; c.totalSteps = 512
        let ppo = try PPO(env: "pendulum", config: c, seed: 1, communicator: SingleProcessCommunicator())
        let before = ppo.weightsSHA256
        var stats: IterationStats?
        while ppo.timesteps < c.totalSteps { stats = try ppo.iterate() }
        #expect(ppo.weightsSHA256 != before)
        #expect(stats?.metrics.allSatisfy { $0.value.isFinite } == true)
        #expect(try ppo.evaluate(episodes: 2, seed: 0).isFinite)
    }
}
