// Double backward through softmax, log-softmax, the fused cross-entropy (label
// smoothing, ignore-index, both reductions), MSE, GELU and layer norm: Hessians
// against central differences of the first-order gradient and, where a closed
// form exists, against Float64; an MLP's Hessian-vector product against differences.
import Foundation
import Testing
@testable import CohortTensor
import CohortCalculus
import CohortNN

@Suite struct DoubleBackwardLossTests {
    typealias Scalar = @Sendable (Tensor) throws -> Tensor

    /// Scalar functions of x: [2, 3] through each op that gained a rule. Products with
    /// x-dependent factors make the incoming gradient itself depend on x.
    static let cases: [(String, Scalar)] = [
        ("softmax last axis", { x in try (x.softmax(axis: 1) * coefficients()).sum() + x.softmax().square().sum() }),
        ("softmax axis 0", { x in try (x.softmax(axis: 0) * coefficients()).sum() * x.mean() }),
        ("logSoftmax", { x in try (x.logSoftmax(axis: 1) * coefficients()).sum() + x.logSoftmax(axis: 0).square().sum() }),
        ("crossEntropy mean", { x in try Tensor.crossEntropy(x, targets: [2, 0]) }),
        ("crossEntropy smoothing sum", { x in try Tensor.crossEntropy(x, targets: [1, 0], labelSmoothing: 0.2, reduction: .sum) }),
        ("crossEntropy ignore + smoothing", { x in
            try Tensor.crossEntropy(x.reshape([3, 2]), targets: [1, -100, 0], labelSmoothing: 0.1)
        }),
        ("crossEntropy custom ignore × x", { x in
            try Tensor.crossEntropy(x, targets: [7, 1], labelSmoothing: 0.3, ignoreIndex: 7) * x.square().mean()
        }),
        ("mse", { x in try Loss.mse(x.tanh(), coefficients()) + Loss.mse(x.square(), coefficients(), reduction: .sum) }),
        ("gelu", { x in try (x.gelu() * coefficients()).sum() + x.gelu().square().sum() }),
        ("layerNorm weight + bias", { x in
            let w = try Tensor([1.2, -0.4, 0.9]), b = try Tensor([0.1, 0.2, -0.3])
            return try (Tensor.layerNorm(x, weight: w, bias: b) * coefficients()).sum() + Tensor.layerNorm(x, weight: nil, bias: nil).exp().sum()
        }),
        ("layerNorm, x is input, weight and bias", { x in
            let input = try x.slice(axis: 0, 0, 1), w = try x.slice(axis: 0, 1, 2).reshape([3])
            let y = try Tensor.layerNorm(input, weight: w, bias: w * 0.5, eps: 1e-3)
            return try (y * y * coefficients().slice(axis: 0, 0, 1)).sum()
        }),
    ]

    /// Moderate values (GELU's curvature is near 0; logits of both signs).
    static func point() throws -> Tensor { try Tensor([-1.2, 0.35, 1.4, 0.8, -0.45, 0.1], shape: [2, 3]) }

    /// Column j of the Hessian by the five-point stencil (step `h`) on autograd's gradient:
    /// (8(g(x+h) − g(x−h)) − (g(x+2h) − g(x−2h))) / 12h, truncation error O(h⁴).
    static func numericHessian(_ f: Scalar, at x: Tensor, h: Float = 1e-2) throws -> [[Double]] {
        let v = x.scalars
        return try v.indices.map { j in
            func at(_ k: Float) throws -> [Double] {
                var p = v
                p[j] += k * h
                return try gradient(f, p, x.shape)
            }
            let (p1, m1, p2, m2) = (try at(1), try at(-1), try at(2), try at(-2))
            return (0..<v.count).map { (8 * (p1[$0] - m1[$0]) - (p2[$0] - m2[$0])) / (12 * Double(h)) }
        }
    }

    /// First-order gradient (the fast kernels, no graph) at `values`.
    static func gradient(_ f: (Tensor) throws -> Tensor, _ values: [Float], _ shape: [Int]) throws -> [Double] {
        let t = try Tensor(values, shape: shape, requiresGrad: true)
        return try Autograd.gradients(of: f(t), withRespectTo: [t])[0].scalars.map(Double.init)
    }

