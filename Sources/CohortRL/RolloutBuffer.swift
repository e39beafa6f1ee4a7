// PPO's rollout storage on one rank: `steps × environments` transitions in flat arrays
// (observations, actions, values, log-probabilities, rewards, episode starts), GAE(λ)
// advantages and returns computed in place as SB3's RolloutBuffer does, and minibatches
// gathered by index.

/// One minibatch of transitions, flat row-major arrays.
struct Minibatch {
    var observations: [Float], actions: [Float], logProbs: [Float], advantages: [Float], returns: [Float]
}

/// The rollout of one PPO iteration on one rank.
final class RolloutBuffer {
    let steps: Int, environments: Int, observationSize: Int, actionWidth: Int
    var observations: [Float], actions: [Float]
    var values: [Float], logProbs: [Float], rewards: [Float], episodeStarts: [Float]
    var advantages: [Float], returns: [Float]
    /// Transitions held: steps × environments.
    var count: Int { steps * environments }

    init(steps: Int, environments: Int, observationSize: Int, actionWidth: Int) {
        (self.steps, self.environments, self.observationSize, self.actionWidth) = (steps, environments, observationSize, actionWidth)
        let n = steps * environments
        observations = [Float](repeating: 0, count: n * observationSize)
        actions = [Float](repeating: 0, count: n * actionWidth)
        values = [Float](repeating: 0, count: n)
        (logProbs, rewards, episodeStarts, advantages, returns) = (values, values, values, values, values)
    }

    func store(step t: Int, observations obs: [Float], actions a: [Float], values v: [Float], logProbs lp: [Float], episodeStarts starts: [Bool]) {
        let e = environments
        observations.replaceSubrange((t * e * observationSize)..<((t + 1) * e * observationSize), with: obs)
        actions.replaceSubrange((t * e * actionWidth)..<((t + 1) * e * actionWidth), with: a)
        for i in 0..<e {
            values[t * e + i] = v[i]
            logProbs[t * e + i] = lp[i]
            episodeStarts[t * e + i] = starts[i] ? 1 : 0
        }
    }

    func storeRewards(step t: Int, _ r: [Float]) {
        for i in 0..<environments { rewards[t * environments + i] = r[i] }
    }

    /// GAE(λ): δ_t = r_t + γ V_{t+1} (1 − done_{t+1}) − V_t, A_t = δ_t + γλ (1 − done_{t+1}) A_{t+1};
    /// returns = A + V.
    func computeAdvantages(lastValues: [Float], lastEpisodeStarts: [Bool], gamma: Float, lambda: Float) {
        let e = environments
        for i in 0..<e {
            var lastGAE: Float = 0
            for t in stride(from: steps - 1, through: 0, by: -1) {
                let nextNonTerminal: Float, nextValue: Float
                if t == steps - 1 {
                    nextNonTerminal = lastEpisodeStarts[i] ? 0 : 1
                    nextValue = lastValues[i]
                } else {
                    nextNonTerminal = 1 - episodeStarts[(t + 1) * e + i]
                    nextValue = values[(t + 1) * e + i]
                }
                let k = t * e + i
                let delta = rewards[k] + gamma * nextValue * nextNonTerminal - values[k]
                lastGAE = delta + gamma * lambda * nextNonTerminal * lastGAE
                advantages[k] = lastGAE
                returns[k] = lastGAE + values[k]
            }
        }
    }

    /// The transitions at `indices` (each in 0..<count).
    func minibatch(_ indices: [Int]) throws -> Minibatch {
        var mb = Minibatch(observations: [], actions: [], logProbs: [], advantages: [], returns: [])
        mb.observations.reserveCapacity(indices.count * observationSize)
        mb.actions.reserveCapacity(indices.count * actionWidth)
        for k in indices {
            mb.observations += observations[(k * observationSize)..<((k + 1) * observationSize)]
            mb.actions += actions[(k * actionWidth)..<((k + 1) * actionWidth)]
            mb.logProbs.append(logProbs[k])
            mb.advantages.append(advantages[k])
            mb.returns.append(returns[k])
        }
        return mb
    }
}
