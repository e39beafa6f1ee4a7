// Options, stopping reasons and the report of every minimizer: what stopped it,
// how many iterations and evaluations it took, where it ended, and the
// per-iteration history for plots.
import CohortCore
import CohortTensor

/// Stopping criteria and line-search settings shared by the minimizers.
public struct MinimizeOptions: Sendable {
    /// Stop when ‖∇f‖∞ (the projected gradient for `projectedGradient`) ≤ this.
    public var gradientTolerance: Double = 1e-6
    /// Stop when |f_k − f_{k+1}| ≤ this · max(|f_k|, |f_{k+1}|, 1). 0 disables it.
    public var functionTolerance: Double = 1e-13
    /// Stop when ‖x_{k+1} − x_k‖∞ ≤ this · max(‖x_{k+1}‖∞, 1). 0 disables it.
    public var stepTolerance: Double = 1e-13
    /// Stop (not converged) after this many iterations.
    public var maxIterations: Int = 1000
    /// Sufficient-decrease constant c₁ of the Armijo condition f(x + αd) ≤ f(x) + c₁α∇f·d.
    public var armijo: Double = 1e-4
    /// Curvature constant c₂ of the strong Wolfe condition |∇f(x + αd)·d| ≤ c₂|∇f(x)·d|.
    public var wolfe: Double = 0.9
    /// Backtracking shrink factor.
    public var backtrack: Double = 0.5
    /// Most trial steps one line search may take before the run stops with `.lineSearchFailed`.
    public var maxLineSearchSteps: Int = 60
    /// L-BFGS history length m (pairs of steps and gradient changes kept).
    public var memory: Int = 10
    /// L-BFGS line search: strong Wolfe (default; keeps sᵀy > 0) or Armijo backtracking.
    public var lineSearch: LineSearchKind = .strongWolfe

    /// The defaults above.
    public init() {}

    func validate(_ op: String) throws {
        guard gradientTolerance >= 0, functionTolerance >= 0, stepTolerance >= 0 else {
            throw CohortError.invalidArgument("\(op): tolerances must be ≥ 0 (gradientTolerance \(gradientTolerance), functionTolerance \(functionTolerance), stepTolerance \(stepTolerance))")
        }
        guard maxIterations >= 0, memory >= 1, maxLineSearchSteps >= 1 else {
            throw CohortError.invalidArgument("\(op): maxIterations must be ≥ 0, memory and maxLineSearchSteps ≥ 1 (got \(maxIterations), \(memory), \(maxLineSearchSteps))")
        }
        guard 0 < armijo, armijo < wolfe, wolfe < 1, 0 < backtrack, backtrack < 1 else {
            throw CohortError.invalidArgument("\(op): need 0 < armijo (\(armijo)) < wolfe (\(wolfe)) < 1 and 0 < backtrack (\(backtrack)) < 1")
        }
    }
}

/// The line search L-BFGS uses.
public enum LineSearchKind: String, Sendable {
    /// Bracketing and zoom with cubic interpolation until the strong Wolfe conditions hold.
    case strongWolfe
    /// Backtracking until the Armijo condition holds (curvature pairs with sᵀy ≤ 0 are skipped).
    case armijo
}

/// Why a minimizer stopped.
public enum StopReason: String, Sendable, Equatable {
    case gradientTolerance, functionTolerance, stepTolerance
    /// The iteration limit was reached first (not converged).
    case maxIterations
    /// No acceptable step was found (not converged; often: tolerances below the objective's precision).
    case lineSearchFailed
}

/// One iteration's state, for convergence plots (iteration 0 is the start point).
public struct IterationRecord: Sendable, Equatable {
    public let iteration: Int
    public let value: Double
    /// ‖∇f‖∞ (projected for `projectedGradient`).
    public let gradientNorm: Double
    /// The accepted step length α (0 at iteration 0).
    public let stepLength: Double
}

/// What a minimizer returns (`scipy.optimize.OptimizeResult`-like).
public struct MinimizeReport: Sendable, CustomStringConvertible {
    /// The method's name ("gradient descent", "L-BFGS", "projected gradient").
    public let method: String
    /// Whether a tolerance was met (`reason` is not `.maxIterations` or `.lineSearchFailed`).
    public var converged: Bool { reason != .maxIterations && reason != .lineSearchFailed }
    public let reason: StopReason
    public let iterations: Int
    /// Evaluations of f (including those made together with a gradient).
    public let functionEvaluations: Int
    /// Evaluations of ∇f.
    public let gradientEvaluations: Int
    /// The final point, its value and gradient norm.
    public let x: [Double]
    public let value: Double
    public let gradientNorm: Double
    /// One record per iteration, starting with iteration 0.
    public let history: [IterationRecord]

    public var description: String {
        "\(method): \(converged ? "converged" : "NOT converged") (\(reason.rawValue)) after \(iterations) iterations, "
            + "\(functionEvaluations) f / \(gradientEvaluations) ∇f evaluations, f = \(value), ‖∇f‖∞ = \(gradientNorm)"
    }
}

func infinityNorm(_ v: [Double]) -> Double { v.reduce(0) { Swift.max($0, Swift.abs($1)) } }
func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
func axpy(_ x: [Double], _ alpha: Double, _ d: [Double]) -> [Double] { zip(x, d).map { $0 + alpha * $1 } }
