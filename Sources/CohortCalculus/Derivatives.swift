// Jacobians, Hessian-vector products and Hessians of tensor functions, built on
// `Autograd.gradients` (double backward with `createGraph: true`). Values are
// Float32, like every Tensor; x is copied into a fresh leaf, never modified.
import CohortCore
import CohortTensor

/// Higher-order derivatives of `f: Tensor → Tensor` (like `torch.autograd.functional`).
public enum Derivatives {
    /// The Jacobian of `f` at `x`: shape `f(x).shape + x.shape`, element `[i…, j…]` is
    /// ∂f(x)[i…] / ∂x[j…]. One reverse pass per output element.
    /// - Throws: rethrows `f`'s errors and `Autograd.gradients`'s.
    public static func jacobian(of f: (Tensor) throws -> Tensor, at x: Tensor) throws -> Tensor {
        let leaf = freshLeaf(x)
        let y = try f(leaf)
        let n = x.count
        var values = [Float](repeating: 0, count: y.count * n)
        if y.requiresGrad {
            for i in 0..<y.count {
                let g = try Autograd.gradients(of: y, withRespectTo: [leaf], seed: oneHot(y.shape, i), retainGraph: true)[0]
                values.replaceSubrange(i * n..<(i + 1) * n, with: g.scalars)
            }
        }
        return try Tensor(values, shape: y.shape + x.shape)
    }

    /// The Hessian of scalar `f` at `x` applied to `v` (same shape as `x`): ∇²f(x)·v, by
    /// differentiating ⟨∇f(x), v⟩ — two reverse passes, no Hessian formed.
    /// - Throws: `CohortError.invalidArgument` if `f(x)` is not one element or `v`'s shape
    ///   differs from `x`'s, or if `f` uses an op without double backward (the message names it).
    public static func hessianVectorProduct(of f: (Tensor) throws -> Tensor, at x: Tensor, _ v: Tensor) throws -> Tensor {
        guard v.shape == x.shape else {
            throw CohortError.shapeMismatch(op: "hessianVectorProduct", "v \(describeShape(v.shape)) vs x \(describeShape(x.shape))")
        }
        let (leaf, grad) = try gradientGraph(f, x, op: "hessianVectorProduct")
        guard let grad, grad.requiresGrad else { return Tensor.zeros(x.shape) }   // f is affine in x
        return try Autograd.gradients(of: grad, withRespectTo: [leaf], seed: v.detached())[0]
    }

    /// The Hessian of scalar `f` at `x`: shape `x.shape + x.shape`, one double-backward
    /// pass per element of `x`.
    /// - Throws: as `hessianVectorProduct`.
    public static func hessian(of f: (Tensor) throws -> Tensor, at x: Tensor) throws -> Tensor {
        let (leaf, grad) = try gradientGraph(f, x, op: "hessian")
        let n = x.count
        var values = [Float](repeating: 0, count: n * n)
        if let grad, grad.requiresGrad {
            for i in 0..<n {
                let row = try Autograd.gradients(of: grad, withRespectTo: [leaf], seed: oneHot(x.shape, i), retainGraph: true)[0]
                values.replaceSubrange(i * n..<(i + 1) * n, with: row.scalars)
            }
        }
        return try Tensor(values, shape: x.shape + x.shape)
    }

    /// The gradient of scalar `f` at a fresh leaf copy of `x`, recorded for a second
    /// differentiation (nil when `f` does not depend on `x`).
    static func gradientGraph(_ f: (Tensor) throws -> Tensor, _ x: Tensor, op: String) throws -> (Tensor, Tensor?) {
        let leaf = freshLeaf(x)
        let y = try f(leaf)
        guard y.count == 1 else {
            throw CohortError.invalidArgument("\(op): f must return one element, got shape \(describeShape(y.shape))")
        }
        guard y.requiresGrad else { return (leaf, nil) }
        return (leaf, try Autograd.gradients(of: y, withRespectTo: [leaf], createGraph: true)[0])
    }

    /// A contiguous copy of `x` that is a leaf requiring a gradient.
    static func freshLeaf(_ x: Tensor) -> Tensor {
        let leaf = x.copy()
        leaf.requiresGrad = true
        return leaf
    }

    static func oneHot(_ shape: [Int], _ i: Int) -> Tensor {
        let t = Tensor.zeros(shape)
        try! t.withMutableBuffer { $0[i] = 1 }
        return t
    }
}
