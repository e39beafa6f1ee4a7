// Ready-made convolutional classifiers for 28×28 single-channel images given as
// flat `[N, 784]` rows (or `[N, 1, 28, 28]`): W2's LeNet-style CNN and a small
// ResNet. The CLI exposes them by name; see examples/cnn/README.md.
import CohortCore
import CohortTensor

/// Builders for convolutional models.
public enum ConvModels {
    /// W2's CNN (docs/benchmarks.md): conv 1→32 3×3, ReLU, max-pool 2, conv 32→64 3×3, ReLU,
    /// max-pool 2, flatten 1600 → 128, ReLU → `classes`. Input `[N, 784]` or `[N, 1, 28, 28]`,
    /// output logits `[N, classes]`. 225,034 parameters for 10 classes, initialised like PyTorch.
    ///
    /// With `fused` (the default) each ReLU and max-pool after a convolution run inside it
    /// (`Conv2d(fuseReLU: true, fuseMaxPool: 2)`): the same function, without writing the
    /// unpooled activations. Parameter names: `1.*`, `2.*` (convolutions), `4.*`, `6.*` (linear).
    /// With `fused: false` every layer is separate, as in PyTorch's `nn.Sequential`:
    /// `1.*`, `4.*` (convolutions), `8.*`, `10.*` (linear). Both draw the same initial values.
    public static func leNet(classes: Int = 10, fused: Bool = true, generator: inout RandomGenerator) -> Sequential {
        // The sizes are fixed and valid, so the initialisers cannot throw.
        let conv1 = try! Conv2d(1, 32, kernelSize: 3, fuseReLU: fused, fuseMaxPool: fused ? 2 : nil, generator: &generator)
        let conv2 = try! Conv2d(32, 64, kernelSize: 3, fuseReLU: fused, fuseMaxPool: fused ? 2 : nil, generator: &generator)
        let fc1 = Linear(64 * 5 * 5, 128, generator: &generator), fc2 = Linear(128, classes, generator: &generator)
        if fused {
            return Sequential([Reshape([1, 28, 28]), conv1, conv2, Flatten(), fc1, ReLU(), fc2])
        }
        return Sequential([Reshape([1, 28, 28]), conv1, ReLU(), MaxPool2d(2), conv2, ReLU(), MaxPool2d(2),
                           Flatten(), fc1, ReLU(), fc2])
    }

    /// A small ResNet for `[N, inChannels·imageSize²]` (or `[N, inChannels, imageSize, imageSize]`) inputs:
    /// a 3×3 stem (conv, batch norm, ReLU) of `widths[0]` channels, then one stage per width of
    /// `blocksPerStage` `ResidualBlock`s (each stage after the first halves the resolution),
    /// global average pooling and a linear head to `classes` logits.
    /// - Throws: `CohortError.invalidArgument` for empty `widths` or non-positive sizes.
    public static func resNet(inChannels: Int = 1, imageSize: Int = 28, classes: Int = 10, widths: [Int] = [16, 32, 64],
                              blocksPerStage: Int = 1, generator: inout RandomGenerator) throws -> Sequential {
        guard let first = widths.first, widths.allSatisfy({ $0 >= 1 }), inChannels >= 1, imageSize >= 1, classes >= 1,
              blocksPerStage >= 1 else {
            throw CohortError.invalidArgument("ConvModels.resNet: widths \(widths), inChannels \(inChannels), imageSize \(imageSize), " +
                                              "classes \(classes) and blocksPerStage \(blocksPerStage) must be positive and widths non-empty")
        }
        var layers: [any Module] = [
            Reshape([inChannels, imageSize, imageSize]),
            try Conv2d(inChannels, first, kernelSize: 3, padding: 1, bias: false, generator: &generator),
            BatchNorm2d(first),
            ReLU(),
        ]
        var channels = first
        for (stage, width) in widths.enumerated() {
            var blocks: [any Module] = []
            for b in 0..<blocksPerStage {
                let stride = stage > 0 && b == 0 ? 2 : 1
                blocks.append(try ResidualBlock(channels, width, stride: stride, generator: &generator))
                channels = width
            }
            layers.append(Sequential(blocks))
        }
        layers += [AdaptiveAvgPool2d(1), Flatten(), Linear(channels, classes, generator: &generator)]
        return Sequential(layers)
    }
}
