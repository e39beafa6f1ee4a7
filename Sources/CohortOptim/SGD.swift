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
    private let buffer: StateBuffer?

    public init(_ arena: ParameterArena, lr: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        self.arena = arena
        self.learningRate = lr
        self.momentum = momentum; self.dampening = dampening; self.weightDecay = weightDecay; self.nesterov = nesterov
        self.buffer = momentum != 0 ? StateBuffer(arena.count) : nil
    }

    public func step() {
        OptimizerKernels.sgd(arena.count, p: arena.values.pointer, g: arena.grads.pointer, buf: buffer?.storage.pointer,
                             lr: learningRate, momentum: momentum, dampening: dampening, nesterov: nesterov,
                             weightDecay: weightDecay, firstStep: stepCount == 0)
        stepCount += 1
    }

    public var stateBuffers: [(name: String, storage: Storage)] { buffer.map { [("momentum", $0.storage)] } ?? [] }
    public func setStepCount(_ step: Int) { stepCount = step }

    public var kind: String { "sgd" }
    public var hyperParameters: [HyperParameter] {
        [.init("lr", Double(learningRate)), .init("momentum", Double(momentum)), .init("dampening", Double(dampening)),
         .init("weight_decay", Double(weightDecay)), .init("nesterov", nesterov ? 1 : 0)]
    }
}
