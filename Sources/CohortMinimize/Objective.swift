// What the minimizers work on: a Float64 objective on [Double] giving its value
// and gradient (and optionally its value alone, for cheap backtracking), plus
// an adapter from a Float32 Tensor function differentiated by autograd.
import CohortCore
import CohortTensor

/// A differentiable objective f: ℝⁿ → ℝ evaluated in Float64.
///
/// Minimizers call `valueAndGradient` where they need a gradient and `value` (when
/// given) where a value suffices (Armijo backtracking), so function and gradient
/// evaluations are counted separately in `MinimizeReport`.
public struct Objective {
    /// f(x) and ∇f(x) (same count as x).
    public let valueAndGradient: ([Double]) throws -> (value: Double, gradient: [Double])
    /// f(x) alone, if cheaper than `valueAndGradient`.
    public let value: (([Double]) throws -> Double)?

    /// Wraps Float64 closures; `value` is optional.
    public init(valueAndGradient: @escaping ([Double]) throws -> (value: Double, gradient: [Double]),
                value: (([Double]) throws -> Double)? = nil) {
        self.valueAndGradient = valueAndGradient
        self.value = value
    }

    /// An objective from a Tensor function returning one element, differentiated with
    /// `Autograd.gradients`. x is rounded to Float32 and reshaped to `shape`, and f and
    /// its gradient are Float32: expect a relative accuracy near 1e-7 in f and set
    /// `gradientTolerance` no tighter than about 1e-4 × the gradient's scale. For
    /// tighter optima write the objective in Float64 with the other initializer.
    /// - Throws (at evaluation): `CohortError.invalidArgument` if f does not return one
    ///   element; `shapeMismatch` if x does not fill `shape`.
    public init(shape: [Int], tensor f: @escaping (Tensor) throws -> Tensor) {
        func leaf(_ x: [Double], grad: Bool) throws -> Tensor {
            try Tensor(x.map { Float($0) }, shape: shape, requiresGrad: grad)
        }
        func scalar(_ y: Tensor) throws -> Double {
            guard y.count == 1 else { throw CohortError.invalidArgument("Objective(tensor:): f must return one element, got shape \(describeShape(y.shape))") }
            return Double(try y.item())
        }
        self.valueAndGradient = { x in
            let t = try leaf(x, grad: true)
            let y = try f(t)
            let value = try scalar(y)
            guard y.requiresGrad else { return (value, Array(repeating: 0, count: x.count)) }   // constant in x
            let g = try Autograd.gradients(of: y, withRespectTo: [t])[0]
            return (value, g.scalars.map(Double.init))
        }
        self.value = { x in try withNoGrad { try scalar(f(leaf(x, grad: false))) } }
    }
}