    // Five-point differences with h = 1e-2 in Float32: truncation h⁴/30·|f⁽⁵⁾| ≈ 3e-10·|f⁽⁵⁾|
    // is negligible; rounding ≈ 18·2⁻²⁴·|∇f|/(12h) ≈ 1e-5·|∇f| dominates (|∇f| ≲ 10 here).
    // The measured worst error per case is printed; 2e-4 leaves ~4× margin over it (5e-5, layer norm).
    @Test(arguments: 0..<cases.count)
    func hessianMatchesDifferencesOfTheGradient(_ i: Int) throws {
        let (name, f) = Self.cases[i]
        let x = try Self.point()
        let h = try Derivatives.hessian(of: f, at: x).scalars.map(Double.init)
        let numeric = try Self.numericHessian(f, at: x)
        let n = x.count
        var worst = 0.0
        for r in 0..<n {
            for c in 0..<n {
                let (a, e) = (h[r * n + c], numeric[c][r])
                let err = Swift.abs(a - e) / Swift.max(1, Swift.abs(e))
                worst = Swift.max(worst, err)
                #expect(err <= 2e-4, "\(name): H[\(r), \(c)] = \(a), differences give \(e)")
            }
        }
        #expect(h.contains { $0 != 0 }, "\(name): the Hessian is identically zero")
        print("DoubleBackwardLossTests \(name): worst relative Hessian error vs differences \(worst)")
    }

