// Autograd semantics: accumulation across backward calls, zeroGrad, no-grad
// mode, detach, freed graphs and retainGraph, gradient hooks (once per pass,
// with the final gradient) and a deterministic order.
import CohortCore
@testable import CohortTensor
import CohortTestSupport
import Testing

@Suite struct AutogradTests {
    @Test func gradientsAccumulateAcrossBackwardCalls() throws {
        let x = try Tensor([1, -2, 3], requiresGrad: true)
        try (x * x).sum().backward()
        #expect(x.grad?.scalars == [2, -4, 6])
        try (x * x).sum().backward()
        #expect(x.grad?.scalars == [4, -8, 12])
        try (x * 3).sum().backward()
        #expect(x.grad?.scalars == [7, -5, 15])
    }

    @Test func zeroGradKeepsTheBufferAndClears() throws {
        let x = try Tensor([1, 2], requiresGrad: true)
        try (x * 5).sum().backward()
        let g = try #require(x.grad)
        x.zeroGrad()
        #expect(x.grad === g && g.scalars == [0, 0])
        try (x * 2).sum().backward()
        #expect(x.grad === g && g.scalars == [2, 2])
        let fresh = try Tensor([1], requiresGrad: true)
        fresh.zeroGrad()
        #expect(fresh.grad == nil)
    }

    @Test func noGradRecordsNothing() throws {
        let x = try Tensor([1, 2, 3], requiresGrad: true)
        let y = try withNoGrad {
            #expect(!GradMode.isEnabled)
            return try (x * 2).exp().sum() + Tensor.matmul(x, x)
        }
        #expect(GradMode.isEnabled)
        #expect(!y.requiresGrad && y.isLeaf)
        #expect(throws: CohortError.self) { try y.backward() }
        #expect(x.grad == nil)
        // Values are the same as with recording on.
        #expect(try y.item() == (try (x * 2).exp().sum() + Tensor.matmul(x, x)).item())
    }

    @Test func detachCutsTheGraphButSharesStorage() throws {
        let x = try Tensor([1, 2, 3], requiresGrad: true)
        let d = x.detached()
        #expect(!d.requiresGrad && d.isLeaf && d.storage === x.storage)
        try (d * x).sum().backward()
        #expect(x.grad?.scalars == [1, 2, 3])   // d is a constant: d/dx (d·x) = d
        let y = try x * 2
        let yd = y.detached()
        #expect(!yd.requiresGrad && yd.scalars == [2, 4, 6])
    }

    @Test func opsOnConstantsDoNotRequireGrad() throws {
        let a = try Tensor([1, 2]), b = try Tensor([3, 4])
        let c = try (a * b).sum()
        #expect(!c.requiresGrad && c.isLeaf)
        let x = try Tensor([1, 2], requiresGrad: true)
        let m = try a * x
        #expect(m.requiresGrad && !m.isLeaf)
        try m.sum().backward()
        #expect(m.grad == nil)   // only leaves keep gradients
    }

