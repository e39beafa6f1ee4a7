// CartPole-v1 as Gymnasium 1.x defines it: Euler integration at τ = 0.02 s, force ±10,
// termination beyond ±2.4 m or ±12°, reward 1 per step (the terminating one too), and
// truncation at 500 steps. Float64 state, Float32 observations, like the original.
import CohortCore
import Foundation

/// Gymnasium's `CartPole-v1` (`CartPoleEnv` under `TimeLimit(500)`).
public final class CartPole: Environment {
    public let id = "CartPole-v1"
    public let observationSize = 4
    public let actionSpace = ActionSpace.discrete(2)
    public let maxEpisodeSteps = 500
    public private(set) var elapsedSteps = 0
    private var rng = PCG64(seed: 0)
    private var x = 0.0, xDot = 0.0, theta = 0.0, thetaDot = 0.0

    // The constants computed as the Python source computes them.
    private static let gravity = 9.8, massCart = 1.0, massPole = 0.1
    private static let totalMass = massPole + massCart
    private static let length = 0.5
    private static let poleMassLength = massPole * length
    private static let forceMag = 10.0, tau = 0.02
    private static let thetaThreshold = 12 * 2 * Double.pi / 360
    private static let xThreshold = 2.4

    /// A new environment; call `reset(seed:)` before stepping (an unseeded first reset uses seed 0).
    public init() {}

    public func reset(seed: UInt64?) {
        if let seed { rng = PCG64(seed: seed) }
        x = rng.uniform(-0.05, 0.05)
        xDot = rng.uniform(-0.05, 0.05)
        theta = rng.uniform(-0.05, 0.05)
        thetaDot = rng.uniform(-0.05, 0.05)
        elapsedSteps = 0
    }

    public func observe(into out: UnsafeMutablePointer<Float>) {
        out[0] = Float(x); out[1] = Float(xDot); out[2] = Float(theta); out[3] = Float(thetaDot)
    }

    public func step(_ action: UnsafePointer<Float>) throws -> StepOutcome {
        let force = try discreteAction(action, count: 2) == 1 ? Self.forceMag : -Self.forceMag
        let cosTheta = cos(theta), sinTheta = sin(theta)
        let temp = (force + Self.poleMassLength * (thetaDot * thetaDot) * sinTheta) / Self.totalMass
        let thetaAcc = (Self.gravity * sinTheta - cosTheta * temp)
            / (Self.length * (4.0 / 3.0 - Self.massPole * (cosTheta * cosTheta) / Self.totalMass))
        let xAcc = temp - Self.poleMassLength * thetaAcc * cosTheta / Self.totalMass
        x = x + Self.tau * xDot
        xDot = xDot + Self.tau * xAcc
        theta = theta + Self.tau * thetaDot
        thetaDot = thetaDot + Self.tau * thetaAcc
        elapsedSteps += 1
        let terminated = x < -Self.xThreshold || x > Self.xThreshold || theta < -Self.thetaThreshold || theta > Self.thetaThreshold
        return StepOutcome(reward: 1, terminated: terminated, truncated: elapsedSteps >= maxEpisodeSteps)
    }

    public var snapshot: EnvironmentSnapshot {
        EnvironmentSnapshot(dynamics: [x, xDot, theta, thetaDot], random: rng.words, elapsedSteps: elapsedSteps)
    }

    public func restore(_ s: EnvironmentSnapshot) throws {
        rng = try checkSnapshot(s, dynamics: 4)
        (x, xDot, theta, thetaDot) = (s.dynamics[0], s.dynamics[1], s.dynamics[2], s.dynamics[3])
        elapsedSteps = s.elapsedSteps
    }
}
