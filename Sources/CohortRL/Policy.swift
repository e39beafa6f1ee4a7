// The actor-critic of PPO as Stable-Baselines3's MlpPolicy builds it: separate policy
// and value MLPs (tanh, 64×64 by default), orthogonal initialisation (gain √2 for the
// hidden layers, 0.01 for the action head, 1 for the value head, zero biases), and for
// continuous actions a state-independent log standard deviation `[actions]` or, with gSDE,
// a log σ matrix `[latent, actions]` (StateDependentNoise.swift), starting at `logStdInit`.
import CohortCore
import CohortNN
import CohortTensor
import Foundation

/// Fills a `[out, in]` weight with a (semi-)orthogonal matrix times `gain`, like
/// `torch.nn.init.orthogonal_`: Gram–Schmidt (in Float64) on a Gaussian matrix.
public func orthogonalInit(_ weight: Tensor, gain: Float, generator: inout RandomGenerator) throws {
    guard weight.rank == 2 else { throw CohortError.invalidArgument("orthogonalInit: weight must be 2-D, got \(describeShape(weight.shape))") }
    let rows = weight.shape[0], cols = weight.shape[1]
    let long = max(rows, cols), short = min(rows, cols)
    // `short` orthonormal vectors of length `long`.
    var vectors = [[Double]]()
    for _ in 0..<short {
        var v = (0..<long).map { _ -> Double in
            // Box–Muller from two uniforms of the seeded generator.
            let u1 = max(generator.nextDouble(), 1e-300), u2 = generator.nextDouble()
            return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
        }
        for _ in 0..<2 {   // re-orthogonalise once for stability
            for q in vectors {
                let d = zip(v, q).reduce(0) { $0 + $1.0 * $1.1 }
                for k in 0..<long { v[k] -= d * q[k] }
            }
        }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        vectors.append(v.map { $0 / max(norm, 1e-12) })
    }
    var values = [Float](repeating: 0, count: rows * cols)
    for r in 0..<rows {
        for c in 0..<cols {
            values[r * cols + c] = Float(rows >= cols ? vectors[c][r] : vectors[r][c]) * gain
        }
    }
    try weight.assign(Tensor(values, shape: [rows, cols]))
}

/// PPO's actor-critic: `policy` maps observations to action logits (discrete) or means
/// (continuous), `value` to a state value; `logStd` is the Gaussian's log standard deviation.
public final class ActorCritic: Module {
    public var isTraining = true
    /// The policy MLP: observation → logits `[B, n]` or means `[B, d]`.
    public let policy: Sequential
    /// The value MLP: observation → `[B, 1]`.
    public let value: Sequential
    /// Log σ for continuous actions: `[d]` (state-independent) or `[latent, d]` (gSDE); nil for
    /// discrete ones.
    public let logStd: Tensor?
    /// Whether continuous actions use gSDE (generalized State-Dependent Exploration).
    public let stateDependentNoise: Bool
    /// Width of the policy's last hidden layer (the observation size with no hidden layers).
    public let latentSize: Int
    /// The action space the policy acts in.
    public let actionSpace: ActionSpace

    /// A freshly initialised actor-critic for `observationSize` inputs; `sde` selects gSDE for a
    /// box action space, whose log σ starts at `logStdInit` everywhere (SB3's default 0).
    public init(observationSize: Int, actionSpace: ActionSpace, hidden: [Int] = [64, 64], seed: UInt64,
                sde: Bool = false, logStdInit: Float = 0) throws {
        var g = RandomGenerator(seed: seed)
        self.actionSpace = actionSpace
        latentSize = hidden.last ?? observationSize
        func mlp(_ out: Int, headGain: Float) throws -> Sequential {
            var layers: [any Module] = []
            var width = observationSize
            for h in hidden {
                let l = Linear(width, h, generator: &g)
                try orthogonalInit(l.weight, gain: Float(2).squareRoot(), generator: &g)
                l.bias?.fill(0)
                layers += [l, Tanh()]
                width = h
            }
            let head = Linear(width, out, generator: &g)
            try orthogonalInit(head.weight, gain: headGain, generator: &g)
            head.bias?.fill(0)
            return Sequential(layers + [head])
        }
        switch actionSpace {
        case let .discrete(n):
            guard !sde else { throw CohortError.invalidParameter(name: "sde", "gSDE needs continuous (box) actions; this environment's are discrete") }
            policy = try mlp(n, headGain: 0.01)
            logStd = nil
        case let .box(low, _):
            policy = try mlp(low.count, headGain: 0.01)
            logStd = parameter(Tensor.full(sde ? [hidden.last ?? observationSize, low.count] : [low.count], logStdInit))
        }
        stateDependentNoise = sde   // a discrete space with sde threw above
        value = try mlp(1, headGain: 1)
    }

    public var localParameters: [(name: String, tensor: Tensor)] { logStd.map { [("log_std", $0)] } ?? [] }
    public var children: [(name: String, module: any Module)] { [("policy", policy), ("value", value)] }

    /// The policy head's output (logits or means).
    public func forward(_ x: Tensor) throws -> Tensor { try policy(x) }

    /// The policy's last hidden activations `[B, latent]` (gSDE's features) and its head's output.
    public func latentAndOutput(_ x: Tensor) throws -> (latent: Tensor, output: Tensor) {
        var h = x
        for layer in policy.layers.dropLast() { h = try layer.forward(h) }
        guard let head = policy.layers.last else { return (h, h) }
        return (h, try head.forward(h))
    }

    /// Log-probabilities of `actions` (`[B, width]`) and the entropies, both `[B, 1]`, under the
    /// current policy for observations `x` `[B, obs]`; differentiable.
    public func logProbabilityAndEntropy(_ x: Tensor, actions: Tensor) throws -> (logProb: Tensor, entropy: Tensor) {
        if stateDependentNoise, let logStd {
            let (latent, mean) = try latentAndOutput(x)
            let scale = try StateDependentNoise.scale(latent: latent, logStd: logStd)
            return try StateDependentNoise.logProbabilityAndEntropy(mean: mean, scale: scale, actions: actions)
        }
        let out = try policy(x)
        if let logStd {
            let d = Float(out.shape[1])
            let std = logStd.exp()
            let z = try (actions - out) / std
            let halfLog2Pi = Float(0.5 * Foundation.log(2 * Double.pi))
            let logStdSum = try logStd.sum()
            let lp = try (z.square() * (-0.5)).sum(axes: [1], keepDims: true) - logStdSum - halfLog2Pi * d
            let ent = try (logStdSum + (0.5 + halfLog2Pi) * d) * Tensor.ones([out.shape[0], 1])
            return (lp, ent)
        }
        let logp = try out.logSoftmax(axis: 1)
        let chosen = try logp.gather(axis: 1, index: actions)
        let ent = try -(logp.exp() * logp).sum(axes: [1], keepDims: true)
        return (chosen, ent)
    }
}