    @Test func secondBackwardWithoutRetainGraphThrowsClearly() throws {
        let x = try Tensor([1, 2], requiresGrad: true)
        let y = try (x * x).sum()
        try y.backward()
        #expect { try y.backward() } throws: { e in
            "\(e)".contains("retainGraph") && "\(e)".contains("freed")
        }
        // A new root over a freed part of the graph is caught too.
        let h = x.exp()
        try h.sum().backward()
        #expect { try (h * 2).sum().backward() } throws: { "\($0)".contains("retainGraph") }
        #expect(x.grad?.scalars == [2 + Float(Glibc.exp(1.0)), 4 + Float(Glibc.exp(2.0))])
    }

    @Test func retainGraphAllowsRepeatedBackward() throws {
        let x = try Tensor([1, 2], requiresGrad: true)
        let h = try x * x
        let y = try h.sum()
        try y.backward(retainGraph: true)
        try y.backward(retainGraph: true)
        #expect(x.grad?.scalars == [4, 8])
        try (h * 3).sum().backward(retainGraph: true)   // a second root through the retained part
        #expect(x.grad?.scalars == [10, 20])
        try y.backward()
        #expect(x.grad?.scalars == [12, 24])
        #expect(throws: CohortError.self) { try y.backward() }
    }

    @Test func backwardArgumentsAreChecked() throws {
        let x = try Tensor([1, 2, 3], requiresGrad: true)
        let y = try x * 2
        #expect { try y.backward() } throws: { "\($0)".contains("seed") && "\($0)".contains("[3]") }
        #expect { try y.backward(Tensor.ones([2])) } throws: { e in
            guard case .shapeMismatch = e as? CohortError else { return false }
            return "\(e)".contains("[2]") && "\(e)".contains("[3]")
        }
        try y.backward(Tensor([1, 0, -1]))
        #expect(x.grad?.scalars == [2, 0, -2])
        #expect(throws: CohortError.self) { try Tensor([1]).backward() }
        // A leaf as its own root gets the seed.
        let s = try Tensor([5], requiresGrad: true)
        try s.backward()
        #expect(s.grad?.scalars == [1])
    }

    @Test func hooksFireOncePerBackwardWithTheFinalGradient() throws {
        let x = Fixtures.uniform([2, 3], seed: 1), w = Fixtures.uniform([4, 3], seed: 2), b = Fixtures.uniform([4], seed: 3)
        var seen: [(String, [Float])] = []
        x.registerGradHook { seen.append(("x", $0.scalars)) }
        w.registerGradHook { seen.append(("w", $0.scalars)) }
        b.registerGradHook { seen.append(("b", $0.scalars)) }
        // x feeds four ops, w three (including linear's in-place accumulation), b two.
        func loss() throws -> Tensor {
            let y = try Tensor.linear(x, weight: w, bias: b)
            let z = try Tensor.linear(x.exp(), weight: w, bias: nil)
            let extra = try Tensor.matmul(x, w.transpose()) * (x * x).sum() + b.square()
            return try (y * z + extra).sum()
        }
        try loss().backward()
        #expect(seen.map(\.0).sorted() == ["b", "w", "x"])
        for (name, t) in [("x", x), ("w", w), ("b", b)] {
            #expect(seen.first { $0.0 == name }?.1 == t.grad?.scalars, "hook for \(name) saw a partial gradient")
        }
        // A second pass fires each hook once more, with the accumulated gradient.
        seen.removeAll()
        try loss().backward()
        #expect(seen.count == 3)
        #expect(seen.first { $0.0 == "w" }?.1 == w.grad?.scalars)
        // Hooks of leaves outside the graph do not fire.
        seen.removeAll()
        try b.square().sum().backward()
        #expect(seen.map(\.0) == ["b"])
    }

    @Test func hookOnARootLeaf() throws {
        let x = try Tensor([2], requiresGrad: true)
        var calls = 0
        x.registerGradHook { _ in calls += 1 }
        try x.backward()
        #expect(calls == 1)
    }

    @Test func orderAndResultsAreDeterministic() throws {
        func run() throws -> ([String], [[Float]]) {
            let leaves = (0..<5).map { Fixtures.uniform([3, 3], seed: UInt64($0)) }
            var order: [String] = []
            for (i, l) in leaves.enumerated() { l.registerGradHook { _ in order.append("p\(i)") } }
            var h = leaves[0]
            for (i, l) in leaves.enumerated().dropFirst() {
                h = i % 2 == 0 ? try Tensor.matmul(h, l).tanh() : try (h * l + leaves[0]).sigmoid()
            }
            try h.sum().backward()
            return (order, leaves.map { $0.grad!.scalars })
        }
        let (o1, g1) = try run(), (o2, g2) = try run()
        #expect(o1.count == 5 && o1 == o2)
        #expect(g1 == g2)   // bitwise
    }

    @Test func customOpGradientFlows() throws {
        // softplus(x) = log(1 + e^x) with an explicit backward σ(x).
        let x = Fixtures.uniform([5], -3, 3, seed: 4)
        try expectGradients([x]) { v in
            try Tensor.customOp("softplus", inputs: [v[0]], forward: { try ($0[0].exp() + 1).log() },
                                backward: { g, xs, _ in [try g * xs[0].sigmoid()] })
        }
        #expect { try Tensor.customOp("bad", inputs: [x], forward: { $0[0].copy() }, backward: { g, _, _ in [g, g] }).sum().backward() }
            throws: { "\($0)".contains("2 gradients for 1 inputs") }
    }
}

#if canImport(Glibc)
import Glibc
#endif