    @Test func crossEntropyHessianIsTheSoftmaxCovarianceInFloat64() throws {
        // H = Σ_counted rows (diag(p) − ppᵀ)/N, independent of targets and smoothing; ignored rows give 0.
        let x = try Self.point()
        let f: Scalar = { try Tensor.crossEntropy($0.reshape([3, 2]), targets: [1, -100, 0], labelSmoothing: 0.1) }
        let h = try Derivatives.hessian(of: f, at: x).scalars.map(Double.init)
        let v = x.scalars.map(Double.init)
        var expected = [Double](repeating: 0, count: 36)
        for row in [0, 2] {
            let e = [v[2 * row], v[2 * row + 1]].map { exp($0) }
            let p = e.map { $0 / (e[0] + e[1]) }
            for a in 0..<2 { for b in 0..<2 { expected[(2 * row + a) * 6 + 2 * row + b] = ((a == b ? p[a] : 0) - p[a] * p[b]) / 2 } }
        }
        for k in 0..<36 { #expect(Swift.abs(h[k] - expected[k]) <= 1e-6, "H[\(k / 6), \(k % 6)] = \(h[k]), Float64 gives \(expected[k])") }
    }

    @Test func geluSecondDerivativeMatchesTheClosedFormInFloat64() throws {
        // d²/dx² xΦ(x) = φ(x)(2 − x²).
        let x = try Tensor([-3, -1.2, -0.3, 0, 0.5, 1.4, 2.5])
        let h = try Derivatives.hessian(of: { try $0.gelu().sum() }, at: x).scalars.map(Double.init)
        let n = x.count
        for (i, xi) in x.scalars.map(Double.init).enumerated() {
            let expected = exp(-xi * xi / 2) / (2 * Double.pi).squareRoot() * (2 - xi * xi)
            #expect(Swift.abs(h[i * n + i] - expected) <= 2e-6, "gelu''(\(xi)) = \(h[i * n + i]), expected \(expected)")
            for j in 0..<n where j != i { #expect(h[i * n + j] == 0) }
        }
    }

    @Test func geluThirdDerivativeThroughTwoCreateGraphPasses() throws {
        // The GELU rule is itself differentiable: d³/dx³ xΦ(x) = φ(x)(x³ − 4x).
        let x = try Tensor([-1.5, 0.4, 2], requiresGrad: true)
        let g1 = try Autograd.gradients(of: x.gelu().sum(), withRespectTo: [x], createGraph: true)[0]
        let g2 = try Autograd.gradients(of: g1.sum(), withRespectTo: [x], createGraph: true)[0]
        let g3 = try Autograd.gradients(of: g2.sum(), withRespectTo: [x])[0].scalars
        for (i, xi) in x.scalars.map(Double.init).enumerated() {
            let expected = exp(-xi * xi / 2) / (2 * Double.pi).squareRoot() * (xi * xi * xi - 4 * xi)
            #expect(Swift.abs(Double(g3[i]) - expected) <= 1e-5, "gelu'''(\(xi)) = \(g3[i]), expected \(expected)")
        }
    }

    @Test func createGraphGradientsEqualTheFastKernels() throws {
        // The rules reproduce the fused backward (same smoothing, ignore-index and divisor).
        let x = try Tensor([0.3, -1.1, 2.0, 0.5, 0.9, -0.2, 1.7, -0.8, 0.0, 1.1, -1.4, 0.6], shape: [3, 4], requiresGrad: true)
        let w = try Tensor([1.1, 0.8, -0.5, 1.3]), b = try Tensor([0.2, -0.1, 0.0, 0.3])
        let fs: [(String, () throws -> Tensor)] = [
            ("crossEntropy", { try Tensor.crossEntropy(x, targets: [3, 5, 0], labelSmoothing: 0.15, ignoreIndex: 5) }),
            ("softmax", { try (x.softmax(axis: 0) * x.detached()).sum() }),
            ("logSoftmax", { try (x.logSoftmax() * x.detached()).sum() }),
            ("gelu", { try (x.gelu() * x.detached()).sum() }),
            ("layerNorm", { try (Tensor.layerNorm(x, weight: w, bias: b) * x.detached()).sum() }),
        ]
        for (name, f) in fs {
            let fast = try Autograd.gradients(of: f(), withRespectTo: [x])[0].scalars
            let ruled = try Autograd.gradients(of: f(), withRespectTo: [x], createGraph: true)[0].scalars
            for (a, e) in zip(ruled, fast) { #expect(Swift.abs(a - e) <= 1e-5 * Swift.max(1, Swift.abs(e)), "\(name): \(a) vs \(e)") }
        }
    }

    @Test func mlpCrossEntropyHessianVectorProductMatchesDifferences() throws {
        // 3 → 4 (gelu) → layer norm → 3 classes, parameters packed in one vector of 37.
        let inputs = try Tensor([0.5, -1.0, 0.3, 1.2, 0.1, -0.7, -0.4, 0.8, 0.9, 0.0, -1.3, 0.6, 0.7, 0.2, -0.2], shape: [5, 3])
        let targets = [0, 2, 1, -100, 2]
        let loss: (Tensor) throws -> Tensor = { p in
            let w1 = try p.slice(axis: 0, 0, 12).reshape([4, 3]), b1 = try p.slice(axis: 0, 12, 16)
            let g = try p.slice(axis: 0, 16, 20), w2 = try p.slice(axis: 0, 20, 32).reshape([3, 4])
            let b2 = try p.slice(axis: 0, 32, 35), extra = try p.slice(axis: 0, 35, 37)
            let h = try Tensor.layerNorm(Tensor.linear(inputs, weight: w1, bias: b1).gelu(), weight: g, bias: nil)
            return try Tensor.crossEntropy(Tensor.linear(h, weight: w2, bias: b2), targets: targets, labelSmoothing: 0.1)
                + extra.square().sum() * 0.01
        }
        var rng = RandomGenerator(seed: 11)
        let p = Tensor.randn([37], std: 0.6, generator: &rng), v = Tensor.randn([37], generator: &rng)
        let hv = try Derivatives.hessianVectorProduct(of: loss, at: p, v).scalars.map(Double.init)
        // Five-point differences of the gradient along v (h = 1e-2), as for the Hessians above.
        let (ps, vs, h): ([Float], [Float], Float) = (p.scalars, v.scalars, 1e-2)
        func gradient(at k: Float) throws -> [Double] {
            let shifted: [Float] = (0..<37).map { ps[$0] + k * h * vs[$0] }
            return try Self.gradient(loss, shifted, [37])
        }
        let (p1, m1, p2, m2) = (try gradient(at: 1), try gradient(at: -1), try gradient(at: 2), try gradient(at: -2))
        let numeric: [Double] = (0..<37).map { i in (8 * (p1[i] - m1[i]) - (p2[i] - m2[i])) / (12 * Double(h)) }
        let scale = numeric.map(Swift.abs).max()!
        var worst = 0.0
        for i in 0..<37 {
            worst = Swift.max(worst, Swift.abs(hv[i] - numeric[i]) / scale)
            #expect(Swift.abs(hv[i] - numeric[i]) <= 1e-4 * scale, "(Hv)[\(i)] = \(hv[i]), differences give \(numeric[i])")
        }
        #expect(scale > 0.01)
        print("DoubleBackwardLossTests MLP: ‖Hv‖∞ \(scale), worst error relative to it \(worst)")
    }
}

/// Fixed coefficients [2, 3] that weight outputs unevenly (so Hessians are not symmetric in the classes).
private func coefficients() throws -> Tensor { try Tensor([0.7, -1.3, 0.4, 2.1, -0.6, 1.5], shape: [2, 3]) }
