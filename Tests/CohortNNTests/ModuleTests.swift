// Module naming, modes, the flat arenas and layer behaviour.
import CohortCore
@testable import CohortNN
import CohortOptim
import CohortTensor
import Testing

@Suite struct ModuleTests {
    func smallMLP(seed: UInt64 = 1) -> Sequential {
        var g = RandomGenerator(seed: seed)
        return Sequential([Linear(4, 8, generator: &g), ReLU(), Linear(8, 3, generator: &g)])
    }

    @Test func dottedNamesInDeclarationOrder() {
        let m = smallMLP()
        #expect(m.namedParameters().map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
        #expect(m.parameterCount == 4 * 8 + 8 + 8 * 3 + 3)
    }

    @Test func nestedNamesAndTiedWeightsListedOnce() {
        var g = RandomGenerator(seed: 2)
        let a = Linear(3, 3, generator: &g)
        let inner = Sequential([a, Tanh()])
        let outer = Sequential([inner, a])   // `a` appears twice: tied
        #expect(outer.namedParameters().map(\.name) == ["0.0.weight", "0.0.bias"])
    }

    @Test func trainEvalPropagates() throws {
        let d = try Dropout(0.5)
        let m = Sequential([smallMLP(), d])
        m.eval()
        #expect(!d.isTraining)
        m.train()
        #expect(d.isTraining)
    }

    @Test func arenaKeepsValuesAndMakesGradientsContiguousViews() throws {
        let m = smallMLP()
        let before = m.parameters().map(\.scalars)
        let arena = ParameterArena(m)
        #expect(m.parameters().map(\.scalars) == before)
        for (e, t) in zip(arena.entries, arena.tensors) {
            #expect(t.storage === arena.values && t.offset == e.offset)
            #expect(t.grad!.storage === arena.grads && t.grad!.offset == e.offset)
            #expect(e.offset % 16 == 0)
        }
        // Backward writes into the arena.
        var g = RandomGenerator(seed: 3)
        let x = Tensor.randn([5, 4], generator: &g)
        try Loss.crossEntropy(m(x), [0, 1, 2, 0, 1]).backward()
        #expect(arena.gradNorm() > 0)
        let w0 = arena.tensors[0]
        #expect(w0.grad!.scalars.contains { $0 != 0 })
        arena.zeroGrad()
        #expect(arena.gradNorm() == 0)
    }

    @Test func arenaGradientsMatchNonArenaGradients() throws {
        var g = RandomGenerator(seed: 4)
        let x = Tensor.randn([6, 4], generator: &g)
        let targets = [0, 1, 2, 2, 1, 0]
        let plain = smallMLP(seed: 9), flat = smallMLP(seed: 9)
        _ = ParameterArena(flat)
        try Loss.crossEntropy(plain(x), targets).backward()
        try Loss.crossEntropy(flat(x), targets).backward()
        for (p, q) in zip(plain.parameters(), flat.parameters()) {
            for (a, b) in zip(p.grad!.scalars, q.grad!.scalars) { #expect(Swift.abs(a - b) <= 1e-6 * max(1, Swift.abs(a))) }
        }
    }

    @Test func sha256IsStableAndSensitive() throws {
        let a = ParameterArena(smallMLP(seed: 5)), b = ParameterArena(smallMLP(seed: 5)), c = ParameterArena(smallMLP(seed: 6))
        #expect(a.sha256() == b.sha256())
        #expect(a.sha256() != c.sha256())
        a.values.pointer[0] += 1e-7
        #expect(a.sha256() != b.sha256())
    }

    @Test func dropoutScalesAndIsIdentityInEval() throws {
        let d = try Dropout(0.25, seed: 1)
        let x = Tensor.ones([10_000])
        let y = try d(x).scalars
        let kept = y.filter { $0 != 0 }
        #expect(kept.allSatisfy { Swift.abs($0 - 1 / 0.75) < 1e-6 })
        #expect(Swift.abs(Double(kept.count) / 10_000 - 0.75) < 0.02)
        d.eval()
        #expect(try d(x).scalars == x.scalars)
        #expect(throws: CohortError.self) { try Dropout(1.0) }
    }

    @Test func linearShapeErrorNamesShapes() {
        var g = RandomGenerator(seed: 1)
        let l = Linear(4, 2, generator: &g)
        do {
            _ = try l(Tensor.zeros([3, 5]))
            Issue.record("expected a shape error")
        } catch {
            let s = "\(error)"
            #expect(s.contains("[3, 5]") && s.contains("4"))
        }
    }

    @Test func initializersHaveTheRightSpread() throws {
        var g = RandomGenerator(seed: 7)
        let w = Tensor.zeros([256, 512])
        try Init.kaimingNormal(w, generator: &g)
        let std = try w.variance().item().squareRoot()
        #expect(Swift.abs(std - (2.0 / 512).squareRoot()) < 0.002)
        try Init.xavierUniform(w, generator: &g)
        let bound = (6.0 / Float(256 + 512)).squareRoot()
        #expect(w.scalars.allSatisfy { Swift.abs($0) <= bound })
        #expect(try w.max().item() > 0.9 * bound)
    }

    @Test func dropoutRandomStateRoundTripsThroughTheModuleTree() throws {
        var g = RandomGenerator(seed: 1)
        let make = { (g: inout RandomGenerator) in Sequential([Linear(4, 4, generator: &g), try! Dropout(0.5, seed: 3)]) }
        let a = make(&g)
        let x = Tensor.ones([8, 4])
        _ = try a(x)                                   // advance the dropout generator
        let saved = a.namedRandomStates()
        #expect(saved.map(\.name) == ["1"])
        let next = try a(x).scalars
        var g2 = RandomGenerator(seed: 1)
        let b = make(&g2)
        try b.restoreRandomStates(saved)
        #expect(try b(x).scalars == next)
        #expect(throws: CohortError.self) { try b.restoreRandomStates([]) }
    }
}
