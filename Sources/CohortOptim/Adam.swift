// Adam, AdamW (decoupled weight decay) and RMSprop.

/// Adam (`decoupledWeightDecay: false`, L2 added to the gradient) or AdamW (`true`).
public final class Adam: Optimizer {
    public let arena: ParameterArena
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float, decoupled: Bool
    public private(set) var stepCount = 0
    private let m: StateBuffer, v: StateBuffer

    public init(_ arena: ParameterArena, lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.arena = arena
        self.learningRate = lr
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        self.decoupled = decoupledWeightDecay
        m = StateBuffer(arena.count); v = StateBuffer(arena.count)
    }

    var kind: String { decoupled ? "adamw" : "adam" }

    public func step() {
        stepCount += 1
        OptimizerKernels.adam(arena.count, p: arena.values.pointer, g: arena.grads.pointer, m: m.storage.pointer, v: v.storage.pointer,
                              lr: learningRate, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay,
                              decoupled: decoupled, step: stepCount)
    }

    public func exportState() -> OptimizerState {
        OptimizerState(kind: kind,
                       hyperParameters: [.init("lr", Double(learningRate)), .init("beta1", Double(beta1)), .init("beta2", Double(beta2)),
                                         .init("eps", Double(eps)), .init("weight_decay", Double(weightDecay))],
                       step: stepCount, buffers: [("exp_avg", m.array), ("exp_avg_sq", v.array)])
    }

    public func restoreState(_ s: OptimizerState) throws {
        try checkRestore(s, kind: kind, buffers: ["exp_avg", "exp_avg_sq"])
        m.load(s.buffers[0].values); v.load(s.buffers[1].values)
        stepCount = s.step
        if let lr = s.hyperParameters.first(where: { $0.name == "lr" }) { learningRate = Float(lr.value) }
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
    private let v: StateBuffer, buffer: StateBuffer?

    public init(_ arena: ParameterArena, lr: Float = 1e-2, alpha: Float = 0.99, eps: Float = 1e-8,
                momentum: Float = 0, weightDecay: Float = 0) {
        self.arena = arena
        self.learningRate = lr
        self.alpha = alpha; self.eps = eps; self.momentum = momentum; self.weightDecay = weightDecay
        v = StateBuffer(arena.count)
        buffer = momentum != 0 ? StateBuffer(arena.count) : nil
    }

    public func step() {
        OptimizerKernels.rmsprop(arena.count, p: arena.values.pointer, g: arena.grads.pointer, v: v.storage.pointer,
                                 buf: buffer?.storage.pointer, lr: learningRate, alpha: alpha, eps: eps,
                                 momentum: momentum, weightDecay: weightDecay)
        stepCount += 1
    }

    public func exportState() -> OptimizerState {
        var buffers: [(name: String, values: [Float])] = [("square_avg", v.array)]
        if let buffer { buffers.append(("momentum", buffer.array)) }
        return OptimizerState(kind: "rmsprop",
                              hyperParameters: [.init("lr", Double(learningRate)), .init("alpha", Double(alpha)), .init("eps", Double(eps)),
                                                .init("momentum", Double(momentum)), .init("weight_decay", Double(weightDecay))],
                              step: stepCount, buffers: buffers)
    }

    public func restoreState(_ s: OptimizerState) throws {
        try checkRestore(s, kind: "rmsprop", buffers: buffer == nil ? ["square_avg"] : ["square_avg", "momentum"])
        v.load(s.buffers[0].values)
        if let buffer { buffer.load(s.buffers[1].values) }
        stepCount = s.step
        if let lr = s.hyperParameters.first(where: { $0.name == "lr" }) { learningRate = Float(lr.value) }
    }
}
