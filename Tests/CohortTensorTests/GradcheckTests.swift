// The checker itself: it must pass correct gradients and catch wrong ones
// (a scaled, a transposed and a missing gradient), or the op tests prove nothing.
import CohortCore
@testable import CohortTensor
import CohortTestSupport
import Testing

@Suite struct GradcheckTests {
    /// x³ with a backward that is `factor` times the true one (1 = correct).
    func cube(_ x: Tensor, factor: Float) throws -> Tensor {
        try Tensor.customOp("cube", inputs: [x], forward: { try $0[0] * $0[0] * $0[0] },
                            backward: { g, xs, _ in [try g * (xs[0].square() * (3 * factor))] })
    }

    @Test func correctGradientPasses() throws {
        let x = Fixtures.uniform([3, 4], seed: 1)
        let r = try gradcheck([x]) { try cube($0[0], factor: 1) }
        #expect(r.passed, "\(r)")
        #expect(r.checkedElements == 12)
        #expect(r.maxAbsError < 1e-3)
    }

    @Test func scaledGradientFailsAndNamesTheElement() throws {
        let x = Fixtures.awayFromZero([2, 3], 0.5, 1, seed: 2)
        let r = try gradcheck([x]) { try cube($0[0], factor: 1.05) }
        #expect(!r.passed)
        #expect(r.failureCount == 6)
        let worst = try #require(r.worst)
        #expect(worst.input == 0 && worst.index.count == 2)
        #expect(r.description.contains("FAILED") && r.description.contains("element ["))
    }

    @Test func transposedGradientFails() throws {
        let x = Fixtures.uniform([3, 3], seed: 3)
        let wrong = { (t: Tensor) throws -> Tensor in
            try Tensor.customOp("id", inputs: [t], forward: { $0[0].copy() },
                                backward: { g, _, _ in [try g.transpose().contiguous()] })
        }
        let r = try gradcheck([x]) { try wrong($0[0]) }   // non-scalar output: projected
        #expect(!r.passed, "\(r)")
    }

    @Test func missingGradientFails() throws {
        let x = Fixtures.uniform([4], seed: 4), y = Fixtures.uniform([4], seed: 5)
        let r = try gradcheck([x, y]) { v in
            try Tensor.customOp("dropsY", inputs: v, forward: { try $0[0] * $0[1] },
                                backward: { g, xs, _ in [try g * xs[1], nil] })
        }
        #expect(!r.passed)
        #expect(r.failures.allSatisfy { $0.input == 1 })
    }

    @Test func inputsAreRestoredAndOnlyGradInputsChecked() throws {
        let x = Fixtures.uniform([2, 3], seed: 6)
        let fixed = Fixtures.uniform([2, 3], seed: 7, requiresGrad: false)
        let before = x.scalars
        let r = try gradcheck([x, fixed]) { try $0[0] * $0[1] }
        #expect(r.passed, "\(r)")
        #expect(r.checkedElements == 6)
        #expect(x.scalars == before)
        #expect(x.grad?.shape == [2, 3] && fixed.grad == nil)
    }

    @Test func stridedLeavesArePerturbedThroughTheirStrides() throws {
        let t = Fixtures.transposedLeaf([3, 4], seed: 8)
        let s = Fixtures.steppedLeaf([2, 5], step: 3, seed: 9)
        #expect(!t.isContiguous && !s.isContiguous)
        let r = try gradcheck([t, s]) { v in try v[0].square().sum() + v[1].exp().sum() }
        #expect(r.passed, "\(r)")
        #expect(r.checkedElements == 22)
    }

    @Test func rejectsNonLeavesAndBroadcastViews() throws {
        let x = Fixtures.uniform([3], seed: 10)
        let derived = try x * 2
        #expect(throws: CohortError.self) { try gradcheck([derived]) { try $0[0].sum() } }
        let b = Tensor(storage: Storage(zeros: 1), shape: [4], strides: [0], requiresGrad: true)
        #expect(throws: CohortError.self) { try gradcheck([b]) { try $0[0].sum() } }
        let none = Fixtures.uniform([3], seed: 11, requiresGrad: false)
        #expect(throws: CohortError.self) { try gradcheck([none]) { try $0[0].sum() } }
    }

    @Test func closenessReportsWorstElement() throws {
        let a = try Tensor([1, 2, 3, 4], shape: [2, 2])
        let c = closeness(a, [1, 2, 3.5, 4], atol: 1e-3, rtol: 0)
        #expect(!c.passed && c.failureCount == 1 && c.worstIndex == [1, 0])
        let shapes = closeness(a, try Tensor([1, 2, 3, 4]))
        #expect(!shapes.passed && shapes.description.contains("[2, 2]") && shapes.description.contains("[4]"))
        #expect(closeness([Double.nan, .infinity], [.nan, .infinity]).passed)
        #expect(!closeness([Double.nan], [0]).passed)
    }
}
