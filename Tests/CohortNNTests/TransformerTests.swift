// Transformer layers and the GPT builder: finite-difference gradients of a whole
// block, key padding against truncation, W3's parameter count and names, the
// tied embedding's gradient from both uses, a tiny GPT memorising a sequence,
// and sampling (greedy, top-k, the context window, argument errors).
import CohortCore
import CohortKernels
@testable import CohortNN
import CohortOptim
import CohortTensor
import CohortTestSupport
import Foundation
import Testing

@Suite struct TransformerTests {
    @Test func blockGradients() throws {
        var g = RandomGenerator(seed: 1)
        let block = try TransformerBlock(dModel: 8, heads: 2, generator: &g)
        let x = Fixtures.uniform([2, 5, 8], seed: 2)
        let mask = try Tensor([1, 1, 1, 0, 1, 1, 1, 1, 1, 0], shape: [2, 5])
        try expectGradients([x] + block.parameters(), "block with causal + key padding") { xs in
            try block.forward(xs[0], keyPaddingMask: mask)
        }
    }

    @Test func keyPaddingMatchesTruncation() throws {
        var g = RandomGenerator(seed: 3)
        let attn = try MultiHeadSelfAttention(dModel: 8, heads: 2, causal: false, generator: &g)
        let x = Fixtures.uniform([1, 6, 8], seed: 4, requiresGrad: false)
        let padded = try attn.forward(x, keyPaddingMask: Tensor([1, 1, 1, 1, 0, 0], shape: [1, 6]))
        let short = try attn(x.slice(axis: 1, 0, 4))
        assertClose(try padded.slice(axis: 1, 0, 4).contiguous(), short, atol: 1e-6, rtol: 1e-5)
    }

    @Test func layerShapesAndErrors() throws {
        var g = RandomGenerator(seed: 5)
        #expect(throws: CohortError.self) { try MultiHeadSelfAttention(dModel: 10, heads: 3, generator: &g) }
        let attn = try MultiHeadSelfAttention(dModel: 8, heads: 2, generator: &g)
        #expect(throws: CohortError.self) { try attn(Tensor.zeros([2, 3, 6])) }
        #expect(throws: CohortError.self) { try LayerNorm(4)(Tensor.zeros([2, 5])) }
        #expect(attn.namedParameters().map(\.name) == ["c_attn.weight", "c_attn.bias", "c_proj.weight", "c_proj.bias"])
        #expect(try attn(Tensor.zeros([2, 3, 8])).shape == [2, 3, 8])
    }

    @Test func w3ParameterCountAndNames() throws {
        var g = RandomGenerator(seed: 6)
        let gpt = try GPT(.w3, generator: &g)
        #expect(gpt.parameterCount == 3_208_960)
        #expect(GPTConfig.w3.parameterCount == 3_208_960)
        let names = gpt.namedParameters().map(\.name)
        #expect(names.prefix(4) == ["wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.ln_1.bias"])
        #expect(names.last == "ln_f.bias")
        #expect(!names.contains { $0.hasPrefix("lm_head") })
        #expect(names.count == 2 + 4 * 12 + 2)
    }

    func tiny(seed: UInt64, vocab: Int = 11, context: Int = 8, layers: Int = 1, dModel: Int = 8) throws -> GPT {
        var g = RandomGenerator(seed: seed)
        return try GPT(GPTConfig(vocabSize: vocab, contextLength: context, layers: layers, heads: 2, dModel: dModel), generator: &g)
    }

    @Test func tiedWeightGetsGradientFromBothUses() throws {
        let gpt = try tiny(seed: 7)
        let (b, t, d) = (2, 6, 8)
        var g = RandomGenerator(seed: 8)
        let tokens = (0..<(b * t)).map { _ in g.nextInt(below: 11) }, targets = (0..<(b * t)).map { _ in g.nextInt(below: 11) }
        let loss = try gpt.loss(tokens: tokens, targets: targets, batch: b)
        try loss.backward()
        let tied = gpt.tokenEmbedding.grad!
        // The same forward by hand, with the embedding and the head on separate copies.
        let embed = gpt.tokenEmbedding.copy(), head = gpt.tokenEmbedding.copy()
        embed.requiresGrad = true; head.requiresGrad = true
        var x = try embed.indexSelect(axis: 0, tokens).reshape([b, t, d]) + gpt.positionEmbedding.slice(axis: 0, 0, t)
        for block in gpt.blocks { x = try block(x) }
        let logits = try Tensor.linear(gpt.finalNorm(x), weight: head, bias: nil)
        let manual = try Loss.crossEntropy(logits.reshape([b * t, 11]), targets)
        try manual.backward()
        assertClose(try manual.item(), try loss.item(), atol: 1e-6, rtol: 1e-6)
        let fromEmbedding = embed.grad!, fromHead = head.grad!
        #expect(try fromEmbedding.norm().item() > 1e-4)
        #expect(try fromHead.norm().item() > 1e-4)
        assertClose(tied, try fromEmbedding + fromHead, atol: 1e-6, rtol: 1e-5)
    }

