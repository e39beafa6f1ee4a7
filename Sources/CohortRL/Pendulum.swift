// Pendulum-v1 as Gymnasium 1.x (NumPy 2 promotion rules) computes it: the torque is a
// float32 clipped to ±2, so the torque terms of the cost and of the acceleration are
// float32 products added to float64 ones (`u**2` is glibc's powf, which is not always u·u);
// θ̇ clipped to ±8; truncated at 200 steps.
import CohortCore
import Foundation

/// Gymnasium's `Pendulum-v1` (`PendulumEnv(g=10)` under `TimeLimit(200)`).
public final class Pendulum: Environment {
    public let id = "Pendulum-v1"
    public let observationSize = 3
    public let actionSpace = ActionSpace.box(low: [-2], high: [2])
    public let maxEpisodeSteps = 200
    public private(set) var elapsedSteps = 0
    private var rng = PCG64(seed: 0)
    private var theta = 0.0, thetaDot = 0.0

    private static let maxSpeed = 8.0, maxTorque: Float = 2, dt = 0.05, g = 10.0, m = 1.0, l = 1.0

    /// A new environment; call `reset(seed:)` before stepping (an unseeded first reset uses seed 0).
    public init() {}

    public func reset(seed: UInt64?) {
        if let seed { rng = PCG64(seed: seed) }
        theta = rng.uniform(-Double.pi, Double.pi)
        thetaDot = rng.uniform(-1.0, 1.0)
        elapsedSteps = 0
    }

    public func observe(into out: UnsafeMutablePointer<Float>) {
        out[0] = Float(cos(theta)); out[1] = Float(sin(theta)); out[2] = Float(thetaDot)
    }

    /// `((x + π) mod 2π) − π` with Python's floored modulo.
    @inline(__always) static func angleNormalize(_ x: Double) -> Double {
        let b = 2 * Double.pi
        var r = fmod(x + Double.pi, b)
        if r != 0 && (r < 0) != (b < 0) { r += b }
        return r - Double.pi
    }

    public func step(_ action: UnsafePointer<Float>) throws -> StepOutcome {
        let raw = action.pointee
        guard raw.isFinite else { throw CohortError.invalidArgument("\(id): action \(raw) is not a finite torque") }
        let u = min(max(raw, -Self.maxTorque), Self.maxTorque)
        let an = Self.angleNormalize(theta)
        let costs = pow(an, 2) + 0.1 * pow(thetaDot, 2) + Double(Float(0.001) * powf(u, 2))
        let torqueTerm = Double(Float(3.0 / (Self.m * pow(Self.l, 2))) * u)
        var newThetaDot = thetaDot + (3 * Self.g / (2 * Self.l) * sin(theta) + torqueTerm) * Self.dt
        newThetaDot = min(max(newThetaDot, -Self.maxSpeed), Self.maxSpeed)
        theta = theta + newThetaDot * Self.dt
        thetaDot = newThetaDot
        elapsedSteps += 1
        return StepOutcome(reward: -costs, terminated: false, truncated: elapsedSteps >= maxEpisodeSteps)
    }

    public var snapshot: EnvironmentSnapshot {
        EnvironmentSnapshot(dynamics: [theta, thetaDot], random: rng.words, elapsedSteps: elapsedSteps)
    }

    public func restore(_ s: EnvironmentSnapshot) throws {
        rng = try checkSnapshot(s, dynamics: 2)
        (theta, thetaDot) = (s.dynamics[0], s.dynamics[1])
        elapsedSteps = s.elapsedSteps
    }
}
