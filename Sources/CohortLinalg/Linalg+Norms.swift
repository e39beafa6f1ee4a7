// Matrix and vector norms and condition numbers, in Float64, with NumPy's orders
// ('fro', 'nuc', ±1, ±2, ±inf). Not differentiable: for a differentiable p-norm
// use `Tensor.norm(p:axes:)`.
import CohortCore
import CohortTensor
import Glibc

/// The `ord` of `Linalg.matrixNorm` and `Linalg.cond`, as in `numpy.linalg.norm`.
public enum MatrixNormOrder: Sendable, CustomStringConvertible {
    /// `sqrt(Σ a_ij²)` ('fro').
    case frobenius
    /// Sum of singular values ('nuc').
    case nuclear
    /// Largest singular value (2).
    case spectral
    /// Smallest singular value (−2).
    case minSingular
    /// Largest column sum of |a_ij| (1).
    case one
    /// Smallest column sum of |a_ij| (−1).
    case minusOne
    /// Largest row sum of |a_ij| (inf).
    case infinity
    /// Smallest row sum of |a_ij| (−inf).
    case minusInfinity

    public var description: String {
        switch self {
        case .frobenius: return "fro"
        case .nuclear: return "nuc"
        case .spectral: return "2"
        case .minSingular: return "-2"
        case .one: return "1"
        case .minusOne: return "-1"
        case .infinity: return "inf"
        case .minusInfinity: return "-inf"
        }
    }
}

extension Linalg {
    /// The matrix norm `[...]` of each matrix of `a` `[..., m, n]`.
    /// - Throws: `CohortError.invalidArgument` for rank < 2, `CohortError.nonFinite` for NaN/Inf.
    public static func matrixNorm(_ a: Tensor, ord: MatrixNormOrder = .frobenius) throws -> Tensor {
        let op = "Linalg.matrixNorm"
        let A = try MatrixBatch(a, op: op, name: "A")
        let values = try map(A, op, "A", a.shape) { _, m, ctx in try norm(m, ord, ctx) }
        return try makeTensor(A.batchShape, values)
    }

    /// The vector p-norm of `x`: over all elements (a scalar) or along `axis`.
    ///
    /// `ord` is any real p (`(Σ|x|ᵖ)^(1/p)`), `.infinity` (max |x|), `-.infinity`
    /// (min |x|) or 0 (the number of non-zero elements), as `numpy.linalg.norm`.
    /// - Throws: `CohortError.invalidArgument` for an axis out of range;
    ///   `CohortError.nonFinite` for NaN/Inf.
    public static func vectorNorm(_ x: Tensor, ord: Double = 2, axis: Int? = nil) throws -> Tensor {
        let op = "Linalg.vectorNorm"
        let values = x.scalars
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw CohortError.nonFinite("\(op): x \(describeShape(x.shape)) contains \(values[bad]) at \(describeShape(unravel(bad, x.shape))); linear algebra needs finite input")
        }
        guard let axis else { return try makeTensor([], [pNorm(values.map(Double.init), ord)]) }
        let d = axis < 0 ? axis + x.rank : axis
        guard d >= 0, d < x.rank else {
            throw CohortError.invalidArgument("\(op): axis \(axis) is out of range for x of shape \(describeShape(x.shape))")
        }
        let outer = x.shape[..<d].reduce(1, *), length = x.shape[d], inner = x.shape[(d + 1)...].reduce(1, *)
        var out = [Double]()
        out.reserveCapacity(outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                out.append(pNorm((0..<length).map { Double(values[(o * length + $0) * inner + i]) }, ord))
            }
        }
        var shape = x.shape
        shape.remove(at: d)
        return try makeTensor(shape, out)
    }

    /// The condition number `[...]` of each matrix of `a` `[..., m, n]`, like
    /// `numpy.linalg.cond`: `s_max / s_min` for `.spectral` (the default; any m, n),
    /// `s_min / s_max` for `.minSingular`, else `‖A‖ · ‖A⁻¹‖` (square A only).
    /// A singular matrix gives +∞. Large values (≳ 1e7) mean Float32 results of
    /// `solve`/`inverse` on this matrix carry few or no correct digits.
    /// - Throws: `CohortError.invalidArgument` for rank < 2 or a non-square matrix with
    ///   an order other than ±2; `CohortError.nonFinite` for NaN/Inf.
    public static func cond(_ a: Tensor, ord: MatrixNormOrder = .spectral) throws -> Tensor {
        let op = "Linalg.cond"
        let needsInverse = ord != .spectral && ord != .minSingular
        let A = try MatrixBatch(a, op: op, name: "A", square: needsInverse)
        let values = try map(A, op, "A", a.shape) { _, m, ctx -> Double in
            if !needsInverse {
                let s = try LAPACK.svd(m, full: false, vectors: false, ctx).s
                guard let hi = s.first, let lo = s.last else { return 0 }
                if ord == .spectral { return lo == 0 ? .infinity : hi / lo }
                return hi == 0 ? .infinity : lo / hi
            }
            guard let inv = try LAPACK.inverseOrNil(m, ctx) else { return .infinity }
            return try norm(m, ord, ctx) * norm(inv, ord, ctx)
        }
        return try makeTensor(A.batchShape, values)
    }

    static func norm(_ m: Matrix, _ ord: MatrixNormOrder, _ ctx: String) throws -> Double {
        func lineSums(columns: Bool) -> [Double] {
            columns ? (0..<m.cols).map { j in (0..<m.rows).reduce(0) { $0 + Swift.abs(m[$1, j]) } }
                    : (0..<m.rows).map { i in (0..<m.cols).reduce(0) { $0 + Swift.abs(m[i, $1]) } }
        }
        switch ord {
        case .frobenius: return sqrt(m.data.reduce(0) { $0 + $1 * $1 })
        case .one: return lineSums(columns: true).max() ?? 0
        case .minusOne: return lineSums(columns: true).min() ?? 0
        case .infinity: return lineSums(columns: false).max() ?? 0
        case .minusInfinity: return lineSums(columns: false).min() ?? 0
        case .nuclear, .spectral, .minSingular:
            let s = try LAPACK.svd(m, full: false, vectors: false, ctx).s
            if ord == .nuclear { return s.reduce(0, +) }
            return (ord == .spectral ? s.first : s.last) ?? 0
        }
    }

    private static func pNorm(_ v: [Double], _ p: Double) -> Double {
        if p == .infinity { return v.map { Swift.abs($0) }.max() ?? 0 }
        if p == -.infinity { return v.map { Swift.abs($0) }.min() ?? 0 }
        if p == 0 { return Double(v.filter { $0 != 0 }.count) }
        if p == 1 { return v.reduce(0) { $0 + Swift.abs($1) } }
        if p == 2 {
            let scale = v.map { Swift.abs($0) }.max() ?? 0   // scaled to avoid overflow
            return scale == 0 ? 0 : scale * sqrt(v.reduce(0) { $0 + ($1 / scale) * ($1 / scale) })
        }
        return pow(v.reduce(0) { $0 + pow(Swift.abs($1), p) }, 1 / p)
    }
}
