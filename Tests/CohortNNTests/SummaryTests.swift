// Module.summary(inputShape:): every built-in model's totals equal its parameterCount and
// its rows add up; FLOPs against hand counts (W1's MLP, W2's CNN, attention); output shapes
// against a real forward pass; frozen parameters; tied weights counted once.
import CohortCore
@testable import CohortNN
import CohortTensor
import Testing

@Suite struct SummaryTests {
    /// W1 (../shared/bench/peers/w1_mlp.py): 784-1024-1024-10 with ReLU, as ModelZoo.mlp builds it.
    func w1MLP() -> Sequential {
        var g = RandomGenerator(seed: 1)
        return Sequential([Flatten(), Linear(784, 1024, generator: &g), ReLU(), Linear(1024, 1024, generator: &g), ReLU(),
                           Linear(1024, 10, generator: &g)])
    }

    func smallGPT() throws -> GPT {
        var g = RandomGenerator(seed: 3)
        return try GPT(GPTConfig(vocabSize: 11, contextLength: 8, layers: 2, heads: 2, dModel: 16), generator: &g)
    }

    /// The built-in models with an input shape each (batch 2).
    func builtInModels() throws -> [(name: String, model: any Module, input: [Int])] {
        var g = RandomGenerator(seed: 2)
        return [("mlp", w1MLP(), [2, 784]),
                ("cnn", ConvModels.leNet(classes: 10, generator: &g), [2, 784]),
                ("cnn unfused", ConvModels.leNet(classes: 10, fused: false, generator: &g), [2, 784]),
                ("resnet", try ConvModels.resNet(classes: 10, generator: &g), [2, 784]),
                ("lstm", try CharLSTM(vocabularySize: 13, embeddingDim: 8, hidden: 12, layers: 2, generator: &g), [2, 5]),
                ("lstm tied", try CharLSTM(vocabularySize: 13, embeddingDim: 8, hidden: 8, tieWeights: true, generator: &g), [2, 5]),
                ("gpt", try smallGPT(), [2, 8])]
    }

    /// Checks that every group row is the sum of the rows one level below it, up to the next row at its depth.
    func expectGroupsAddUp(_ s: ModelSummary, _ name: String) {
        for (i, row) in s.layers.enumerated() where row.isGroup {
            let below = s.layers[(i + 1)...].prefix { $0.depth > row.depth }.filter { $0.depth == row.depth + 1 }
            #expect(!below.isEmpty, "\(name) \(row.name)")
            #expect(below.reduce(0) { $0 + $1.parameters } == row.parameters, "\(name) \(row.name) parameters")
            #expect(below.reduce(0) { $0 + $1.flops } == row.flops, "\(name) \(row.name) FLOPs")
            #expect(below.last?.outputShape == row.outputShape || row.type == "ResidualBlock", "\(name) \(row.name) shape")
        }
    }

    @Test func everyBuiltInModelsTotalsEqualItsParameterCount() throws {
        for (name, model, input) in try builtInModels() {
            let s = try model.summary(inputShape: input)
            #expect(s.parameters == model.parameterCount, "\(name)")
            #expect(s.trainableParameters == model.parameterCount && s.frozenParameters == 0, "\(name)")
            #expect(s.leaves.reduce(0) { $0 + $1.parameters } == model.parameterCount, "\(name): the rows add up")
            #expect(s.leaves.reduce(0) { $0 + $1.flops } == s.flops && s.flops > 0, "\(name)")
            #expect(s.layers.filter { $0.depth == 0 }.reduce(0) { $0 + $1.parameters } == model.parameterCount, "\(name)")
            expectGroupsAddUp(s, name)
            // The model's output shape is the forward pass's.
            let x = Tensor.zeros(input)
            let y = try withNoGrad { try model.forward(x) }
            #expect(s.outputShape == y.shape, "\(name): \(s.outputShape) vs \(y.shape)")
        }
    }

