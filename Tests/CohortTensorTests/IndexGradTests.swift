// Finite-difference and value checks of indexSelect, gather and scatterAdd,
// with repeated indices (whose gradients must accumulate) and strided inputs.
import CohortCore
@testable import CohortTensor
import CohortTestSupport
import Testing

@Suite struct IndexGradTests {
    @Test func indexSelect() throws {
        let x = Fixtures.uniform([4, 3], seed: 1)
        try expectGradients([x], "axis 0 with repeats") { try $0[0].indexSelect(axis: 0, [2, 0, 2, 3]) }
        let y = Fixtures.uniform([2, 4, 3], seed: 2)
        try expectGradients([y], "middle axis of rank 3") { try $0[0].indexSelect(axis: 1, [3, 3, 1]) }
        try expectGradients([y], "last axis") { try $0[0].indexSelect(axis: -1, [2, 0]) }
        let t = Fixtures.transposedLeaf([4, 3], seed: 3)
        try expectGradients([t], "strided leaf") { try $0[0].indexSelect(axis: 0, [1, 1, 3]) }
        let v = try Tensor([10, 11, 12, 13, 14, 15], shape: [3, 2]).indexSelect(axis: 0, [2, 0, 2])
        #expect(v.shape == [3, 2] && v.scalars == [14, 15, 10, 11, 14, 15])
    }

    @Test func gather() throws {
        let x = Fixtures.uniform([3, 4], seed: 4)
        let cols = try Tensor([3, 0, 1, 1, 2, 2], shape: [3, 2])
        try expectGradients([x], "axis 1 with repeats") { try $0[0].gather(axis: 1, index: cols) }
        let rows = try Tensor([2, 0, 2, 1, 0, 0, 1, 2], shape: [2, 4])
        try expectGradients([x], "axis 0") { try $0[0].gather(axis: 0, index: rows) }
        let y = Fixtures.uniform([2, 3, 4], seed: 5)
        let mid = try Tensor([0, 2, 2, 1, 1, 0, 0, 1], shape: [2, 1, 4])
        try expectGradients([y], "rank 3 middle axis") { try $0[0].gather(axis: 1, index: mid) }
        let t = Fixtures.transposedLeaf([3, 4], seed: 6)
        try expectGradients([t], "strided leaf") { try $0[0].gather(axis: -1, index: cols) }
        let g = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]).gather(axis: 1, index: Tensor([2, 2, 0, 1], shape: [2, 2]))
        #expect(g.scalars == [3, 3, 4, 5])
    }

    @Test func scatterAdd() throws {
        let base = Fixtures.uniform([3, 4], seed: 7), src = Fixtures.uniform([2, 4], seed: 8)
        let index = try Tensor([0, 2, 2, 1, 0, 0, 1, 2], shape: [2, 4])
        try expectGradients([base, src], "axis 0") { try $0[0].scatterAdd(axis: 0, index: index, source: $0[1]) }
        let colIndex = try Tensor([3, 3, 0, 1, 1, 1], shape: [3, 2])
        let src2 = Fixtures.uniform([3, 2], seed: 9)
        try expectGradients([base, src2], "axis 1 with repeats") { try $0[0].scatterAdd(axis: 1, index: colIndex, source: $0[1]) }
        let t = Fixtures.transposedLeaf([3, 4], seed: 10), st = Fixtures.transposedLeaf([3, 2], seed: 11)
        try expectGradients([t, st], "strided self and source") { try $0[0].scatterAdd(axis: 1, index: colIndex, source: $0[1]) }
        let fixedBase = Fixtures.uniform([3, 4], seed: 12, requiresGrad: false)
        try expectGradients([src2], "source only") { try fixedBase.scatterAdd(axis: -1, index: colIndex, source: $0[0]) }
        let r = try Tensor.zeros([2, 3]).scatterAdd(axis: 1, index: Tensor([2, 2, 0, 1], shape: [2, 2]),
                                                    source: Tensor([1, 2, 3, 4], shape: [2, 2]))
        #expect(r.scalars == [0, 0, 3, 3, 4, 0])
    }

    @Test func badIndicesAreReportedWithTheirPosition() throws {
        let x = try Tensor([1, 2, 3, 4], shape: [2, 2])
        #expect { try x.indexSelect(axis: 0, [0, 2]) } throws: { "\($0)".contains("index 2 at position 1") }
        #expect { try x.gather(axis: 1, index: Tensor([0, 1, 5, 0], shape: [2, 2])) } throws: { "\($0)".contains("position 2") }
        #expect { try x.gather(axis: 1, index: Tensor([0.5, 1], shape: [2, 1])) } throws: { $0 is CohortError }
        #expect { try x.scatterAdd(axis: 0, index: Tensor([-1, 0], shape: [1, 2]), source: Tensor([1, 1], shape: [1, 2])) }
            throws: { "\($0)".contains("-1") }
    }
}
