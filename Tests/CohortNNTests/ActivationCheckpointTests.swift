// Activation checkpointing (`--checkpoint-activations`): finite-difference gradients
// of a checkpointed block; one GPT training step with and without checkpointing gives
// bitwise the same loss and gradients; gradient hooks (DataParallel's buckets) fire
// once per parameter with its final gradient; Dropout draws the same masks on
// recompute; functional gradients, evaluation, and a stray leaf reported by name.
import CohortCore
@testable import CohortNN
import CohortOptim
import CohortTensor
import CohortTestSupport
import Testing

@Suite struct ActivationCheckpointTests {
    func tinyGPT(seed: UInt64, layers: Int = 2) throws -> GPT {
        var g = RandomGenerator(seed: seed)
        return try GPT(GPTConfig(vocabSize: 23, contextLength: 12, layers: layers, heads: 2, dModel: 16), generator: &g)
    }

    func batch(seed: UInt64, count: Int) -> (tokens: [Int], targets: [Int]) {
        var g = RandomGenerator(seed: seed)
        return ((0..<count).map { _ in g.nextInt(below: 23) }, (0..<count).map { _ in g.nextInt(below: 23) })
    }

    @Test func checkpointedBlockGradients() throws {
        var g = RandomGenerator(seed: 1)
        let block = try TransformerBlock(dModel: 8, heads: 2, generator: &g)
        block.checkpointActivations = true
        let x = Fixtures.uniform([2, 5, 8], seed: 2)
        let mask = try Tensor([1, 1, 1, 0, 1, 1, 1, 1, 1, 0], shape: [2, 5])
        try expectGradients([x] + block.parameters(), "checkpointed block") { xs in
            try block.forward(xs[0], keyPaddingMask: mask)
        }
    }

    /// One AdamW step on two GPTs from the same seed, one checkpointed: the same loss and
    /// the same gradients, bit for bit (the same kernels run on the same values), and the same
    /// weights after the update; the second step's loss too.
    @Test func trainingStepEqualsTheUncheckpointedOne() throws {
        let plain = try tinyGPT(seed: 3), ckpt = try tinyGPT(seed: 3)
        ckpt.checkpointActivations = true
        #expect(ckpt.blocks.allSatisfy(\.checkpointActivations) && !plain.checkpointActivations)
        let (arenaA, arenaB) = (ParameterArena(plain), ParameterArena(ckpt))
        let (optA, optB) = (AdamW(arenaA, lr: 1e-2, weightDecay: 0.1), AdamW(arenaB, lr: 1e-2, weightDecay: 0.1))
        for step in 0..<2 {
            let b = batch(seed: 4 + UInt64(step), count: 2 * 12)
            optA.zeroGrad(); optB.zeroGrad()
            let (la, lb) = (try plain.loss(tokens: b.tokens, targets: b.targets, batch: 2),
                            try ckpt.loss(tokens: b.tokens, targets: b.targets, batch: 2))
            #expect(try la.item() == lb.item(), "step \(step) loss")
            try la.backward(); try lb.backward()
            for ((name, p), (_, q)) in zip(plain.namedParameters(), ckpt.namedParameters()) {
                let (gp, gq) = (p.grad?.scalars ?? [], q.grad?.scalars ?? [])
                #expect(!gp.isEmpty && gp == gq, "step \(step): gradient of \(name)")
            }
            optA.step(); optB.step()
        }
        #expect(plain.parameters().map(\.scalars) == ckpt.parameters().map(\.scalars), "weights after two steps")
    }

    /// DataParallel's buckets launch from gradient hooks: each must fire exactly once per
    /// parameter and step, with the gradient already final, and the last block's before the first's.
    @Test func hooksFireOncePerParameterWithTheFinalGradient() throws {
        let gpt = try tinyGPT(seed: 5, layers: 3)
        gpt.checkpointActivations = true
        let named = gpt.namedParameters()
        var fired: [String: [Float]] = [:], order: [String] = [], counts: [String: Int] = [:]
        for (name, p) in named {
            p.registerGradHook { g in
                counts[name, default: 0] += 1
                fired[name] = g.scalars
                order.append(name)
            }
        }
        for step in 0..<2 {
            for (_, p) in named { p.zeroGrad() }
            counts = [:]; order = []
            let b = batch(seed: 6 + UInt64(step), count: 2 * 12)
            try gpt.loss(tokens: b.tokens, targets: b.targets, batch: 2).backward()
            for (name, p) in named {
                #expect(counts[name] == 1, "step \(step): \(name) fired \(counts[name] ?? 0) times")
                #expect(fired[name] == p.grad?.scalars, "step \(step): \(name)'s hook saw a gradient that was not final")
            }
            let firstOf = { (prefix: String) in order.firstIndex { $0.hasPrefix(prefix) } ?? -1 }
            #expect(firstOf("h.2.") < firstOf("h.1.") && firstOf("h.1.") < firstOf("h.0."), "blocks in reverse order: \(order)")
        }
    }