    @Test func tinyGPTMemorisesASequence() throws {
        let gpt = try tiny(seed: 9, vocab: 12, context: 16, layers: 2, dModel: 32)
        let sequence = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3]
        let arena = ParameterArena(gpt)
        let optimizer = AdamW(arena, lr: 1e-2, weightDecay: 0)
        var last: Float = .infinity
        var first: Float = 0
        for step in 0..<120 {
            optimizer.zeroGrad()
            let loss = try gpt.loss(tokens: Array(sequence.dropLast()), targets: Array(sequence.dropFirst()), batch: 1)
            try loss.backward()
            optimizer.step()
            last = try loss.item()
            if step == 0 { first = last }
        }
        #expect(first > 2, "starts near ln(12) ≈ 2.5")
        #expect(last < 0.05, "final loss \(last)")
        var g = RandomGenerator(seed: 10)
        let greedy = try gpt.generate(prompt: [3], maxNewTokens: 15, temperature: 0, generator: &g)
        #expect(greedy == sequence)
        #expect(gpt.isTraining, "generate restores the training mode")
    }

    @Test func generationWindowAndArguments() throws {
        let gpt = try tiny(seed: 11)
        var g = RandomGenerator(seed: 12)
        // A prompt longer than the context window: only the last 8 tokens are seen.
        let prompt = Array(repeating: 4, count: 13)
        let out = try gpt.generate(prompt: prompt, maxNewTokens: 5, temperature: 0.8, topK: 3, generator: &g)
        #expect(out.count == 18 && Array(out.prefix(13)) == prompt)
        #expect(out.allSatisfy { (0..<11).contains($0) })
        var g1 = RandomGenerator(seed: 13), g2 = RandomGenerator(seed: 14)
        #expect(try gpt.generate(prompt: [1, 2], maxNewTokens: 6, topK: 1, generator: &g1)
                == gpt.generate(prompt: [1, 2], maxNewTokens: 6, temperature: 0, generator: &g2), "top-1 is greedy")
        #expect(throws: CohortError.self) { try gpt.generate(prompt: [], maxNewTokens: 1, generator: &g) }
        #expect(throws: CohortError.self) { try gpt.generate(prompt: [11], maxNewTokens: 1, generator: &g) }
        #expect(throws: CohortError.self) { try gpt.generate(prompt: [1], maxNewTokens: 1, topK: 0, generator: &g) }
        #expect(throws: CohortError.self) { try gpt.generate(prompt: [1], maxNewTokens: 1, temperature: -1, generator: &g) }
        #expect(throws: CohortError.self) { try gpt.forward(tokens: Array(repeating: 0, count: 9), batch: 1) }
        #expect(try gpt(Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])).shape == [2, 3, 11])
        #expect(throws: CohortError.self) { try gpt(Tensor([1, 2.5], shape: [1, 2])) }
    }

    @Test func samplingFollowsTheDistribution() throws {
        var g = RandomGenerator(seed: 15)
        let logits: [Float] = [0, Float(2).squareRoot(), -1, 1]   // probabilities ∝ e^logit
        var counts = [0, 0, 0, 0]
        for _ in 0..<4000 { counts[try GPT.sample(logits: logits, temperature: 1, topK: nil, generator: &g)] += 1 }
        let z = logits.map { exp(Double($0)) }.reduce(0, +)
        for i in 0..<4 {
            let expected = exp(Double(logits[i])) / z * 4000
            #expect(abs(Double(counts[i]) - expected) < 5 * expected.squareRoot() + 5, "token \(i): \(counts[i]) vs \(expected)")
        }
        for _ in 0..<200 { #expect(try GPT.sample(logits: logits, temperature: 1, topK: 2, generator: &g) != 0) }
    }
}


@Suite struct TransformerGELUTests {
    @Test func fusedBiasGELUMatchesComposition() throws {
        for n in [4133, 1024, 21] {
            let x = Fixtures.uniform([3, n], -6, 6, seed: UInt64(n)), b = Fixtures.uniform([n], seed: 41)
            let (x2, b2) = (x.copy(), b.copy())
            x2.requiresGrad = true; b2.requiresGrad = true
            let g = Fixtures.uniform([3, n], seed: 42, requiresGrad: false)
            let fused = try TransformerMLP.biasGELU(x, bias: b)
            let plain = try (x2 + b2).gelu()
            assertClose(fused, plain, atol: 1e-6, rtol: 1e-6, "n = \(n)")
            try fused.backward(g)
            try plain.backward(g)
            assertClose(x.grad!, x2.grad!, atol: 1e-6, rtol: 1e-5, "dx, n = \(n)")
            assertClose(b.grad!, b2.grad!, atol: 1e-5, rtol: 1e-5, "dbias, n = \(n)")
        }
        try expectGradients([Fixtures.uniform([2, 21], -3, 3, seed: 43), Fixtures.uniform([21], seed: 44)]) {
            try TransformerMLP.biasGELU($0[0], bias: $0[1])
        }
        try expectGradients([Fixtures.uniform([2, 5], -3, 3, seed: 45)], "no bias") { try TransformerMLP.biasGELU($0[0], bias: nil) }
    }

    @Test func kernelWorkersAgree() throws {
        let (rows, n) = (64, 1040)
        let x = Fixtures.uniform([rows, n], -5, 5, seed: 46, requiresGrad: false), g = Fixtures.uniform([rows, n], seed: 47, requiresGrad: false)
        let b = Fixtures.uniform([n], seed: 48, requiresGrad: false)
        func run(_ workers: Int) throws -> [[Float]] {
            let y = Tensor.zeros([rows, n]), d = Tensor.zeros([rows, n]), dx = Tensor.zeros([rows, n]), db = Tensor.zeros([n])
            try x.withMutableBuffer { xp in try b.withMutableBuffer { bp in try y.withMutableBuffer { yp in try d.withMutableBuffer { dp in
                GELUKernels.forward(rows: rows, n: n, x: xp, bias: bp, y: yp, dydx: dp, workers: workers)
                try g.withMutableBuffer { gp in try dx.withMutableBuffer { op in try db.withMutableBuffer { dbp in
                    GELUKernels.backward(rows: rows, n: n, g: gp, dydx: dp, out: op, biasGrad: dbp, workers: workers)
                } } }
            } } } }
            return [y.scalars, d.scalars, dx.scalars, db.scalars]
        }
        #expect(try run(1) == run(2))
    }
}
