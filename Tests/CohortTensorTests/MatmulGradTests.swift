// Finite-difference checks of matmul (2-D, 1-D promotions, batched with
// broadcast batch dimensions, transposed and stepped operands) and of the
// fused linear layer, including its in-place accumulation into leaf gradients.
import Testing
@testable import CohortTensor
import CohortTestSupport

@Suite struct MatmulGradTests {
    func leaf(_ shape: [Int], _ seed: UInt64) -> Tensor { Fixtures.uniform(shape, seed: seed) }

    @Test func twoD() throws {
        try expectGradients([leaf([3, 4], 1), leaf([4, 5], 2)]) { try Tensor.matmul($0[0], $0[1]) }
        try expectGradients([leaf([1, 4], 3), leaf([4, 1], 4)], "row times column") { try Tensor.matmul($0[0], $0[1]) }
        try expectGradients([leaf([4, 1], 5), leaf([1, 3], 6)], "outer product") { try Tensor.matmul($0[0], $0[1]) }
        let fixed = leaf([4, 5], 7)
        fixed.requiresGrad = false
        try expectGradients([leaf([3, 4], 8)], "only a needs grad") { try Tensor.matmul($0[0], fixed) }
    }

    @Test func oneDPromotions() throws {
        try expectGradients([leaf([4], 10), leaf([4, 5], 11)], "[4] @ [4,5]") { try Tensor.matmul($0[0], $0[1]) }
        try expectGradients([leaf([3, 4], 12), leaf([4], 13)], "[3,4] @ [4]") { try Tensor.matmul($0[0], $0[1]) }
        try expectGradients([leaf([4], 14), leaf([2, 4, 3], 15)], "[4] @ [2,4,3]") { try Tensor.matmul($0[0], $0[1]) }
        try expectGradients([leaf([2, 3, 4], 16), leaf([4], 17)], "[2,3,4] @ [4]") { try Tensor.matmul($0[0], $0[1]) }
        try expectGradients([leaf([4], 18), leaf([4], 19)], "[4] @ [4]") { try Tensor.matmul($0[0], $0[1]) }
        #expect(try Tensor.matmul(Tensor([1, 2, 3]), Tensor([4, 5, 6])).shape == [])
        #expect(try Tensor.matmul(Tensor([1, 2]), Tensor([1, 2, 3, 4], shape: [2, 2])).shape == [2])
    }

    @Test func batchedWithBroadcastBatchDims() throws {
        try expectGradients([leaf([2, 3, 4], 20), leaf([2, 4, 5], 21)], "[2,3,4] @ [2,4,5]") { try Tensor.matmul($0[0], $0[1]) }
        try expectGradients([leaf([2, 3, 4], 22), leaf([4, 5], 23)], "[2,3,4] @ [4,5]") { try Tensor.matmul($0[0], $0[1]) }
        try expectGradients([leaf([3, 4], 24), leaf([2, 4, 5], 25)], "[3,4] @ [2,4,5]") { try Tensor.matmul($0[0], $0[1]) }
        try expectGradients([leaf([2, 1, 3, 4], 26), leaf([3, 4, 2], 27)], "[2,1,3,4] @ [3,4,2]") { try Tensor.matmul($0[0], $0[1]) }
        try expectGradients([leaf([1, 3, 4], 28), leaf([2, 1, 4, 2], 29)], "[1,3,4] @ [2,1,4,2]") { try Tensor.matmul($0[0], $0[1]) }
    }