    /// A block with Dropout, checkpointed: the recomputation draws the same mask (the
    /// gradients equal the plain run's) and leaves the generator where the plain run leaves it.
    @Test func dropoutDrawsTheSameMaskOnRecompute() throws {
        func make() throws -> Sequential {
            var g = RandomGenerator(seed: 7)
            return Sequential([Linear(6, 32, generator: &g), ReLU(), try Dropout(0.5, seed: 8), Linear(32, 3, generator: &g)])
        }
        let (plain, ckpt) = (try make(), try make())
        let (xa, xb) = (Fixtures.uniform([4, 6], seed: 9), Fixtures.uniform([4, 6], seed: 9))
        let ya = try plain(xa), yb = try ckpt.checkpointed(xb)
        #expect(ya.scalars == yb.scalars)
        let seed = Fixtures.uniform([4, 3], seed: 10, requiresGrad: false)
        try ya.backward(seed); try yb.backward(seed)
        #expect(xa.grad!.scalars == xb.grad!.scalars, "input gradient")
        for ((name, p), (_, q)) in zip(plain.namedParameters(), ckpt.namedParameters()) {
            #expect(p.grad!.scalars == q.grad!.scalars, "\(name)")
        }
        #expect(plain.namedRandomStates().map(\.state) == ckpt.namedRandomStates().map(\.state), "later draws unchanged")
        // And the mask mattered: another mask gives another gradient.
        let other = try make()
        _ = try other(Fixtures.uniform([4, 6], seed: 11, requiresGrad: false))   // advances its Dropout
        let xc = Fixtures.uniform([4, 6], seed: 9)
        try other.checkpointed(xc).backward(seed)
        #expect(xc.grad!.scalars != xa.grad!.scalars)
    }

    @Test func functionalGradientsAndEvaluation() throws {
        var g = RandomGenerator(seed: 12)
        let block = try TransformerBlock(dModel: 8, heads: 2, generator: &g)
        let x = Fixtures.uniform([1, 4, 8], seed: 13)
        let plain = try Autograd.gradients(of: block(x).sum(), withRespectTo: [x] + block.parameters())
        block.checkpointActivations = true
        let ckpt = try Autograd.gradients(of: block(x).sum(), withRespectTo: [x] + block.parameters())
        #expect(plain.map(\.scalars) == ckpt.map(\.scalars))
        #expect(block.parameters().allSatisfy { $0.grad == nil } && x.grad == nil, "Autograd.gradients writes no .grad")
        // Without a recorded graph the block just runs.
        let y = try withNoGrad { try block(x) }
        #expect(!y.requiresGrad && y.isLeaf)
        block.checkpointActivations = false
        #expect(try withNoGrad { try block(x) }.scalars == y.scalars)
    }

    @Test func aTensorTheBodyUsesButDoesNotDeclareIsNamed() throws {
        let w = Fixtures.uniform([3, 3], seed: 14), hidden = Fixtures.uniform([3, 3], seed: 15)
        hidden.name = "hidden.weight"
        let x = Fixtures.uniform([2, 3], seed: 16)
        let y = try Tensor.checkpoint(inputs: [x], parameters: [w]) { xs in try Tensor.matmul(Tensor.matmul(xs[0], w), hidden) }
        let error = #expect(throws: CohortError.self) { try y.sum().backward() }
        #expect("\(error.map { "\($0)" } ?? "")".contains("hidden.weight"))
        // Declared, it works and matches.
        let z = try Tensor.checkpoint(inputs: [x], parameters: [w, hidden]) { xs in try Tensor.matmul(Tensor.matmul(xs[0], w), hidden) }
        w.grad = nil; hidden.grad = nil; x.grad = nil
        try z.sum().backward()
        let (gw, gh, gx) = (w.grad!.scalars, hidden.grad!.scalars, x.grad!.scalars)
        w.grad = nil; hidden.grad = nil; x.grad = nil
        try Tensor.matmul(Tensor.matmul(x, w), hidden).sum().backward()
        #expect(w.grad!.scalars == gw && hidden.grad!.scalars == gh && x.grad!.scalars == gx)
    }
}

/// The MLP's fused bias + GELU writing its derivative over its input (`consumingInput`):
/// bitwise the output and gradients of the version with a separate buffer; the linear map
/// that adds the block's residual in its GEMM: finite differences, and `x·Wᵀ + b + r` composed.
@Suite struct ConsumingBiasGELUTests {
    @Test func linearWithResidual() throws {
        let x = Fixtures.uniform([2, 3, 4], seed: 30), w = Fixtures.uniform([5, 4], seed: 31)
        let b = Fixtures.uniform([5], seed: 32), r = Fixtures.uniform([2, 3, 5], seed: 33)
        try expectGradients([x, w, b, r], "linear + residual") { try Tensor.linear($0[0], weight: $0[1], bias: $0[2], residual: $0[3]) }
        try expectGradients([x, w, r], "no bias") { try Tensor.linear($0[0], weight: $0[1], bias: nil, residual: $0[2]) }
        assertClose(try Tensor.linear(x, weight: w, bias: b, residual: r), try Tensor.linear(x, weight: w, bias: b) + r, atol: 1e-6, rtol: 1e-6)
        #expect(throws: CohortError.self) { try Tensor.linear(x, weight: w, bias: b, residual: Tensor.zeros([2, 3, 4])) }
    }

    @Test func equalsTheSeparateBufferVersion() throws {
        for n in [3072, 21] {
            let w = Fixtures.uniform([8, n], seed: 20), b = Fixtures.uniform([n], seed: 21)
            let x = Fixtures.uniform([5, 8], seed: 22, requiresGrad: false), g = Fixtures.uniform([5, n], seed: 23, requiresGrad: false)
            func run(_ consuming: Bool) throws -> [[Float]] {
                w.grad = nil; b.grad = nil
                let h = try Tensor.matmul(x, w)
                let y = try TransformerMLP.biasGELU(h, bias: b, consumingInput: consuming)
                let out = y.scalars
                try y.backward(g)
                return [out, w.grad!.scalars, b.grad!.scalars]
            }
            #expect(try run(true) == run(false), "n = \(n)")
        }
    }
}
