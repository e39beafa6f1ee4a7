// Successive halving: every trial trains a small budget, the best 1/η go on to
// η times the steps (continuing from their checkpoints), and so on until the
// full budget; the rest are stopped early.
import CohortCore

/// The rungs of a successive-halving search.
public struct HalvingSchedule: Sendable, Equatable {
    /// Steps each surviving trial has trained after each rung (the last is the full budget).
    public let rungSteps: [Int]
    /// Trials that run in each rung.
    public let rungTrials: [Int]
    public let eta: Int

    /// - Parameters: trials: how many start; minSteps: the first rung's steps; maxSteps: the full budget; eta: the keep ratio 1/η.
    public init(trials: Int, minSteps: Int, maxSteps: Int, eta: Int) throws {
        guard trials >= 1 else { throw CohortError.invalidParameter(name: "trials", "must be ≥ 1, got \(trials)") }
        guard eta >= 2 else { throw CohortError.invalidParameter(name: "eta", "must be ≥ 2, got \(eta)") }
        guard minSteps >= 1, minSteps <= maxSteps else {
            throw CohortError.invalidParameter(name: "minSteps", "must be in 1…\(maxSteps) (the train `steps`), got \(minSteps)")
        }
        var steps = [minSteps], counts = [trials]
        while steps.last! < maxSteps && counts.last! > 1 {
            steps.append(min(steps.last! * eta, maxSteps))
            counts.append(max(counts.last! / eta, 1))
        }
        rungSteps = steps
        rungTrials = counts
        self.eta = eta
    }

    /// Training steps the whole search spends (a promoted trial continues, so it pays only the difference).
    public var budget: Int {
        zip(rungTrials, zip(rungSteps, [0] + rungSteps.dropLast())).reduce(0) { $0 + $1.0 * ($1.1.0 - $1.1.1) }
    }
}

/// Whether larger or smaller is better for the searched metric.
public enum Goal: String, Sendable {
    case minimize = "min", maximize = "max"

    /// `a` is better than `b` (NaN is never better; anything beats NaN).
    public func better(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN { return false }
        if b.isNaN { return true }
        return self == .minimize ? a < b : a > b
    }
}

/// The ids of the `keep` best among `scores` (ties broken by the smaller id, so runs repeat).
public func best(_ scores: [(id: Int, score: Double)], keep: Int, goal: Goal) -> [Int] {
    scores.sorted { goal.better($0.score, $1.score) || ($0.score == $1.score || ($0.score.isNaN && $1.score.isNaN)) && $0.id < $1.id }
        .prefix(keep).map(\.id)
}
