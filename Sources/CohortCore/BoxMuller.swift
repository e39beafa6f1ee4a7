// The one normal sampler of the package: the Box–Muller transform of two
// uniforms into two independent standard normals. Callers choose how they draw
// the uniforms (`RandomGenerator.fillNormal` clamps u₁ away from 0 and keeps both
// normals; CohortProbability's variates redraw u₁ = 0 and keep the first).
#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// Box–Muller (1958): uniforms to standard normals.
public enum BoxMuller {
    /// The pair (r·cos θ, r·sin θ) with r = √(−2 ln u₁), θ = 2π u₂, for u₁ in (0, 1], u₂ in [0, 1).
    @inlinable public static func pair(_ u1: Double, _ u2: Double) -> (Double, Double) {
        let r = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        return (r * cos(angle), r * sin(angle))
    }

    /// The first normal of the pair, r·cos θ (no sine computed).
    @inlinable public static func first(_ u1: Double, _ u2: Double) -> Double {
        (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
