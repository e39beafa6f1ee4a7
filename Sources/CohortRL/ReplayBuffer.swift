// DQN's replay buffer on one rank: a ring of (observation, action, reward, next
// observation, terminal) in flat Float arrays, sampled uniformly with replacement from
// the rank's generator; its whole content goes into checkpoints.

import CohortCore
import CohortTensor

/// Sampled transitions, flat arrays.
struct ReplayBatch {
    var observations: [Float], actions: [Float], rewards: [Float], next: [Float], terminal: [Float]
}

final class ReplayBuffer {
    let capacity: Int, observationSize: Int
    var observations: [Float], next: [Float], actions: [Float], rewards: [Float], terminal: [Float]
    /// Next slot to write, and the number of filled slots.
    var position = 0, size = 0

    init(capacity: Int, observationSize: Int) {
        (self.capacity, self.observationSize) = (capacity, observationSize)
        observations = [Float](repeating: 0, count: capacity * observationSize)
        next = observations
        actions = [Float](repeating: 0, count: capacity)
        (rewards, terminal) = (actions, actions)
    }

    func add(observation: ArraySlice<Float>, action: Float, reward: Float, next nextObservation: ArraySlice<Float>, terminal t: Bool) {
        let o = observationSize, p = position
        observations.replaceSubrange((p * o)..<(p * o + o), with: observation)
        next.replaceSubrange((p * o)..<(p * o + o), with: nextObservation)
        actions[p] = action
        rewards[p] = reward
        terminal[p] = t ? 1 : 0
        position = (position + 1) % capacity
        size = min(size + 1, capacity)
    }

    func sample(_ n: Int, generator: inout RandomGenerator) -> ReplayBatch {
        var b = ReplayBatch(observations: [], actions: [], rewards: [], next: [], terminal: [])
        let o = observationSize
        for _ in 0..<n {
            let k = generator.nextInt(below: max(size, 1))
            b.observations += observations[(k * o)..<(k * o + o)]
            b.next += next[(k * o)..<(k * o + o)]
            b.actions.append(actions[k])
            b.rewards.append(rewards[k])
            b.terminal.append(terminal[k])
        }
        return b
    }

    /// The buffer as checkpoint state: Float values widened to Float64 (exact), position and size.
    var state: RankState {
        RankState(values: (observations + next + actions + rewards + terminal).map(Double.init), words: [Int64(position), Int64(size)])
    }

    func restore(_ s: RankState) throws {
        let o = capacity * observationSize
        guard s.values.count == 2 * o + 3 * capacity, s.words.count == 2 else {
            throw CohortError.invalidArgument("the checkpoint's replay buffer has \(s.values.count) values; this run's holds \(2 * o + 3 * capacity)")
        }
        let f = s.values.map(Float.init)
        observations = Array(f[0..<o]); next = Array(f[o..<(2 * o)])
        actions = Array(f[(2 * o)..<(2 * o + capacity)])
        rewards = Array(f[(2 * o + capacity)..<(2 * o + 2 * capacity)])
        terminal = Array(f[(2 * o + 2 * capacity)...])
        position = Int(s.words[0]); size = Int(s.words[1])
    }
}
