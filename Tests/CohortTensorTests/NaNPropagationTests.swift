// Max/min (elementwise and reductions, SIMD body and scalar tail) propagate NaN,
// so a NaN reaching softmax or a loss is never silently dropped.
import Testing
@testable import CohortTensor

@Suite struct NaNPropagationTests {
    @Test func reductionsAndElementwiseKeepNaN() throws {
        for n in [5, 16, 37] {
            for pos in [0, n / 2, n - 1] {
                var v = (0..<n).map { Float($0) }
                v[pos] = .nan
                let t = try Tensor(v)
                #expect(try t.max().item().isNaN, "max n=\(n) pos=\(pos)")
                #expect(try t.min().item().isNaN, "min n=\(n) pos=\(pos)")
                let other = Tensor.zeros([n])
                #expect(try Tensor.maximum(t, other).scalars[pos].isNaN)
                #expect(try Tensor.maximum(other, t).scalars[pos].isNaN)
                #expect(try Tensor.minimum(other, t).scalars[pos].isNaN)
                #expect(try t.reshape([1, n]).softmax(axis: -1).scalars.allSatisfy { $0.isNaN })
            }
        }
    }
}
