// Acrobot-v1 as Gymnasium 1.x defines it: the "book" dynamics integrated by one RK4
// step of 0.2 s (k1 + 2k2 + 2k3 + k4, summed left to right as NumPy does), joint angles
// wrapped to [−π, π], velocities bounded to 4π and 9π, reward −1 until the tip rises
// above the bar (terminated), truncated at 500 steps. The reset state is float32;
// Python's `x**2` is libm's pow (not always x·x for every operand), so pow it is.
import CohortCore
import Foundation

/// Gymnasium's `Acrobot-v1` (`AcrobotEnv` under `TimeLimit(500)`).
public final class Acrobot: Environment {
    public let id = "Acrobot-v1"
    public let observationSize = 6
    public let actionSpace = ActionSpace.discrete(3)
    public let maxEpisodeSteps = 500
    public private(set) var elapsedSteps = 0
    private var rng = PCG64(seed: 0)
    private var s: (Double, Double, Double, Double) = (0, 0, 0, 0)

    private static let dt = 0.2
    private static let l1 = 1.0, m1 = 1.0, m2 = 1.0, lc1 = 0.5, lc2 = 0.5, i1 = 1.0, i2 = 1.0, g = 9.8
    private static let maxVel1 = 4 * Double.pi, maxVel2 = 9 * Double.pi
    private static let torques: [Double] = [-1, 0, 1]

    /// A new environment; call `reset(seed:)` before stepping (an unseeded first reset uses seed 0).
    public init() {}

    public func reset(seed: UInt64?) {
        if let seed { rng = PCG64(seed: seed) }
        // `uniform(...).astype(np.float32)`: the initial state is rounded to float32.
        s = (Double(Float(rng.uniform(-0.1, 0.1))), Double(Float(rng.uniform(-0.1, 0.1))),
             Double(Float(rng.uniform(-0.1, 0.1))), Double(Float(rng.uniform(-0.1, 0.1))))
        elapsedSteps = 0
    }

    public func observe(into out: UnsafeMutablePointer<Float>) {
        out[0] = Float(cos(s.0)); out[1] = Float(sin(s.0)); out[2] = Float(cos(s.1)); out[3] = Float(sin(s.1))
        out[4] = Float(s.2); out[5] = Float(s.3)
    }

    /// `_dsdt` with `book_or_nips = "book"`: (θ̇1, θ̇2, θ̈1, θ̈2) at state `y` under torque `a`.
    @inline(__always) static func derivatives(_ y: (Double, Double, Double, Double), _ a: Double) -> (Double, Double, Double, Double) {
        let (theta1, theta2, dtheta1, dtheta2) = y
        let d1 = m1 * pow(lc1, 2) + m2 * (pow(l1, 2) + pow(lc2, 2) + 2 * l1 * lc2 * cos(theta2)) + i1 + i2
        let d2 = m2 * (pow(lc2, 2) + l1 * lc2 * cos(theta2)) + i2
        let phi2 = m2 * lc2 * g * cos(theta1 + theta2 - Double.pi / 2.0)
        let phi1a = -m2 * l1 * lc2 * pow(dtheta2, 2) * sin(theta2)
        let phi1b = 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin(theta2)
        let phi1 = phi1a - phi1b + (m1 * lc1 + m2 * l1) * g * cos(theta1 - Double.pi / 2) + phi2
        let numerator = a + d2 / d1 * phi1 - m2 * l1 * lc2 * pow(dtheta1, 2) * sin(theta2) - phi2
        let ddtheta2 = numerator / (m2 * pow(lc2, 2) + i2 - pow(d2, 2) / d1)
        let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return (dtheta1, dtheta2, ddtheta1, ddtheta2)
    }

    /// `wrap(x, -π, π)` of the Python source: shift by 2π until inside.
    @inline(__always) static func wrap(_ value: Double) -> Double {
        var x = value
        let diff = Double.pi - (-Double.pi)
        while x > Double.pi { x = x - diff }
        while x < -Double.pi { x = x + diff }
        return x
    }

    public func step(_ action: UnsafePointer<Float>) throws -> StepOutcome {
        let a = Self.torques[try discreteAction(action, count: 3)]
        let y0 = s
        let dt = Self.dt - 0, dt2 = dt / 2.0
        @inline(__always) func axpy(_ h: Double, _ k: (Double, Double, Double, Double)) -> (Double, Double, Double, Double) {
            (y0.0 + h * k.0, y0.1 + h * k.1, y0.2 + h * k.2, y0.3 + h * k.3)
        }
        let k1 = Self.derivatives(y0, a)
        let k2 = Self.derivatives(axpy(dt2, k1), a)
        let k3 = Self.derivatives(axpy(dt2, k2), a)
        let k4 = Self.derivatives(axpy(dt, k3), a)
        let h = dt / 6.0
        @inline(__always) func combine(_ y: Double, _ a: Double, _ b: Double, _ c: Double, _ d: Double) -> Double {
            y + h * (a + 2 * b + 2 * c + d)
        }
        let n0 = combine(y0.0, k1.0, k2.0, k3.0, k4.0), n1 = combine(y0.1, k1.1, k2.1, k3.1, k4.1)
        let n2 = combine(y0.2, k1.2, k2.2, k3.2, k4.2), n3 = combine(y0.3, k1.3, k2.3, k3.3, k4.3)
        s = (Self.wrap(n0), Self.wrap(n1), min(max(n2, -Self.maxVel1), Self.maxVel1), min(max(n3, -Self.maxVel2), Self.maxVel2))
        elapsedSteps += 1
        let terminated = -cos(s.0) - cos(s.1 + s.0) > 1.0
        return StepOutcome(reward: terminated ? 0 : -1, terminated: terminated, truncated: elapsedSteps >= maxEpisodeSteps)
    }

    public var snapshot: EnvironmentSnapshot {
        EnvironmentSnapshot(dynamics: [s.0, s.1, s.2, s.3], random: rng.words, elapsedSteps: elapsedSteps)
    }

    public func restore(_ snap: EnvironmentSnapshot) throws {
        rng = try checkSnapshot(snap, dynamics: 4)
        s = (snap.dynamics[0], snap.dynamics[1], snap.dynamics[2], snap.dynamics[3])
        elapsedSteps = snap.elapsedSteps
    }
}
