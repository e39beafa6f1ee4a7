// Finite-difference checks of the broadcasting binary ops (tensor and scalar
// forms), maximum/minimum, pow, neg and where, on contiguous, broadcast and
// strided (transposed, stepped) inputs.
import Testing
@testable import CohortTensor
import CohortTestSupport

@Suite struct ArithmeticGradTests {
    typealias Op = @Sendable (Tensor, Tensor) throws -> Tensor
    static let ops: [(String, Op)] = [("add", { try $0 + $1 }), ("sub", { try $0 - $1 }),
                                      ("mul", { try $0 * $1 }), ("div", { try $0 / $1 })]

    /// Divisors stay in ±[0.5, 1.5] so 1/b is smooth at the scale of eps.
    func rhs(_ shape: [Int], seed: UInt64) -> Tensor { Fixtures.awayFromZero(shape, 0.5, 1.5, seed: seed) }

    @Test(arguments: 0..<4) func sameShape(op: Int) throws {
        let (name, f) = Self.ops[op]
        let a = Fixtures.uniform([2, 3], seed: 1), b = rhs([2, 3], seed: 2)
        try expectGradients([a, b], name) { try f($0[0], $0[1]) }
    }

    @Test(arguments: 0..<4) func broadcastBothWays(op: Int) throws {
        let (name, f) = Self.ops[op]
        // [3,1,4] with [2,1] -> [3,2,4]: each side is summed back over different axes.
        let a = rhs([3, 1, 4], seed: 3), b = rhs([2, 1], seed: 4)   // either may be the divisor
        try expectGradients([a, b], "\(name) [3,1,4] with [2,1]") { try f($0[0], $0[1]) }
        try expectGradients([b, a], "\(name) [2,1] with [3,1,4]") { try f($0[0], $0[1]) }
        // A rank-0 tensor that requires a gradient, and a [4] row vector.
        let s = rhs([], seed: 5), row = rhs([4], seed: 6)
        try expectGradients([a, s], "\(name) with scalar tensor") { try f($0[0], $0[1]) }
        try expectGradients([a, row], "\(name) with row") { try f($0[0], $0[1]) }
    }

    @Test(arguments: 0..<4) func stridedInputs(op: Int) throws {
        let (name, f) = Self.ops[op]
        let t = Fixtures.transposedLeaf([3, 4], seed: 7)
        let s = Fixtures.steppedLeaf([3, 4], step: 2, 0.5, 1.5, seed: 8)
        try expectGradients([t, s], "\(name) transposed with stepped leaf") { try f($0[0], $0[1]) }
        // Views made inside the graph: a transpose and a stepped slice of leaves.
        let a = Fixtures.uniform([4, 3], seed: 9), b = Fixtures.uniform([3, 8], 0.5, 1.5, seed: 10)
        try expectGradients([a, b], "\(name) of transpose and slice") {
            try f($0[0].transpose(), $0[1].slice(axis: 1, 1, 8, step: 2))
        }
        // A strided view broadcast against a column.
        let c = rhs([3, 1], seed: 11)
        try expectGradients([t, c], "\(name) transposed with column") { try f($0[0], $0[1]) }
    }

    @Test func sameTensorOnBothSides() throws {
        let x = Fixtures.awayFromZero([5], 0.5, 1.5, seed: 12)
        try expectGradients([x]) { try $0[0] * $0[0] }
        try expectGradients([x]) { try $0[0] / $0[0] + $0[0] - $0[0] * 2 }
    }

    @Test func scalarForms() throws {
        let x = Fixtures.awayFromZero([2, 3], 0.5, 1.5, seed: 13)
        let forms: [(String, (Tensor) throws -> Tensor)] = [
            ("x + 2", { try $0 + 2 }), ("2 + x", { try 2 + $0 }), ("x - 2", { try $0 - 2 }), ("2 - x", { try 2 - $0 }),
            ("x * 3", { try $0 * 3 }), ("3 * x", { try 3 * $0 }), ("x / 4", { try $0 / 4 }), ("4 / x", { try 4 / $0 }),
            ("-x", { -$0 }),
        ]
        for (name, f) in forms { try expectGradients([x], name) { try f($0[0]) } }
        try expectGradients([Fixtures.transposedLeaf([3, 2], seed: 14)], "-x strided") { -$0[0] }
    }

