// Convolutional layers and models: initialisation bounds, names, buffers,
// train/eval behaviour of BatchNorm, reshaping layers, the residual block, the
// LeNet (fused = unfused) and ResNet builders, and small CNNs that fit a batch.
import CohortCore
@testable import CohortNN
import CohortOptim
import CohortTensor
import CohortTestSupport
import Testing

@Suite struct ConvLayerTests {
    @Test func conv2dInitialisationAndNames() throws {
        var g = RandomGenerator(seed: 1)
        let conv = try Conv2d(4, 6, kernelSize: [3, 2], groups: 2, generator: &g)
        #expect(conv.weight.shape == [6, 2, 3, 2] && conv.bias!.shape == [6])
        #expect(conv.namedParameters().map(\.name) == ["weight", "bias"])
        // kaiming-uniform(a = √5) and the bias both give U(±1/√fanIn), fanIn = 2·3·2 = 12.
        let bound = 1 / Float(12).squareRoot()
        #expect(conv.weight.scalars.allSatisfy { abs($0) <= bound } && conv.bias!.scalars.allSatisfy { abs($0) <= bound })
        #expect(conv.weight.scalars.map(abs).max()! > 0.8 * bound)
        let y = try conv(Tensor.ones([2, 4, 5, 5]))
        #expect(y.shape == [2, 6, 3, 4])
        #expect(throws: CohortError.self) { try Conv2d(3, 4, kernelSize: 3, groups: 2, generator: &g) }
        let noBias = try Conv2d(2, 2, kernelSize: 1, bias: false, generator: &g)
        #expect(noBias.namedParameters().map(\.name) == ["weight"])
    }

    @Test func poolingAndReshapingLayers() throws {
        let x = Fixtures.uniform([2, 3, 8, 8], seed: 2, requiresGrad: false)
        #expect(try MaxPool2d(2)(x).shape == [2, 3, 4, 4])
        #expect(try MaxPool2d(3, stride: 2, padding: 1)(x).shape == [2, 3, 4, 4])
        #expect(try AvgPool2d(2, stride: 1)(x).shape == [2, 3, 7, 7])
        #expect(try AdaptiveAvgPool2d([2, 3])(x).shape == [2, 3, 2, 3])
        let flat = Tensor.ones([5, 784])
        #expect(try Unflatten(axis: 1, sizes: [1, 28, 28])(flat).shape == [5, 1, 28, 28])
        #expect(try Unflatten(axis: -1, sizes: [28, 28])(flat).shape == [5, 28, 28])
        #expect(try Reshape([1, 28, 28])(flat).shape == [5, 1, 28, 28])
        #expect(try Reshape([1, 28, 28])(Tensor.ones([5, 1, 28, 28])).shape == [5, 1, 28, 28])
        do { _ = try Unflatten(axis: 1, sizes: [1, 27, 28])(flat); Issue.record("expected an error") } catch {
            #expect("\(error)".contains("[5, 784]"))
        }
        #expect(throws: CohortError.self) { try Reshape([3, 3])(flat) }
    }

    @Test func batchNormBuffersAndModes() throws {
        let bn = BatchNorm2d(3, momentum: 0.5)
        let model = Sequential([bn])
        #expect(model.namedParameters().map(\.name) == ["0.weight", "0.bias"])
        #expect(model.namedBuffers().map(\.name) == ["0.running_mean", "0.running_var"])
        #expect(!bn.runningMean.requiresGrad && !bn.runningVar.requiresGrad)
        let x = Fixtures.uniform([4, 3, 2, 2], 1, 3, seed: 3, requiresGrad: false)
        let train = try model(x)
        // Training normalises with batch statistics: per-channel mean ≈ 0.
        for m in try train.mean(axes: [0, 2, 3]).scalars { assertClose(m, 0, atol: 1e-5) }
        #expect(bn.runningMean.scalars.allSatisfy { $0 > 0.5 && $0 < 1.5 }, "half-way from 0 to a batch mean in (1, 3)")
        model.eval()
        #expect(!bn.isTraining)
        let (m, v) = (bn.runningMean.scalars, bn.runningVar.scalars)
        let y = try model(x)
        #expect(bn.runningMean.scalars == m && bn.runningVar.scalars == v)
        let xs = x.scalars, ys = y.scalars
        for i in 0..<xs.count {
            let c = (i / 4) % 3
            assertClose(ys[i], (xs[i] - m[c]) / (v[c] + 1e-5).squareRoot(), atol: 1e-5)
        }
        let bn1 = BatchNorm1d(3)
        var r = RandomGenerator(seed: 12)
        #expect(try bn1(Tensor.randn([5, 3], generator: &r)).shape == [5, 3])
        #expect(try bn1(Tensor.randn([5, 3, 4], generator: &r)).shape == [5, 3, 4])
        #expect(throws: CohortError.self) { try bn1(Tensor.ones([5, 4])) }
        #expect(throws: CohortError.self) { try bn(Tensor.ones([5, 3])) }
    }

