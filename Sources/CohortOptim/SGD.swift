// Stochastic gradient descent with momentum, Nesterov and L2 weight decay.
import CohortKernels
import CohortNN
import CohortTensor

/// SGD (PyTorch semantics): `buf = μ·buf + (1-dampening)·g`, `p -= lr·(nesterov ? g + μ·buf : buf)`.
public final class SGD: Optimizer {
    public let arena: ParameterArena
    public var learningRate: Float
    public let momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
    public private(set) var stepCount = 0
    private var buffer: StateBuffer?
    private var layout: GroupLayout
    public private(set) var shardRange: Range<Int>

    public init(_ arena: ParameterArena, lr: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        self.arena = arena
        self.learningRate = lr
        self.momentum = momentum; self.dampening = dampening; self.weightDecay = weightDecay; self.nesterov = nesterov
        shardRange = 0..<arena.count
        self.buffer = momentum != 0 ? StateBuffer(0..<arena.count) : nil
        layout = GroupLayout(everything: arena, weightDecay: weightDecay)
    }

    /// One update over each group's segments (one pass over the arena with the default group).
    public func step() {
        let p = arena.values.pointer, g = arena.grads.pointer
        for s in layout.segments {
            let lo = s.range.lowerBound
            OptimizerKernels.sgd(s.range.count, p: p + lo, g: g + lo, buf: buffer?.at(lo),
                                 lr: learningRate * s.lrScale, momentum: momentum, dampening: dampening, nesterov: nesterov,
                                 weightDecay: s.weightDecay, firstStep: stepCount == 0)
        }
        stepCount += 1
    }

    public var parameterGroups: [ParameterGroup] { layout.groups }
    public func setParameterGroups(_ groups: [ParameterGroup]) throws { layout = try GroupLayout(groups, arena: arena).restricted(to: shardRange) }

    public func shard(_ range: Range<Int>) throws {
        try checkShard(range)
        shardRange = range
        if buffer != nil { buffer = StateBuffer(range) }
        layout = try GroupLayout(layout.groups, arena: arena).restricted(to: range)
    }

    public var stateBuffers: [(name: String, storage: Storage)] { buffer.map { [("momentum", $0.storage)] } ?? [] }
    public func setStepCount(_ step: Int) { stepCount = step }

    public var kind: String { "sgd" }
    public var hyperParameters: [HyperParameter] {
        [.init("lr", Double(learningRate)), .init("momentum", Double(momentum)), .init("dampening", Double(dampening)),
         .init("weight_decay", Double(weightDecay)), .init("nesterov", nesterov ? 1 : 0)]
    }
}
