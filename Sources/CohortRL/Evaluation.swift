// Evaluation of a policy over N episodes, as the SB3 peer script does it: episode i
// starts from `reset(seed: seed + 1000 + i)`, the policy acts deterministically (the
// most probable action, or the Gaussian's mean clipped to the box). The episodes are
// shared among the ranks (i ≡ rank mod P), stepped together in one batch per rank.
import CohortCollectives
import CohortCore
import CohortTensor

/// Evaluates policies on fresh environments.
public enum PolicyEvaluation {
    /// The deterministic action for each row of a policy head's output `head` (`n × outputs`).
    static func deterministicActions(_ head: [Float], count n: Int, space: ActionSpace) -> [Float] {
        switch space {
        case let .discrete(k):
            return (0..<n).map { i in
                var best = 0
                for j in 1..<k where head[i * k + j] > head[i * k + best] { best = j }
                return Float(best)
            }
        case let .box(low, high):
            let d = low.count
            return (0..<(n * d)).map { min(max(head[$0], low[$0 % d]), high[$0 % d]) }
        }
    }

    /// Mean return of `episodes` deterministic episodes of `env` (the same value on every rank).
    /// - Throws: `CohortError.invalidParameter(name: "episodes")` when `episodes` < 1; a
    ///   `CommunicationError` when the sum over ranks fails.
    /// `head` maps observations `[n, obs]` to the policy head's output (logits, Q-values or means).
    public static func meanReturn(env: String, episodes: Int, seed: UInt64, communicator: any Communicator,
                                  space: ActionSpace, head: (Tensor) throws -> Tensor) throws -> Double {
        guard episodes >= 1 else { throw CohortError.invalidParameter(name: "episodes", "needs at least 1 evaluation episode, got \(episodes)") }
        let mine = Array(stride(from: communicator.rank, to: episodes, by: communicator.size))
        let envs = try mine.map { i -> any Environment in
            let e = try EnvironmentCatalog.make(env)
            e.reset(seed: seed &+ 1000 &+ UInt64(i))
            return e
        }
        var returns = [Double](repeating: 0, count: envs.count)
        var active = Array(envs.indices)
        let obsSize = envs.first?.observationSize ?? 1
        while !active.isEmpty {
            var obs = [Float](repeating: 0, count: active.count * obsSize)
            obs.withUnsafeMutableBufferPointer { o in
                for (k, i) in active.enumerated() { envs[i].observe(into: o.baseAddress! + k * obsSize) }
            }
            let out = try withNoGrad { try head(Tensor(obs, shape: [active.count, obsSize])).scalars }
            let actions = deterministicActions(out, count: active.count, space: space)
            let width = space.width
            var still: [Int] = []
            try actions.withUnsafeBufferPointer { a in
                for (k, i) in active.enumerated() {
                    let out = try envs[i].step(a.baseAddress! + k * width)
                    returns[i] += out.reward
                    if !(out.terminated || out.truncated) { still.append(i) }
                }
            }
            active = still
        }
        let sum = try communicator.allreduce([returns.reduce(0, +)], op: .sum)[0]
        return sum / Double(episodes)
    }
}
