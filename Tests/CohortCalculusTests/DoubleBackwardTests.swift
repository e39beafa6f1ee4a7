// Higher-order autograd: Autograd.gradients leaves .grad alone; Hessians and
// Hessian-vector products of each supported op match central differences of
// the (first-order) gradient; unsupported ops throw naming the op.
import CohortCalculus
import CohortCore
@testable import CohortTensor
import CohortTestSupport
import Testing

@Suite struct DoubleBackwardTests {
    typealias Scalar = @Sendable (Tensor) throws -> Tensor

    /// Scalar functions of x ∈ [2, 3] (positive, away from kinks) covering every op with a rule.
    static let cases: [(String, Scalar)] = [
        ("add/mul broadcast", { x in try (x * x + Tensor([0.5, -1, 2], shape: [1, 3])).mul(x).sum() }),
        ("sub/div", { x in try ((x - 1) / (x + x * x)).sum() }),
        ("neg/exp/log", { x in try (-(x / 4)).exp().sum() + x.log().square().sum() }),
        ("sqrt/square/pow", { x in try x.sqrt().sum() * x.square().mean() + x.pow(3).sum() / 10 + Tensor.pow(x, x / 4).sum() }),
        ("tanh/sigmoid/relu", { x in try ((x - 2.5).tanh() * (x - 2.4).sigmoid() + (x - 2.5).relu() * x).sum() }),
        ("reciprocal/abs/clamp/max", { x in try (x.reciprocal() * (x - 2.5).abs() + x.clamp(max: 2.5) * x + Tensor.maximum(x, x.square() / 3)).sum() }),
        ("sum/mean axes", { x in try x.sum(axes: [1]).square().sum() + x.mean(axes: [0], keepDims: true).exp().sum() }),
        ("shape ops", { x in
            let t = try x.reshape([3, 2]).transpose(0, 1).unsqueeze(0).squeeze(0)
            let s = try Tensor.concat([t.slice(axis: 1, 0, 3, step: 2), x.expand([2, 2, 3]).sum(axes: [0])], axis: 1)
            return try (s * s * s).sum()
        }),
        ("matmul/linear", { x in
            let w = try Tensor([0.3, -0.2, 0.5, 0.1, 0.4, -0.6], shape: [2, 3])
            let m = try Tensor.matmul(x, x.transpose(0, 1))
            return try (m.square().sum() + Tensor.linear(x, weight: w, bias: Tensor([0.1, 0.2])).tanh().sum())
        }),
    ]

    func point() throws -> Tensor { try Tensor([2.1, 2.35, 2.6, 2.9, 2.2, 2.75], shape: [2, 3]) }

    /// Central differences of autograd's gradient: column j of the Hessian.
    func numericHessian(_ f: Scalar, at x: Tensor, eps: Float = 1e-2) throws -> [[Double]] {
        func grad(_ v: [Float]) throws -> [Double] {
            let t = try Tensor(v, shape: x.shape, requiresGrad: true)
            return try Autograd.gradients(of: f(t), withRespectTo: [t])[0].scalars.map(Double.init)
        }
        let v = x.scalars
        return try v.indices.map { j in
            var up = v, down = v
            up[j] += eps; down[j] -= eps
            return zip(try grad(up), try grad(down)).map { ($0 - $1) / Double(up[j] - down[j]) }
        }
    }

    @Test(arguments: 0..<cases.count)
    func hessianMatchesDifferencesOfTheGradient(_ i: Int) throws {
        let (name, f) = Self.cases[i]
        let x = try point()
        let h = try Derivatives.hessian(of: f, at: x).scalars.map(Double.init)
        let numeric = try numericHessian(f, at: x)
        let n = x.count
        #expect(h.count == n * n)
        for r in 0..<n {
            for c in 0..<n {
                let (a, e) = (h[r * n + c], numeric[c][r])
                #expect(Swift.abs(a - e) <= 2e-2 * Swift.max(1, Swift.abs(e)), "\(name): H[\(r), \(c)] = \(a), differences give \(e)")
            }
        }
        // Hessian-vector product agrees with the Hessian times v.
        let v = try Tensor([1, -2, 0.5, 0.25, -1, 3], shape: x.shape)
        let hv = try Derivatives.hessianVectorProduct(of: f, at: x, v).scalars.map(Double.init)
        for r in 0..<n {
            let expected = (0..<n).reduce(0.0) { $0 + h[r * n + $1] * Double(v.scalars[$1]) }
            #expect(Swift.abs(hv[r] - expected) <= 1e-3 * Swift.max(1, Swift.abs(expected)), "\(name): (Hv)[\(r)]")
        }
    }

