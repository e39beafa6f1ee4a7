// The rest of PyTorch's learning-rate schedules: MultiStepLR, OneCycleLR (cosine
// annealing), ReduceLROnPlateau (mode min, relative threshold), and a linear warm-up
// in front of any schedule. ReduceLROnPlateau is the one with state beyond the step:
// it reads validation losses, and its state travels in checkpoints (`state`/`restore`).
import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Multiplies by `gamma` at each milestone step, as PyTorch's `MultiStepLR`:
/// `base · gamma^(milestones ≤ step)`.
public struct MultiStepLR: LRSchedule {
    public let base: Float, milestones: [Int], gamma: Float
    public init(base: Float, milestones: [Int], gamma: Float = 0.1) { self.base = base; self.milestones = milestones.sorted(); self.gamma = gamma }
    public func learningRate(at step: Int) -> Float { base * powf(gamma, Float(milestones.filter { $0 <= step }.count)) }
}

/// PyTorch's `OneCycleLR` with cosine annealing (two phases): from `maximum / divFactor` up to
/// `maximum` over the first `pctStart` of `total` steps, then down to `maximum / (divFactor · finalDivFactor)`.
public struct OneCycleLR: LRSchedule {
    public let maximum: Float, total: Int, pctStart: Double, divFactor: Float, finalDivFactor: Float
    public init(maximum: Float, total: Int, pctStart: Double = 0.3, divFactor: Float = 25, finalDivFactor: Float = 1e4) {
        self.maximum = maximum; self.total = max(total, 2); self.pctStart = pctStart
        self.divFactor = divFactor; self.finalDivFactor = finalDivFactor
    }
    public func learningRate(at step: Int) -> Float {
        let initial = Double(maximum / divFactor), peak = Double(maximum), final = initial / Double(finalDivFactor)
        let upEnd = pctStart * Double(total) - 1, downEnd = Double(total - 1)
        func anneal(_ start: Double, _ end: Double, _ pct: Double) -> Double { end + (start - end) / 2 * (cos(Double.pi * pct) + 1) }
        let s = Double(step)
        if s <= upEnd { return Float(anneal(initial, peak, s / upEnd)) }
        return Float(anneal(peak, final, min((s - upEnd) / (downEnd - upEnd), 1)))
    }
}

/// Linear warm-up in front of `schedule`: `schedule(step) · (step + 1) / steps` for the first
/// `steps` steps, `schedule(step)` after (the warm-up does not shift the schedule).
public struct LinearWarmup<Schedule: LRSchedule>: LRSchedule {
    public let schedule: Schedule, steps: Int
    public init(_ schedule: Schedule, steps: Int) { self.schedule = schedule; self.steps = max(steps, 0) }
    public func learningRate(at step: Int) -> Float {
        let rate = schedule.learningRate(at: step)
        return step < steps ? rate * Float(step + 1) / Float(steps) : rate
    }
}

/// A schedule with state beyond the step (read from validation metrics), saved in checkpoints.
public protocol StatefulLRSchedule: LRSchedule, AnyObject {
    /// Reads a validation's metrics (every rank the same values, so every rank the same state).
    /// - Throws: `CohortError.invalidParameter` when the metric it follows is missing.
    func observe(_ metrics: [(name: String, value: Double)]) throws
    /// The state as named numbers (exact as Doubles), for the checkpoint's schedule record.
    var state: [(name: String, value: Double)] { get }
    /// Restores `state`; names it does not know are ignored, missing ones keep the start state.
    func restore(_ state: [(name: String, value: Double)])
}

/// PyTorch's `ReduceLROnPlateau` in mode min with a relative threshold: a value better than
/// `best · (1 − threshold)` resets the count of bad validations; more than `patience` bad ones in
/// a row multiply the rate by `factor` (not below `minimum`; changes under 1e-8 are not made).
/// It follows the first of `monitors` a validation reports. Confined to the rank's thread, as
/// the optimizer is: the class is `Sendable` only to satisfy `LRSchedule`.
public final class ReduceLROnPlateau: StatefulLRSchedule, @unchecked Sendable {
    public let factor: Float, patience: Int, threshold: Double, minimum: Float, monitors: [String]
    /// The current rate, the best value seen, and the bad validations in a row.
    public private(set) var rate: Float, best = Double.infinity, bad = 0

    public init(base: Float, factor: Float = 0.1, patience: Int = 10, threshold: Double = 1e-4, minimum: Float = 0,
                monitors: [String] = ["val_loss"]) {
        self.rate = base; self.factor = factor; self.patience = patience; self.threshold = threshold
        self.minimum = minimum; self.monitors = monitors
    }

    public func learningRate(at step: Int) -> Float { rate }

    /// One validation's value of the monitored metric (PyTorch's `scheduler.step(value)`).
    public func observe(_ value: Double) {
        if value < best * (1 - threshold) { (best, bad) = (value, 0) } else { bad += 1 }
        guard bad > patience else { return }
        let reduced = max(rate * factor, minimum)
        if rate - reduced > 1e-8 { rate = reduced }
        bad = 0
    }

    public func observe(_ metrics: [(name: String, value: Double)]) throws {
        guard let v = monitors.lazy.compactMap({ m in metrics.first { $0.name == m }?.value }).first else {
            throw CohortError.invalidParameter(name: "lrSchedule", "plateau follows \(monitors.joined(separator: " or ")), which the validation does not report (it reports \(metrics.map(\.name).joined(separator: ", ")))")
        }
        observe(v)
    }

    /// `plateau_best` only once a value was seen (the start's infinity stays out of the record).
    public var state: [(name: String, value: Double)] {
        [("plateau_lr", Double(rate))] + (best.isFinite ? [("plateau_best", best)] : []) + [("plateau_bad", Double(bad))]
    }

    public func restore(_ state: [(name: String, value: Double)]) {
        for (name, value) in state {
            switch name {
            case "plateau_lr": rate = Float(value)
            case "plateau_best": best = value
            case "plateau_bad": bad = Int(value)
            default: break
            }
        }
    }
}

/// Warm-up in front of a stateful schedule: the stateful one's state and observations pass through.
public final class WarmupStateful: StatefulLRSchedule, @unchecked Sendable {
    public let schedule: any StatefulLRSchedule, steps: Int
    public init(_ schedule: any StatefulLRSchedule, steps: Int) { self.schedule = schedule; self.steps = max(steps, 0) }
    public func learningRate(at step: Int) -> Float {
        let rate = schedule.learningRate(at: step)
        return step < steps ? rate * Float(step + 1) / Float(steps) : rate
    }
    public func observe(_ metrics: [(name: String, value: Double)]) throws { try schedule.observe(metrics) }
    public var state: [(name: String, value: Double)] { schedule.state }
    public func restore(_ state: [(name: String, value: Double)]) { schedule.restore(state) }
}
