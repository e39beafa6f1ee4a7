// The d-dimensional normal N(μ, Σ) with Σ = L Lᵀ given by its Cholesky factor L
// (`scaleTril`, differentiable in `rsample`) or by Σ itself (factorised here in
// Double). Draws are μ + L z; log-densities solve with L⁻¹ computed once.
#if canImport(Glibc)
import Glibc
#endif
import CohortCore
import CohortTensor

/// The multivariate normal with mean `loc` [d] and covariance L Lᵀ, L = `scaleTril` [d, d] lower triangular.
public struct MultivariateNormal: Distribution {
    /// The mean μ, shape [d].
    public let loc: Tensor
    /// The lower-triangular Cholesky factor L of the covariance, shape [d, d], positive diagonal.
    public let scaleTril: Tensor
    /// L as Double rows (for solves and the log-determinant).
    let factor: [[Double]]
    /// L⁻¹ as a constant tensor [d, d].
    let inverseFactor: Tensor
    public var batchShape: [Int] { [] }
    public var eventShape: [Int] { [dimension] }
    /// The dimension d.
    public var dimension: Int { loc.shape[0] }

    /// N(`loc`, L Lᵀ) from the factor L = `scaleTril`; throws unless loc is [d], L is [d, d], lower
    /// triangular with a positive diagonal.
    public init(loc: Tensor, scaleTril: Tensor) throws {
        guard loc.rank == 1, scaleTril.shape == [loc.shape[0], loc.shape[0]] else {
            throw CohortError.shapeMismatch(op: "MultivariateNormal", "loc \(describeShape(loc.shape)) needs scaleTril [d, d], got \(describeShape(scaleTril.shape))")
        }
        let d = loc.shape[0], values = scaleTril.contiguous().scalars.map { Double($0) }
        let l = (0..<d).map { i in (0..<d).map { j in values[i * d + j] } }
        for i in 0..<d {
            guard l[i][i] > 0 else { throw CohortError.invalidArgument("MultivariateNormal: scaleTril[\(i), \(i)] must be > 0, got \(l[i][i])") }
            for j in (i + 1)..<Swift.max(d, i + 1) where l[i][j] != 0 {
                throw CohortError.invalidArgument("MultivariateNormal: scaleTril must be lower triangular, [\(i), \(j)] is \(l[i][j])")
            }
        }
        self.loc = loc; self.scaleTril = scaleTril; factor = l
        inverseFactor = try Tensor(CholeskyFactor.inverseLower(l).joined().map { Float($0) }, shape: [d, d])
    }

    /// N(`loc`, `covariance`): the covariance (d × d, symmetric positive definite) is factorised here;
    /// throws with the failing pivot when it is not positive definite.
    public init(loc: Tensor, covariance: [[Double]]) throws {
        let l = try CholeskyFactor.of(covariance, "MultivariateNormal covariance")
        guard l.count == loc.shape.first ?? -1 else {
            throw CohortError.shapeMismatch(op: "MultivariateNormal", "loc \(describeShape(loc.shape)) vs covariance \(l.count) x \(l.count)")
        }
        try self.init(loc: loc, scaleTril: try Tensor(l.joined().map { Float($0) }, shape: [l.count, l.count]))
    }

    /// The covariance L Lᵀ in Double.
    public var covariance: [[Double]] {
        let d = dimension
        return (0..<d).map { i in (0..<d).map { j in (0...Swift.min(i, j)).reduce(0) { $0 + factor[i][$1] * factor[j][$1] } } }
    }

    public func sample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor {
        try withNoGrad { try rsample(count, generator: &generator) }.detached()
    }

    /// μ + z Lᵀ with z ~ N(0, I) [count, d]: differentiable in loc and scaleTril.
    public func rsample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor {
        let z = try drawScalars(count, [], shape: [dimension], "MultivariateNormal", generator: &generator) { g, _ in Variates.normal(&g) }
        return try Tensor.matmul(z, scaleTril.transpose()) + loc
    }

    /// −½ d log 2π − Σ log Lᵢᵢ − ½ |L⁻¹(x − μ)|² for `value` [d] or [n, d]; differentiable in loc and value
    /// (L enters as a constant here).
    public func logProb(_ value: Tensor) throws -> Tensor {
        guard value.shape.last == dimension else {
            throw CohortError.shapeMismatch(op: "MultivariateNormal.logProb", "value \(describeShape(value.shape)) needs a last axis of \(dimension)")
        }
        let centred = try value - loc
        let white = try Tensor.matmul(centred, inverseFactor.transpose())
        let constantTerm = Float(-0.5 * Double(dimension) * log(2 * Double.pi) - 0.5 * CholeskyFactor.logDeterminant(factor))
        return try white.square().sum(axes: [-1]) * -0.5 + constantTerm
    }

    public var mean: Tensor { get throws { loc } }
    /// The diagonal of the covariance.
    public var variance: Tensor { get throws { try scaleTril.square().sum(axes: [-1]) } }
    /// ½ d (1 + log 2π) + Σ log Lᵢᵢ.
    public func entropy() throws -> Tensor {
        Tensor.full([], Float(0.5 * Double(dimension) * (1 + log(2 * Double.pi)) + 0.5 * CholeskyFactor.logDeterminant(factor)))
    }
}