    @Test func residualBlockShapesNamesAndGradients() throws {
        var g = RandomGenerator(seed: 4)
        let identity = try ResidualBlock(3, 3, generator: &g)
        #expect(identity.shortcut == nil)
        #expect(try identity(Tensor.ones([2, 3, 6, 6])).shape == [2, 3, 6, 6])
        let projected = try ResidualBlock(2, 4, stride: 2, generator: &g)
        #expect(projected.namedParameters().map(\.name) == [
            "conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias",
            "shortcut.0.weight", "shortcut.1.weight", "shortcut.1.bias",
        ])
        #expect(projected.namedBuffers().count == 6)
        let x = Fixtures.uniform([2, 2, 4, 4], seed: 5)
        #expect(try projected(x).shape == [2, 4, 2, 2])
        // Evaluation mode (fixed statistics) keeps the function smooth enough for finite differences.
        projected.eval()
        try expectGradients([x], atol: 2e-3, rtol: 2e-2) { try projected($0[0]) }
    }

    @Test func leNetFusedEqualsUnfused() throws {
        var g1 = RandomGenerator(seed: 6), g2 = RandomGenerator(seed: 6)
        let fused = ConvModels.leNet(generator: &g1), plain = ConvModels.leNet(fused: false, generator: &g2)
        #expect(fused.parameterCount == 225_034 && plain.parameterCount == 225_034)
        #expect(fused.namedParameters().map(\.name) == ["1.weight", "1.bias", "2.weight", "2.bias", "4.weight", "4.bias", "6.weight", "6.bias"])
        #expect(plain.namedParameters().map(\.name) == ["1.weight", "1.bias", "4.weight", "4.bias", "8.weight", "8.bias", "10.weight", "10.bias"])
        for (a, b) in zip(fused.parameters(), plain.parameters()) { #expect(a.scalars == b.scalars) }
        var d = RandomGenerator(seed: 7)
        let x = Tensor.randn([3, 784], generator: &d)
        let (ya, yb) = (try fused(x), try plain(x))
        #expect(ya.shape == [3, 10])
        assertClose(ya, yb, atol: 1e-5, rtol: 1e-5)
        try Loss.crossEntropy(ya, [1, 2, 3]).backward()
        try Loss.crossEntropy(yb, [1, 2, 3]).backward()
        for ((name, a), b) in zip(fused.namedParameters(), plain.parameters()) {
            assertClose(a.grad!, b.grad!, atol: 1e-5, rtol: 1e-4, name)
        }
    }

    @Test func resNetBuilder() throws {
        var g = RandomGenerator(seed: 8)
        let net = try ConvModels.resNet(widths: [4, 8], generator: &g)
        var d = RandomGenerator(seed: 9)
        #expect(try net(Tensor.randn([2, 784], generator: &d)).shape == [2, 10])
        #expect(net.namedBuffers().count == 2 + 2 * 2 + 3 * 2)   // stem, identity block, projected block
        #expect(throws: CohortError.self) { try ConvModels.resNet(widths: [], generator: &g) }
    }

    /// A small CNN (conv, batch norm, pooling, residual block) drives the loss on a fixed batch down.
    @Test func smallCNNsFitABatch() throws {
        var g = RandomGenerator(seed: 10)
        let model = Sequential([
            Reshape([1, 8, 8]),
            try Conv2d(1, 4, kernelSize: 3, padding: 1, generator: &g), BatchNorm2d(4), ReLU(), MaxPool2d(2),
            try ResidualBlock(4, 8, stride: 2, generator: &g), AdaptiveAvgPool2d(1), Flatten(), Linear(8, 4, generator: &g),
        ])
        var d = RandomGenerator(seed: 11)
        let x = Tensor.randn([16, 64], generator: &d)
        let y = (0..<16).map { $0 % 4 }
        let arena = ParameterArena(model)
        let opt = Adam(arena, lr: 0.02)
        var losses: [Float] = []
        for _ in 0..<40 {
            opt.zeroGrad()
            let loss = try Loss.crossEntropy(model(x), y)
            try loss.backward()
            opt.step()
            losses.append(try loss.item())
        }
        #expect(losses.last! < 0.5 * losses.first!, "losses \(losses.first!) → \(losses.last!)")

        // W2's LeNet on 8 samples.
        let net = ConvModels.leNet(generator: &g)
        let netArena = ParameterArena(net)
        let netOpt = Adam(netArena, lr: 1e-3)
        let xb = Tensor.randn([8, 784], generator: &d)
        let yb = (0..<8).map { $0 % 10 }
        var first: Float = 0, last: Float = 0
        for step in 0..<15 {
            netOpt.zeroGrad()
            let loss = try Loss.crossEntropy(net(xb), yb)
            try loss.backward()
            netOpt.step()
            if step == 0 { first = try loss.item() }
            last = try loss.item()
        }
        #expect(last < 0.5 * first, "LeNet losses \(first) → \(last)")
    }
}