    @Test func nonContiguousOperands() throws {
        // Transposed leaves go to BLAS as transpose flags.
        let ta = Fixtures.transposedLeaf([3, 4], seed: 30), tb = Fixtures.transposedLeaf([4, 5], seed: 31)
        try expectGradients([ta, tb], "transposed leaves") { try Tensor.matmul($0[0], $0[1]) }
        try expectGradients([leaf([4, 3], 32), leaf([5, 4], 33)], "transposes in graph") {
            try Tensor.matmul($0[0].transpose(), $0[1].transpose())
        }
        try expectGradients([leaf([2, 4, 3], 34), leaf([2, 4, 5], 35)], "batched a^T b") {
            try Tensor.matmul($0[0].transpose(), $0[1])
        }
        try expectGradients([leaf([3, 2, 4], 36), leaf([4, 5], 37)], "permuted batch dim") {
            try Tensor.matmul($0[0].permute([1, 0, 2]), $0[1])
        }
        // Stepped operands cannot be described by a leading dimension and are copied.
        let sa = Fixtures.steppedLeaf([3, 4], step: 2, seed: 38), sb = Fixtures.steppedLeaf([4, 2], step: 3, seed: 39)
        try expectGradients([sa, sb], "stepped leaves") { try Tensor.matmul($0[0], $0[1]) }
        try expectGradients([leaf([6, 4], 40), leaf([4, 5], 41)], "row slice with step") {
            try Tensor.matmul($0[0].slice(axis: 0, 0, 6, step: 2), $0[1])
        }
        try expectGradients([leaf([3, 4], 42), leaf([4, 10], 43)], "column slice with offset") {
            try Tensor.matmul($0[0], $0[1].slice(axis: 1, 2, 7))
        }
        let col = leaf([4, 1], 44)
        try expectGradients([leaf([3, 4], 45), col], "expanded operand") { try Tensor.matmul($0[0], $0[1].expand([4, 3])) }
    }

    @Test func sameLeafOnBothSides() throws {
        let a = leaf([3, 3], 46)
        try expectGradients([a]) { try Tensor.matmul($0[0], $0[0].transpose()) }
        try expectGradients([a]) { try Tensor.matmul($0[0], $0[0]) }
    }

    @Test func linear() throws {
        let x = leaf([4, 3], 50), w = leaf([5, 3], 51), b = leaf([5], 52)
        try expectGradients([x, w, b], "with bias") { try Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
        try expectGradients([x, w], "without bias") { try Tensor.linear($0[0], weight: $0[1], bias: nil) }
        let x3 = leaf([2, 3, 3], 53)
        try expectGradients([x3, w, b], "rank-3 input") { try Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
        let x1 = leaf([3], 54)
        try expectGradients([x1, w, b], "rank-1 input (gemv path)") { try Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
        let row = leaf([1, 3], 55)
        try expectGradients([row, w], "one row, no bias (gemv path)") { try Tensor.linear($0[0], weight: $0[1], bias: nil) }
        let tw = Fixtures.transposedLeaf([5, 3], seed: 56), tx = Fixtures.transposedLeaf([4, 3], seed: 57)
        try expectGradients([tx, tw, b], "strided input and weight") { try Tensor.linear($0[0], weight: $0[1], bias: $0[2]) }
        try expectGradients([tx, tw], "strided weight, one row") { try Tensor.linear($0[0].slice(axis: 0, 1, 2), weight: $0[1], bias: nil) }
        let constant = leaf([4, 3], 59)
        constant.requiresGrad = false
        try expectGradients([w, b], "constant input") { try Tensor.linear(constant, weight: $0[0], bias: $0[1]) }
        try expectGradients([leaf([3, 5], 58), x], "weight produced by an op") {
            try Tensor.linear($0[1], weight: $0[0].transpose(), bias: nil)
        }
    }

    @Test func linearAccumulatesIntoSharedLeafGradients() throws {
        // The weight and bias are used twice: the second backward contribution must add
        // to what the first wrote in place, not overwrite it.
        let x1 = leaf([4, 3], 60), x2 = leaf([1, 3], 61), w = leaf([2, 3], 62), b = leaf([2], 63)
        try expectGradients([x1, x2, w, b]) { v in
            let y1 = try Tensor.linear(v[0], weight: v[2], bias: v[3])
            let y2 = try Tensor.linear(v[1], weight: v[2], bias: v[3])
            return try y1.sum(axes: [0]) * 0.5 + y2.squeeze(0) * 3 + v[2].sum(axes: [1]) + v[3].square()
        }
        // A gradient already present (e.g. from an earlier step) is added to.
        let y = try Tensor.linear(x1, weight: w, bias: b).sum()
        w.grad = Tensor.full([2, 3], 10)
        b.grad = Tensor.full([2], 10)
        try y.backward()
        let xs = x1.scalars
        let colSums = (0..<3).map { c in (0..<4).map { xs[$0 * 3 + c] }.reduce(0, +) }
        assertClose(try #require(w.grad), (0..<2).flatMap { _ in colSums.map { 10 + $0 } }, atol: 1e-5)
        assertClose(try #require(b.grad), [14, 14])
    }
}
