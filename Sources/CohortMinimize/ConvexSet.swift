// Simple convex sets and their Euclidean projections, for projected gradient
// descent (and usable on their own): boxes, the non-negative orthant, the
// scaled probability simplex and L2 balls.
import CohortCore
import CohortTensor

/// A closed convex set with an exact Euclidean projection.
public enum ConvexSet: Sendable, Equatable {
    /// lower[i] ≤ x[i] ≤ upper[i] (bounds may be ±∞).
    case box(lower: [Double], upper: [Double])
    /// x[i] ≥ 0.
    case nonNegative
    /// x[i] ≥ 0, Σx = total (the probability simplex for total 1).
    case simplex(total: Double)
    /// ‖x − center‖₂ ≤ radius.
    case ball(center: [Double], radius: Double)

    /// The closest point of the set to `x` (Euclidean norm).
    /// - Throws: `CohortError.invalidArgument` when the set's dimension differs from x's,
    ///   a box has lower > upper, the simplex total is not positive, or the radius is negative.
    public func project(_ x: [Double]) throws -> [Double] {
        switch self {
        case let .box(lower, upper):
            guard lower.count == x.count, upper.count == x.count else {
                throw CohortError.invalidArgument("ConvexSet.box: bounds have \(lower.count) and \(upper.count) elements, x has \(x.count)")
            }
            if let i = x.indices.first(where: { !(lower[$0] <= upper[$0]) }) {
                throw CohortError.invalidArgument("ConvexSet.box: lower[\(i)] = \(lower[i]) > upper[\(i)] = \(upper[i])")
            }
            return x.indices.map { Swift.min(Swift.max(x[$0], lower[$0]), upper[$0]) }
        case .nonNegative:
            return x.map { Swift.max($0, 0) }
        case let .simplex(total):
            guard total > 0 else { throw CohortError.invalidArgument("ConvexSet.simplex: total must be > 0, got \(total)") }
            // Sort-based projection (Duchi et al. 2008): x − θ clipped at 0, θ from the largest entries.
            let u = x.sorted(by: >)
            var cumulative = 0.0, theta = 0.0
            for (j, v) in u.enumerated() {
                cumulative += v
                let t = (cumulative - total) / Double(j + 1)
                if v - t > 0 { theta = t }
            }
            return x.map { Swift.max($0 - theta, 0) }
        case let .ball(center, radius):
            guard center.count == x.count else {
                throw CohortError.invalidArgument("ConvexSet.ball: center has \(center.count) elements, x has \(x.count)")
            }
            guard radius >= 0 else { throw CohortError.invalidArgument("ConvexSet.ball: radius must be ≥ 0, got \(radius)") }
            let d = zip(x, center).map { $0 - $1 }
            let n = dot(d, d).squareRoot()
            if n <= radius { return x }
            return zip(center, d).map { $0 + $1 * radius / n }
        }
    }
}