    @Test func maximumAndMinimum() throws {
        // a and b differ by at least 0.1 everywhere, so no element sits within eps of a tie.
        let both = Fixtures.distinct([2, 2, 3], seed: 15, requiresGrad: false).scalars
        let a = try Tensor(Array(both[..<6]), shape: [2, 3], requiresGrad: true)
        let b = try Tensor(Array(both[6...]), shape: [2, 3], requiresGrad: true)
        try expectGradients([a, b], "maximum") { try Tensor.maximum($0[0], $0[1]) }
        try expectGradients([a, b], "minimum") { try Tensor.minimum($0[0], $0[1]) }
        let row = try Tensor([-0.35, 0.05, 0.45], requiresGrad: true)   // broadcast against a: no ties
        try expectGradients([a, row], "maximum broadcast") { try Tensor.maximum($0[0], $0[1]) }
        try expectGradients([row, a], "minimum broadcast") { try Tensor.minimum($0[0], $0[1]) }
        let t = Fixtures.transposedLeaf([3, 2], seed: 16)
        let apart = try Tensor(zip(t.scalars, [0.3, -0.3, 0.2, -0.2, 0.25, -0.25]).map { $0 + $1 }, shape: [3, 2], requiresGrad: true)
        try expectGradients([t, apart], "maximum strided") { try Tensor.maximum($0[0], $0[1]) }
        try expectGradients([apart, t], "minimum strided") { try Tensor.minimum($0[0], $0[1]) }
    }

    @Test func maximumTiesGoToTheFirstOperand() throws {
        let a = try Tensor([1, 2, 3], requiresGrad: true), b = try Tensor([1, 0, 3], requiresGrad: true)
        try Tensor.maximum(a, b).sum().backward()
        #expect(a.grad?.scalars == [1, 1, 1] && b.grad?.scalars == [0, 0, 0])
    }

    @Test func powTensorExponent() throws {
        let base = Fixtures.uniform([2, 3], 0.5, 2, seed: 18), exponent = Fixtures.uniform([2, 3], -1.5, 2, seed: 19)
        try expectGradients([base, exponent], "pow same shape") { try Tensor.pow($0[0], $0[1]) }
        let row = Fixtures.uniform([3], -1, 2.5, seed: 20)
        try expectGradients([base, row], "pow broadcast exponent") { try Tensor.pow($0[0], $0[1]) }
        let col = Fixtures.uniform([2, 1], 0.5, 2, seed: 21)
        try expectGradients([col, exponent], "pow broadcast base") { try Tensor.pow($0[0], $0[1]) }
        let t = Fixtures.transposedLeaf([3, 2], 0.5, 2, seed: 22)
        try expectGradients([t, Fixtures.steppedLeaf([3, 2], seed: 23)], "pow strided") { try Tensor.pow($0[0], $0[1]) }
        // A negative base with a constant integer exponent: only the base needs a gradient.
        let neg = Fixtures.uniform([4], -2, -0.5, seed: 24)
        try expectGradients([neg], "pow negative base") { try Tensor.pow($0[0], Tensor([3])) }
    }

    @Test func whereSelects() throws {
        let cond = try Tensor([1, 0, 1, 0, 0, 1], shape: [2, 3])
        let a = Fixtures.uniform([2, 3], seed: 25), b = Fixtures.uniform([2, 3], seed: 26)
        try expectGradients([a, b], "where") { try Tensor.where(cond, $0[0], $0[1]) }
        let row = Fixtures.uniform([3], seed: 27), colCond = try Tensor([0, 1], shape: [2, 1])
        try expectGradients([a, row], "where broadcast b and condition") { try Tensor.where(colCond, $0[0], $0[1]) }
        try expectGradients([row, Fixtures.uniform([2, 1], seed: 28)], "where broadcast a and b") {
            try Tensor.where(cond, $0[0], $0[1])
        }
        let t = Fixtures.transposedLeaf([2, 3], seed: 29)
        try expectGradients([t, b], "where strided") { try Tensor.where(cond, $0[0], $0[1]) }
        #expect(try Tensor.where(cond, Tensor.ones([2, 3]), Tensor.zeros([3])).scalars == cond.scalars)
    }

    @Test func comparisonsAreNotDifferentiable() throws {
        let a = Fixtures.uniform([3], seed: 30), b = Fixtures.uniform([3], seed: 31)
        for r in [try a.lt(b), try a.le(b), try a.gt(b), try a.ge(b), try a.eq(b), try a.ne(b)] {
            #expect(!r.requiresGrad)
        }
        #expect(try Tensor([1, 2, 3]).lt(Tensor([2])).scalars == [1, 0, 0])
        #expect(try Tensor([1, 2, 3]).ge(Tensor([2])).scalars == [0, 1, 1])
    }
}
