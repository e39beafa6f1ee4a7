// batchNorm: values against the definition, finite-difference gradients in
// training mode (through the batch statistics) and evaluation mode, for
// [N, C], [N, C, L] and [N, C, H, W]; running-statistics updates; errors.
import CohortCore
@testable import CohortTensor
import CohortTestSupport
import Testing

@Suite struct ConvNormGradTests {
    /// (x - mean) / sqrt(var + eps) · w + b with statistics over every axis but 1.
    func reference(_ x: Tensor, _ w: Tensor, _ b: Tensor, mean: [Float]? = nil, variance: [Float]? = nil, eps: Float = 1e-5) -> [Float] {
        let C = x.shape[1], S = x.shape.dropFirst(2).reduce(1, *), N = x.shape[0]
        let xs = x.scalars, ws = w.scalars, bs = b.scalars
        var out = xs
        for c in 0..<C {
            var vals: [Double] = []
            for n in 0..<N { for s in 0..<S { vals.append(Double(xs[(n * C + c) * S + s])) } }
            let m = mean.map { Double($0[c]) } ?? vals.reduce(0, +) / Double(vals.count)
            let v = variance.map { Double($0[c]) } ?? vals.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(vals.count)
            for n in 0..<N {
                for s in 0..<S {
                    let i = (n * C + c) * S + s
                    out[i] = Float((Double(xs[i]) - m) / (v + Double(eps)).squareRoot() * Double(ws[c]) + Double(bs[c]))
                }
            }
        }
        return out
    }

    @Test(arguments: [[6, 3], [3, 2, 5], [2, 3, 3, 4], [4, 2, 1, 1]])
    func trainingValuesAndGradients(_ shape: [Int]) throws {
        let C = shape[1]
        let x = Fixtures.uniform(shape, -2, 2, seed: 1), w = Fixtures.uniform([C], 0.5, 1.5, seed: 2), b = Fixtures.uniform([C], seed: 3)
        let y = try Tensor.batchNorm(x, runningMean: nil, runningVar: nil, weight: w, bias: b, training: true)
        assertClose(y.scalars, reference(x, w, b), atol: 1e-5, rtol: 1e-4)
        try expectGradients([x, w, b], "shape \(shape)") {
            try Tensor.batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true)
        }
        // Without affine parameters.
        try expectGradients([x], "no affine, shape \(shape)") {
            try Tensor.batchNorm($0[0], runningMean: nil, runningVar: nil, weight: nil, bias: nil, training: true)
        }
    }

    @Test(arguments: [[5, 3], [2, 3, 3, 4]])
    func evaluationUsesRunningStatistics(_ shape: [Int]) throws {
        let C = shape[1]
        let x = Fixtures.uniform(shape, -2, 2, seed: 4), w = Fixtures.uniform([C], 0.5, 1.5, seed: 5), b = Fixtures.uniform([C], seed: 6)
        let rm = Fixtures.uniform([C], seed: 7, requiresGrad: false), rv = Fixtures.uniform([C], 0.5, 2, seed: 8, requiresGrad: false)
        let (m0, v0) = (rm.scalars, rv.scalars)
        let y = try Tensor.batchNorm(x, runningMean: rm, runningVar: rv, weight: w, bias: b, training: false)
        assertClose(y.scalars, reference(x, w, b, mean: m0, variance: v0), atol: 1e-5, rtol: 1e-4)
        #expect(rm.scalars == m0 && rv.scalars == v0, "evaluation leaves the running statistics alone")
        try expectGradients([x, w, b]) {
            try Tensor.batchNorm($0[0], runningMean: rm, runningVar: rv, weight: $0[1], bias: $0[2], training: false)
        }
    }

    @Test func trainingUpdatesRunningStatistics() throws {
        let x = Fixtures.uniform([4, 2, 3, 3], -2, 2, seed: 9, requiresGrad: false)
        let rm = Tensor.zeros([2]), rv = Tensor.ones([2])
        _ = try Tensor.batchNorm(x, runningMean: rm, runningVar: rv, weight: nil, bias: nil, training: true, momentum: 0.25)
        let xs = x.scalars
        for c in 0..<2 {
            var vals: [Double] = []
            for n in 0..<4 { for s in 0..<9 { vals.append(Double(xs[(n * 2 + c) * 9 + s])) } }
            let m = vals.reduce(0, +) / 36
            let unbiased = vals.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 35
            assertClose(rm.scalars[c], Float(0.25 * m), atol: 1e-6)
            assertClose(rv.scalars[c], Float(0.75 + 0.25 * unbiased), atol: 1e-5)
        }
    }

    @Test func errors() {
        #expect(throws: CohortError.self) {
            try Tensor.batchNorm(Tensor.ones([1, 3]), runningMean: nil, runningVar: nil, weight: nil, bias: nil, training: true)
        }
        do {
            _ = try Tensor.batchNorm(Tensor.ones([4, 3, 2, 2]), runningMean: nil, runningVar: nil, weight: Tensor.ones([4]),
                                     bias: nil, training: true)
            Issue.record("expected a shape error")
        } catch {
            #expect("\(error)".contains("[4, 3, 2, 2]") && "\(error)".contains("weight [4]"))
        }
        #expect(throws: CohortError.self) {
            try Tensor.batchNorm(Tensor.ones([4, 3]), runningMean: Tensor.zeros([3]), runningVar: nil, weight: nil, bias: nil, training: false)
        }
    }
}
