// gSDE against Stable-Baselines3: Tests/Support/sde_reference.py evaluates SB3's
// StateDependentNoiseDistribution on fixed tensors (log-probabilities, entropies, their
// gradients with respect to log σ and the mean, no gradient into the latent, and actions
// sampled with given exploration matrices); Cohort's StateDependentNoise (the update's
// side) and ExplorationMatrices (the rollout's side) must agree within 1e-5. A missing venv
// or SB3 is a failure, not a skip. Then, in a PPO rollout, one exploration matrix holds for
// `sdeSampleFrequency` steps and the next block draws a new one.
@testable import CohortRL
import CohortCollectives
import CohortProcess
import CohortProcessTestSupport
import CohortTensor
import Foundation
import Testing

@Suite struct GSDETests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = repo.appendingPathComponent("Tests/Support/sde_reference.py").path

    /// Element i of a fixed tensor, as the reference script computes it.
    static func fixed(_ count: Int, seed: Int, scale: Double) -> [Float] {
        (0..<count).map { Float(scale * Foundation.sin(0.731 * Double($0) + 1.37 * Double(seed))) }
    }

    /// A leaf tensor that collects a gradient.
    static func leaf(_ values: [Float], _ shape: [Int]) throws -> Tensor {
        let t = try Tensor(values, shape: shape)
        t.requiresGrad = true
        return t
    }

    static func reference() throws -> [String: Any]? {
        #expect(FileManager.default.isExecutableFile(atPath: ReferenceVenv.python),
                "reference venv missing: \(ReferenceVenv.python) (run `make deps`)")
        let r = try runChild([ReferenceVenv.python, script], stdout: .capture, stderr: .capture)
        let out = String(decoding: r.stdout, as: UTF8.self), err = String(decoding: r.stderr, as: UTF8.self)
        guard r.status.succeeded, let json = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] else {
            Issue.record("sde_reference.py failed (\(r.status)): \(out.prefix(300))\n\(err.suffix(2000))")
            return nil
        }
        return json
    }

    static func worst(_ a: [Float], _ b: Any?) -> Double {
        guard let b = b as? [Double], a.count == b.count, !a.isEmpty else { return .infinity }
        return zip(a, b).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? .infinity
    }

    @Test func distributionMatchesStableBaselines3() throws {
        guard let ref = try Self.reference() else { return }
        let (b, l, a) = (5, 4, 2)
        #expect(ref["shape"] as? [Int] == [b, l, a])
        let mean = try Self.leaf(Self.fixed(b * a, seed: 1, scale: 0.5), [b, a])
        let latent = try Self.leaf(Self.fixed(b * l, seed: 2, scale: 1.0), [b, l])
        let logStd = try Self.leaf(Self.fixed(l * a, seed: 3, scale: 0.8), [l, a])
        let actions = try Tensor(Self.fixed(b * a, seed: 4, scale: 1.5), shape: [b, a])
        let scale = try StateDependentNoise.scale(latent: latent, logStd: logStd)
        let (logp, entropy) = try StateDependentNoise.logProbabilityAndEntropy(mean: mean, scale: scale, actions: actions)
        #expect(logp.shape == [b, 1] && entropy.shape == [b, 1])
        #expect(Self.worst(logp.scalars, ref["log_prob"]) < 1e-5, "log-prob \(logp.scalars) vs \(ref["log_prob"] ?? "-")")
        #expect(Self.worst(entropy.scalars, ref["entropy"]) < 1e-5, "entropy \(entropy.scalars) vs \(ref["entropy"] ?? "-")")
        try (logp.sum() + entropy.sum() * 0.3).backward()
        #expect(Self.worst(logStd.grad?.scalars ?? [], ref["grad_log_std"]) < 1e-5, "∂/∂log σ \(logStd.grad?.scalars ?? [])")
        #expect(Self.worst(mean.grad?.scalars ?? [], ref["grad_mean"]) < 1e-5, "∂/∂mean \(mean.grad?.scalars ?? [])")
        #expect(ref["latent_has_grad"] as? Bool == false)
        #expect((latent.grad?.scalars ?? []).allSatisfy { $0 == 0 }, "the latent must be cut off from the graph, as SB3's")

        // The rollout's side: given exploration matrices, actions and their log-probabilities.
        var matrices = ExplorationMatrices(environments: b, latentSize: l, actionWidth: a)
        matrices.weights = Self.fixed(b * l * a, seed: 5, scale: 0.7)
        let sampled = matrices.sample(means: mean.scalars, latents: latent.scalars, logStd: logStd.scalars)
        #expect(Self.worst(sampled.actions, ref["sampled"]) < 1e-5, "sampled \(sampled.actions) vs \(ref["sampled"] ?? "-")")
        #expect(Self.worst(sampled.logProbs, ref["sampled_log_prob"]) < 1e-5, "sampled log-prob \(sampled.logProbs)")
    }

    /// With no hidden layers the latent is the observation (3 values for Pendulum), so each
    /// step's noise a − μ(s) = s · W pins down W from three steps: the fourth step of a block
    /// fits it, the first step of the next block does not.
    @Test func explorationMatrixHoldsForItsBlockOfSteps() throws {
        var c = PPOConfig.zoo("pendulum")
        #expect(c.sde && c.sdeSampleFrequency == 4, "the zoo's Pendulum setting is gSDE resampled every 4 steps")
        c.environments = 1; c.rolloutSteps = 8; c.batchSize = 8; c.hidden = []
        let ppo = try PPO(env: "pendulum", config: c, seed: 4, communicator: SingleProcessCommunicator())
        try ppo.collect()
        let obs = ppo.buffer.observations, acts = ppo.buffer.actions
        let means = try ppo.model.policy(Tensor(obs, shape: [8, 3])).scalars
        let s = (0..<8).map { t in (0..<3).map { Double(obs[t * 3 + $0]) } }
        let noise = (0..<8).map { Double(acts[$0]) - Double(means[$0]) }
        // Solve s[0..2] · W = noise[0..2] (Cramer's rule), then predict the later steps.
        func det(_ m: [[Double]]) -> Double {
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        }
        let d = det(Array(s[0..<3]))
        #expect(abs(d) > 1e-6, "the first three observations must be independent (det \(d))")
        let w = (0..<3).map { k in det((0..<3).map { r in (0..<3).map { $0 == k ? noise[r] : s[r][$0] } }) / d }
        func residual(_ t: Int) -> Double { abs(zip(s[t], w).reduce(0) { $0 + $1.0 * $1.1 } - noise[t]) }
        #expect(residual(3) < 1e-3 * max(1, abs(noise[3])), "step 3 uses the block's matrix: residual \(residual(3))")
        #expect(residual(4) > 1e-2, "step 4 starts a new block with a new matrix: residual \(residual(4))")
    }
}
