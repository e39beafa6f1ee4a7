// Writing your own layer and loss in Cohort, two ways:
//  1. by composing existing ops (autograd derives the backward), and
//  2. as a new op with a hand-written backward (`Tensor.customOp`),
// then checking the hand-written gradient numerically and training with both.
// Run: swift run -c release CustomLayerExample
import Cohort
import Foundation

/// 1. A layer composed from ops: RMSNorm, y = x / sqrt(mean(x²) + ε) · g.
final class RMSNorm: Module {
    let gain: Tensor
    let eps: Float
    var isTraining = true
    init(_ features: Int, eps: Float = 1e-6) {
        gain = parameter(Tensor.ones([features]))
        self.eps = eps
    }
    var localParameters: [(name: String, tensor: Tensor)] { [("gain", gain)] }
    func forward(_ x: Tensor) throws -> Tensor {
        let ms = try x.square().mean(axes: [-1], keepDims: true)
        return try x / (ms + eps).sqrt() * gain
    }
}

/// 2. An op with its own backward: softplus(x) = log(1 + eˣ), d/dx = sigmoid(x).
func softplus(_ x: Tensor) throws -> Tensor {
    try Tensor.customOp("softplus", inputs: [x], forward: { inputs in
        // Stable form: max(x, 0) + log(1 + e^{-|x|}).
        try inputs[0].relu() + (try (-inputs[0].abs()).exp() + 1).log()
    }, backward: { gradOut, inputs, _ in
        [try gradOut * inputs[0].sigmoid()]
    })
}

/// A layer using the custom op.
final class Softplus: Module {
    var isTraining = true
    func forward(_ x: Tensor) throws -> Tensor { try softplus(x) }
}

/// A custom loss composed from ops: focal loss for multi-class logits,
/// mean of -(1 - p_t)^γ · log p_t.
func focalLoss(_ logits: Tensor, _ targets: [Int], gamma: Float = 2) throws -> Tensor {
    let logp = try logits.logSoftmax(axis: -1)
    let index = try Tensor(targets.map(Float.init), shape: [targets.count, 1])
    let logpt = try logp.gather(axis: 1, index: index)
    let weight = try (1 - logpt.exp()).pow(gamma)
    return try -(weight * logpt).mean()
}

/// Central-difference check of the custom op's backward.
func checkSoftplusGradient() throws -> Float {
    var g = RandomGenerator(seed: 1)
    let x = Tensor.randn([7], generator: &g)
    x.requiresGrad = true
    try softplus(x).sum().backward()
    var worst: Float = 0
    for i in 0..<7 {
        var v = x.scalars
        let h: Float = 1e-2
        v[i] += h
        let up = try softplus(Tensor(v)).sum().item()
        v[i] -= 2 * h
        let down = try softplus(Tensor(v)).sum().item()
        worst = max(worst, Swift.abs((up - down) / (2 * h) - x.grad!.scalars[i]))
    }
    return worst
}

let error = try checkSoftplusGradient()
print("softplus backward vs finite differences: max abs error \(error)")
guard error < 1e-3 else { print("gradient check FAILED"); exit(1) }

// Train a small classifier on a synthetic 3-class problem with both custom pieces.
var gen = RandomGenerator(seed: 42)
let model = Sequential([Linear(2, 32, generator: &gen), RMSNorm(32), Softplus(), Linear(32, 3, generator: &gen)])
let arena = ParameterArena(model)
let optimizer = Adam(arena, lr: 0.02)
let n = 300
let x = Tensor.randn([n, 2], generator: &gen)
let labels = (0..<n).map { i -> Int in
    let (a, b) = (x.scalars[2 * i], x.scalars[2 * i + 1])
    return a * a + b * b < 0.8 ? 0 : (a > 0 ? 1 : 2)
}
var loss: Float = 0
for step in 0..<200 {
    optimizer.zeroGrad()
    let l = try focalLoss(model(x), labels)
    try l.backward()
    optimizer.step()
    loss = try l.item()
    if step % 50 == 0 { print("step \(step) focal loss \(loss)") }
}
let predictions = try withNoGrad { try model(x).argmax(axis: -1).scalars }
let accuracy = Double(zip(predictions, labels).filter { Int($0) == $1 }.count) / Double(n)
print("final focal loss \(loss), training accuracy \(accuracy)")
guard accuracy > 0.9 else { print("did not learn"); exit(1) }
