// The convolutional walkthrough of examples/cnn/README.md as a program: W2's CNN
// takes Adam steps on a fixed synthetic batch (its loss must fall), and a small
// residual network is assembled from the layers and run in eval mode.
// Exits non-zero if a check fails. Run: swift run -c release CNNExample
import Cohort
import Foundation

func check(_ ok: Bool, _ what: String) {
    if !ok { FileHandle.standardError.write(Data("CNNExample: check failed: \(what)\n".utf8)); exit(1) }
}

// Build W2's CNN and train it on one synthetic batch: class c has a bright c-th row band.
var g = RandomGenerator(seed: 0)
let model = ConvModels.leNet(classes: 10, generator: &g)   // 225,034 parameters
let arena = ParameterArena(model)                           // flat parameters + gradients
let adam = Adam(arena, lr: 1e-3)
let labels = (0..<64).map { $0 % 10 }
var pixels = [Float](repeating: 0, count: 64 * 784)
for (i, c) in labels.enumerated() {
    for r in (2 * c + 4)..<(2 * c + 6) { for col in 0..<28 { pixels[i * 784 + r * 28 + col] = 1 } }
}
let x = try Tensor(pixels, shape: [64, 784])          // [64, 784] rows, MNIST-style
var losses: [Float] = []
for _ in 0..<30 {
    adam.zeroGrad()
    let loss = try Loss.crossEntropy(model(x), labels)
    try loss.backward()
    adam.step()
    losses.append(loss.scalars[0])
}
let parameterCount = arena.entries.reduce(0) { $0 + $1.count }
print("W2 CNN: \(parameterCount) parameters, loss \(losses.first!) → \(losses.last!)")
check(parameterCount == 225_034, "leNet has \(parameterCount) parameters, expected 225,034")
check(losses.last! < 0.5 * losses.first!, "the loss fell from \(losses.first!) to \(losses.last!) only")

// Your own layers.
var g1 = RandomGenerator(seed: 1)
let net = Sequential([
    Reshape([1, 28, 28]),                                   // [N, 784] → [N, 1, 28, 28]
    try Conv2d(1, 16, kernelSize: 3, padding: 1, bias: false, generator: &g1),
    BatchNorm2d(16),                                        // running stats are buffers
    ReLU(),
    MaxPool2d(2),                                           // → [N, 16, 14, 14]
    try ResidualBlock(16, 32, stride: 2, generator: &g1),   // 1×1 projection shortcut
    AdaptiveAvgPool2d(1), Flatten(),                        // → [N, 32]
    Linear(32, 10, generator: &g1),
])
let train = try net(x)
net.eval()          // BatchNorm uses its running mean/variance; net.train() switches back
let evaluated = try net(x)
check(train.shape == [64, 10] && evaluated.shape == [64, 10], "the residual network's output shapes")
check(net.namedBuffers().contains { $0.name.hasSuffix("running_mean") }, "BatchNorm running statistics are buffers")
print("residual network: output \(evaluated.shape), \(net.namedBuffers().count) buffers")
print("CNNExample: ok")
