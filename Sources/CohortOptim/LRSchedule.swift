// Learning-rate schedules as pure functions of the step, so their whole state
// is the step counter (already in the optimizer state).
#if canImport(Glibc)
import Glibc
#endif

/// A learning rate as a function of the (0-based) step.
public protocol LRSchedule: Sendable {
    func learningRate(at step: Int) -> Float
}

extension LRSchedule {
    /// Sets `optimizer.learningRate` for its next step.
    public func apply(to optimizer: any Optimizer) { optimizer.learningRate = learningRate(at: optimizer.stepCount) }
}

/// Constant rate.
public struct ConstantLR: LRSchedule {
    public let base: Float
    public init(_ base: Float) { self.base = base }
    public func learningRate(at step: Int) -> Float { base }
}

/// Multiplies by `gamma` every `stepSize` steps.
public struct StepLR: LRSchedule {
    public let base: Float, stepSize: Int, gamma: Float
    public init(base: Float, stepSize: Int, gamma: Float = 0.1) { self.base = base; self.stepSize = max(stepSize, 1); self.gamma = gamma }
    public func learningRate(at step: Int) -> Float { base * powf(gamma, Float(step / stepSize)) }
}

/// `base · gamma^step`.
public struct ExponentialLR: LRSchedule {
    public let base: Float, gamma: Float
    public init(base: Float, gamma: Float) { self.base = base; self.gamma = gamma }
    public func learningRate(at step: Int) -> Float { base * powf(gamma, Float(step)) }
}

/// Linear warm-up from 0 over `warmup` steps, then cosine decay to `minimum` at `total`.
public struct CosineWithWarmup: LRSchedule {
    public let base: Float, warmup: Int, total: Int, minimum: Float
    public init(base: Float, warmup: Int, total: Int, minimum: Float = 0) {
        self.base = base; self.warmup = max(warmup, 0); self.total = max(total, 1); self.minimum = minimum
    }
    public func learningRate(at step: Int) -> Float {
        if step < warmup { return base * Float(step + 1) / Float(warmup) }
        let span = max(total - warmup, 1)
        let t = min(Float(step - warmup) / Float(span), 1)
        return minimum + (base - minimum) * 0.5 * (1 + cosf(Float.pi * t))
    }
}
