// Adam, AdamW (decoupled weight decay) and RMSprop.
import CohortKernels
import CohortNN
import CohortTensor

/// Adam (`decoupledWeightDecay: false`, L2 added to the gradient) or AdamW (`true`).
public final class Adam: Optimizer {
    public let arena: ParameterArena
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float, decoupled: Bool
    public private(set) var stepCount = 0
    private var m: StateBuffer, v: StateBuffer
    private var layout: GroupLayout
    public private(set) var shardRange: Range<Int>

    public init(_ arena: ParameterArena, lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.arena = arena
        self.learningRate = lr
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        self.decoupled = decoupledWeightDecay
        shardRange = 0..<arena.count
        m = StateBuffer(shardRange); v = StateBuffer(shardRange)
        layout = GroupLayout(everything: arena, weightDecay: weightDecay)
    }

    /// `adam` or `adamw`.
    public var kind: String { decoupled ? "adamw" : "adam" }

    /// One update over each group's segments (one pass over the arena with the default group).
    public func step() {
        stepCount += 1
        let p = arena.values.pointer, g = arena.grads.pointer
        for s in layout.segments {
            let lo = s.range.lowerBound
            OptimizerKernels.adam(s.range.count, p: p + lo, g: g + lo, m: m.at(lo), v: v.at(lo),
                                  lr: learningRate * s.lrScale, beta1: beta1, beta2: beta2, eps: eps, weightDecay: s.weightDecay,
                                  decoupled: decoupled, step: stepCount)
        }
    }

    public var parameterGroups: [ParameterGroup] { layout.groups }
    public func setParameterGroups(_ groups: [ParameterGroup]) throws { layout = try GroupLayout(groups, arena: arena).restricted(to: shardRange) }

    public func shard(_ range: Range<Int>) throws {
        try checkShard(range)
        shardRange = range
        m = StateBuffer(range); v = StateBuffer(range)
        layout = try GroupLayout(layout.groups, arena: arena).restricted(to: range)
    }

    public var stateBuffers: [(name: String, storage: Storage)] { [("exp_avg", m.storage), ("exp_avg_sq", v.storage)] }
    public func setStepCount(_ step: Int) { stepCount = step }

    public var hyperParameters: [HyperParameter] {
        [.init("lr", Double(learningRate)), .init("beta1", Double(beta1)), .init("beta2", Double(beta2)),
         .init("eps", Double(eps)), .init("weight_decay", Double(weightDecay))]
    }
}

/// AdamW: Adam with decoupled weight decay (default 0.01, as in PyTorch).
public func AdamW(_ arena: ParameterArena, lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                  eps: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
    Adam(arena, lr: lr, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay, decoupledWeightDecay: true)
}

/// RMSprop (PyTorch defaults: α = 0.99, ε = 1e-8).
public final class RMSprop: Optimizer {
    public let arena: ParameterArena
    public var learningRate: Float
    public let alpha: Float, eps: Float, momentum: Float, weightDecay: Float
    public private(set) var stepCount = 0
    private var v: StateBuffer, buffer: StateBuffer?
    private var layout: GroupLayout
    public private(set) var shardRange: Range<Int>

    public init(_ arena: ParameterArena, lr: Float = 1e-2, alpha: Float = 0.99, eps: Float = 1e-8,
                momentum: Float = 0, weightDecay: Float = 0) {
        self.arena = arena
        self.learningRate = lr
        self.alpha = alpha; self.eps = eps; self.momentum = momentum; self.weightDecay = weightDecay
        shardRange = 0..<arena.count
        v = StateBuffer(shardRange)
        buffer = momentum != 0 ? StateBuffer(shardRange) : nil
        layout = GroupLayout(everything: arena, weightDecay: weightDecay)
    }

    /// One update over each group's segments (one pass over the arena with the default group).
    public func step() {
        let p = arena.values.pointer, g = arena.grads.pointer
        for s in layout.segments {
            let lo = s.range.lowerBound
            OptimizerKernels.rmsprop(s.range.count, p: p + lo, g: g + lo, v: v.at(lo), buf: buffer?.at(lo),
                                     lr: learningRate * s.lrScale, alpha: alpha, eps: eps, momentum: momentum, weightDecay: s.weightDecay)
        }
        stepCount += 1
    }

    public var parameterGroups: [ParameterGroup] { layout.groups }
    public func setParameterGroups(_ groups: [ParameterGroup]) throws { layout = try GroupLayout(groups, arena: arena).restricted(to: shardRange) }

    public func shard(_ range: Range<Int>) throws {
        try checkShard(range)
        shardRange = range
        v = StateBuffer(range)
        if buffer != nil { buffer = StateBuffer(range) }
        layout = try GroupLayout(layout.groups, arena: arena).restricted(to: range)
    }

    public var stateBuffers: [(name: String, storage: Storage)] {
        [("square_avg", v.storage)] + (buffer.map { [("momentum", $0.storage)] } ?? [])
    }
    public func setStepCount(_ step: Int) { stepCount = step }

    public var kind: String { "rmsprop" }
    public var hyperParameters: [HyperParameter] {
        [.init("lr", Double(learningRate)), .init("alpha", Double(alpha)), .init("eps", Double(eps)),
         .init("momentum", Double(momentum)), .init("weight_decay", Double(weightDecay))]
    }
}