    @Test func closedFormHessianOfACubic() throws {
        // f = Σ x³ + x₀x₁: H = diag(6x) + [[0, 1], [1, 0]].
        let h = try Derivatives.hessian(of: { x in try x.pow(3).sum() + (x.slice(axis: 0, 0, 1) * x.slice(axis: 0, 1, 2)).sum() },
                                        at: Tensor([2, -1])).scalars
        #expect(h == [12, 1, 1, -6])
    }

    @Test func jacobianOfAnElementwiseMapIsDiagonal() throws {
        let x = try Tensor([0.5, 1, 2])
        let j = try Derivatives.jacobian(of: { try $0 * $0 * 3 }, at: x)
        #expect(j.shape == [3, 3] && j.scalars == [3, 0, 0, 0, 6, 0, 0, 0, 12])
        let lin = try Derivatives.jacobian(of: { try Tensor.matmul(Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]), $0) }, at: x)
        #expect(lin.scalars == [1, 2, 3, 4, 5, 6])
    }

    @Test func gradientsDoNotTouchLeafGradients() throws {
        let x = try Tensor([1, 2], requiresGrad: true)
        let w = try Tensor([[3, 4]].flatMap { $0 }, shape: [1, 2], requiresGrad: true)
        let y = try Tensor.linear(x.reshape([1, 2]), weight: w, bias: nil).sum()   // linear would accumulate into w.grad in place
        let g = try Autograd.gradients(of: y, withRespectTo: [x, w])
        #expect(g[0].scalars == [3, 4] && g[1].scalars == [1, 2])
        #expect(x.grad == nil && w.grad == nil)
        #expect(!g[0].requiresGrad)
    }

    @Test func gradientsOfAnIntermediateAndUnusedInputs() throws {
        let x = try Tensor([1, 2, 3], requiresGrad: true), unused = Tensor.ones([2], requiresGrad: true)
        let h = x.square()
        let y = try (h * 2).sum()
        let g = try Autograd.gradients(of: y, withRespectTo: [h, x, unused])
        #expect(g[0].scalars == [2, 2, 2] && g[1].scalars == [4, 8, 12] && g[2].scalars == [0, 0])
    }

    @Test func unsupportedOpsThrowNamingTheOp() throws {
        let x = try Tensor([0.5, -0.3, 1.2], requiresGrad: true)
        #expect {
            try Derivatives.hessian(of: { try $0.max() * $0.sum() }, at: x)
        } throws: { "\($0)".hasPrefix("double backward is not supported for max") }
        #expect {
            try Derivatives.hessian(of: { try Tensor.nllLoss($0.reshape([1, 3]).logSoftmax(), targets: [1]) + $0.square().sum() }, at: x)
        } throws: { "\($0)".hasPrefix("double backward is not supported for gather") }
        // First order through the same op still works.
        #expect(try Autograd.gradients(of: x.max() * x.sum(), withRespectTo: [x])[0].count == 3)
    }

    @Test func misuseIsReported() throws {
        let c = try Tensor([1, 2])
        #expect(throws: CohortError.invalidArgument("Autograd.gradients: input 0 (shape [2]) does not require a gradient")) {
            try Autograd.gradients(of: Tensor.ones([1], requiresGrad: true), withRespectTo: [c])
        }
        #expect(throws: CohortError.invalidArgument("hessian: f must return one element, got shape [2]")) {
            try Derivatives.hessian(of: { $0.exp() }, at: c)
        }
        let x = try Tensor([1, 2], requiresGrad: true)
        let y = try (x * x).sum()
        _ = try Autograd.gradients(of: y, withRespectTo: [x])              // frees the graph (retainGraph defaults to false)
        #expect(throws: CohortError.self) { try Autograd.gradients(of: y, withRespectTo: [x]) }
    }
}

extension Tensor {
    fileprivate func mul(_ o: Tensor) throws -> Tensor { try self * o }
}