    /// W1's MLP on one sample, 2 FLOPs per multiply-add plus 1 per bias element:
    /// 784·1024 + 1024·1024 + 1024·10 = 1,861,632 multiply-adds → 3,723,264, plus 1024 + 1024 + 10
    /// = 2,058 bias additions: 3,725,322 FLOPs.
    @Test func w1MLPFlopsEqualTheHandCount() throws {
        let mlp = w1MLP()
        let multiplyAdds = 784 * 1024 + 1024 * 1024 + 1024 * 10
        #expect(multiplyAdds == 1_861_632)
        let one = try mlp.summary(inputShape: [1, 784])
        #expect(one.flops == 2 * multiplyAdds + (1024 + 1024 + 10))
        #expect(one.flops == 3_725_322)
        #expect(one.flopsPerSample == 3_725_322)
        #expect(one.parameters == 784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10)   // 1,863,690
        #expect(one.layers.map(\.name) == ["0", "1", "2", "3", "4", "5"])
        #expect(one.layers.map(\.type) == ["Flatten", "Linear", "ReLU", "Linear", "ReLU", "Linear"])
        #expect(one.layers.map(\.flops) == [0, 2 * 784 * 1024 + 1024, 0, 2 * 1024 * 1024 + 1024, 0, 2 * 1024 * 10 + 10])
        // Per batch of 256 (W1's), 256 times as many.
        let batch = try mlp.summary(inputShape: [256, 784])
        #expect(batch.flops == 256 * 3_725_322 && batch.flopsPerSample == 3_725_322)
        #expect(batch.layers[5].outputShape == [256, 10])
    }

    /// W2's CNN on one image: conv1 26·26·32 outputs × (2·1·3·3 + 1) = 411,008; conv2 11·11·64 outputs
    /// × (2·32·3·3 + 1) = 4,468,288 (before the fused 2×2 pools); fc1 2·1600·128 + 128 = 409,728;
    /// fc2 2·128·10 + 10 = 2,570. Fused and unfused layouts count the same.
    @Test func cnnFlopsEqualTheHandCountAndShapesMatchTheForwardPass() throws {
        var g = RandomGenerator(seed: 4)
        for fused in [true, false] {
            let cnn = ConvModels.leNet(classes: 10, fused: fused, generator: &g)
            let s = try cnn.summary(inputShape: [3, 784])
            #expect(s.flops == 3 * (411_008 + 4_468_288 + 409_728 + 2_570), "fused \(fused)")
            #expect(s.parameters == 225_034)
            // Row by row, the shapes a forward pass through the layers gives.
            var x = Tensor.zeros([3, 784])
            #expect(s.layers.count == cnn.layers.count)
            for (row, layer) in zip(s.layers, cnn.layers) {
                x = try withNoGrad { try layer.forward(x) }
                #expect(row.outputShape == x.shape, "fused \(fused) layer \(row.name) \(row.type)")
            }
        }
    }

    @Test func resNetRowsMatchTheForwardPass() throws {
        var g = RandomGenerator(seed: 5)
        let net = try ConvModels.resNet(classes: 10, generator: &g)
        let s = try net.summary(inputShape: [2, 784])
        var x = Tensor.zeros([2, 784])
        for (name, layer) in net.children {
            x = try withNoGrad { try layer.forward(x) }
            #expect(s.layers.first { $0.name == name }?.outputShape == x.shape, "\(name)")
        }
        #expect(s.bufferElements == net.namedBuffers().reduce(0) { $0 + $1.tensor.count } && s.bufferElements > 0)
        #expect(s.layers.contains { $0.name == "5.0.shortcut.0" && $0.type == "Conv2d" })
    }

    /// GPT (vocab 11, context 8, d 16, 2 heads, 2 layers) on [2, 8]: rows against the blocks run
    /// one by one; attention 2·B·T²·d for QKᵀ and again for AV; the tied head counted once.
    @Test func gptRowsMatchTheForwardPassAndCountAttention() throws {
        let gpt = try smallGPT()
        let (b, t, d, v) = (2, 8, 16, 11)
        let s = try gpt.summary(inputShape: [b, t])
        func row(_ name: String) -> LayerSummary? { s.layers.first { $0.name == name } }
        var x = Tensor.zeros([b, t, d])
        #expect(row("wte")?.outputShape == [b, t, d] && row("wte")?.parameters == v * d)
        #expect(row("wpe")?.outputShape == [b, t, d] && row("wpe")?.parameters == 8 * d)
        for (i, block) in gpt.blocks.enumerated() {
            let qkv = try withNoGrad { try block.attention.qkvProjection(block.norm1(x)) }
            #expect(row("h.\(i).attn.c_attn")?.outputShape == qkv.shape)
            #expect(row("h.\(i).attn.attention")?.flops == 2 * (2 * b * t * t * d))
            #expect(row("h.\(i).attn.c_attn")?.flops == b * t * (2 * d * 3 * d + 3 * d))
            #expect(row("h.\(i).mlp.c_fc")?.outputShape == [b, t, 4 * d])
            x = try withNoGrad { try block(x) }
            #expect(row("h.\(i)")?.outputShape == x.shape && row("h.\(i)")?.isGroup == true)
        }
        #expect(row("lm_head")?.outputShape == [b, t, v] && row("lm_head")?.parameters == 0, "tied to wte.weight")
        #expect(row("lm_head")?.flops == b * t * 2 * d * v)
        let y = try withNoGrad { try gpt.forward(Tensor.zeros([b, t])) }
        #expect(s.outputShape == y.shape)
        #expect(s.parameters == gpt.config.parameterCount)
        // Down to one level: the blocks are single rows that still add up.
        let top = try gpt.summary(inputShape: [b, t], maxDepth: 1)
        #expect(top.layers.map(\.name) == ["wte", "wpe", "h.0", "h.1", "ln_f", "lm_head"])
        #expect(top.leaves.reduce(0) { $0 + $1.parameters } == gpt.parameterCount && top.flops == s.flops)
        #expect(throws: CohortError.self) { try gpt.summary(inputShape: [1, 9]) }   // longer than the context
    }

