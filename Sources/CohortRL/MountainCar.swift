// MountainCar-v0 as Gymnasium 1.x defines it: velocity += (a − 1)·0.001 − 0.0025·cos(3x),
// clipped to ±0.07; position clipped to [−1.2, 0.6] (velocity zeroed at the left wall);
// reward −1 per step; terminated at x ≥ 0.5; truncated at 200 steps.
import CohortCore
import Foundation

/// Gymnasium's `MountainCar-v0` (`MountainCarEnv` under `TimeLimit(200)`).
public final class MountainCar: Environment {
    public let id = "MountainCar-v0"
    public let observationSize = 2
    public let actionSpace = ActionSpace.discrete(3)
    public let maxEpisodeSteps = 200
    public private(set) var elapsedSteps = 0
    private var rng = PCG64(seed: 0)
    private var position = 0.0, velocity = 0.0

    private static let minPosition = -1.2, maxPosition = 0.6, maxSpeed = 0.07
    private static let goalPosition = 0.5, goalVelocity = 0.0
    private static let force = 0.001, gravity = 0.0025

    /// A new environment; call `reset(seed:)` before stepping (an unseeded first reset uses seed 0).
    public init() {}

    public func reset(seed: UInt64?) {
        if let seed { rng = PCG64(seed: seed) }
        position = rng.uniform(-0.6, -0.4)
        velocity = 0
        elapsedSteps = 0
    }

    public func observe(into out: UnsafeMutablePointer<Float>) {
        out[0] = Float(position); out[1] = Float(velocity)
    }

    public func step(_ action: UnsafePointer<Float>) throws -> StepOutcome {
        let a = try discreteAction(action, count: 3)
        velocity += Double(a - 1) * Self.force + cos(3 * position) * (-Self.gravity)
        velocity = min(max(velocity, -Self.maxSpeed), Self.maxSpeed)
        position += velocity
        position = min(max(position, Self.minPosition), Self.maxPosition)
        if position == Self.minPosition && velocity < 0 { velocity = 0 }
        elapsedSteps += 1
        let terminated = position >= Self.goalPosition && velocity >= Self.goalVelocity
        return StepOutcome(reward: -1, terminated: terminated, truncated: elapsedSteps >= maxEpisodeSteps)
    }

    public var snapshot: EnvironmentSnapshot {
        EnvironmentSnapshot(dynamics: [position, velocity], random: rng.words, elapsedSteps: elapsedSteps)
    }

    public func restore(_ s: EnvironmentSnapshot) throws {
        rng = try checkSnapshot(s, dynamics: 2)
        (position, velocity) = (s.dynamics[0], s.dynamics[1])
        elapsedSteps = s.elapsedSteps
    }
}