    /// CharLSTM (vocab 13, embedding 8, two LSTM layers of 12) on [2, 5]: per step, layer 0
    /// 2·48·(8 + 12) + 2·48 = 2,016 and layer 1 2·48·(12 + 12) + 2·48 = 2,400 (48 = 4 gates × 12);
    /// the head 2·12·13 + 13 = 325; ten steps in all.
    @Test func lstmFlopsEqualTheHandCount() throws {
        var g = RandomGenerator(seed: 7)
        let lstm = try CharLSTM(vocabularySize: 13, embeddingDim: 8, hidden: 12, layers: 2, generator: &g)
        let s = try lstm.summary(inputShape: [2, 5])
        #expect(s.layers.map(\.name) == ["embedding", "lstm", "head"])
        #expect(s.layers.map(\.outputShape) == [[2, 5, 8], [2, 5, 12], [2, 5, 13]])
        #expect(s.layers[1].flops == 10 * (2_016 + 2_400) && s.layers[2].flops == 10 * 325 && s.layers[0].flops == 0)
    }

    @Test func frozenParametersAreCountedApart() throws {
        let mlp = w1MLP()
        let first = mlp.layers[1] as! Linear
        first.weight.requiresGrad = false
        first.bias!.requiresGrad = false
        let s = try mlp.summary(inputShape: [1, 784])
        #expect(s.frozenParameters == 784 * 1024 + 1024)
        #expect(s.trainableParameters == mlp.parameterCount - (784 * 1024 + 1024))
        #expect(s.layers[1].frozenParameters == 784 * 1024 + 1024 && s.layers[1].trainableParameters == 0)
        #expect(s.layers[3].frozenParameters == 0)
        #expect(s.parameters == mlp.parameterCount)
        // The table's frozen column: 784·1024 + 1024 = 803,840 in the first Linear's row and the total.
        let lines = s.table().split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("1 ") && $0.contains("803,840  803,840") }, "\(s.table())")
        #expect(lines.last?.hasPrefix("total") == true && lines.last?.contains("1,863,690  803,840") == true, "\(s.table())")
    }

    @Test func frozenGlobsCountAsFrozenWithoutTouchingRequiresGrad() throws {
        let mlp = w1MLP()
        let s = try mlp.summary(inputShape: [1, 784], frozen: ["1.*", "5.bias"])
        #expect(s.frozenParameters == 784 * 1024 + 1024 + 10 && s.parameters == mlp.parameterCount)
        #expect(s.layers[1].trainableParameters == 0 && s.layers[5].trainableParameters == 1024 * 10)
        #expect(mlp.namedParameters().allSatisfy { $0.tensor.requiresGrad })
    }

    @Test func aShapeThatDoesNotFitNamesTheLayer() throws {
        do {
            _ = try w1MLP().summary(inputShape: [1, 100])
            Issue.record("a 100-feature input was accepted")
        } catch let CohortError.shapeMismatch(_, message) {
            #expect(message.contains("layer 1 (Linear)") && message.contains("784"), "\(message)")
        }
    }

    @Test func anUnknownModuleIsRunOnceForItsShape() throws {
        final class Doubler: Module {
            var isTraining = true
            func forward(_ x: Tensor) throws -> Tensor { try Tensor.concat([x, x], axis: 1) }
        }
        var g = RandomGenerator(seed: 6)
        let model = Sequential([Doubler(), Linear(8, 3, generator: &g)])
        let s = try model.summary(inputShape: [5, 4])
        #expect(s.layers.map(\.outputShape) == [[5, 8], [5, 3]])
        #expect(s.layers[0].flops == 0 && s.flops == 5 * (2 * 8 * 3 + 3))
    }
}
