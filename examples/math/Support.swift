// What the examples share: their command-line options, the self-check that
// makes an example fail loudly, and a small row-major Float64 matrix for the
// sums (XᵀX, Xᵀr) that would lose digits in Float32 tensors.
import CohortCore
import CohortTensor
import Foundation

/// Options after the example's name: `--data PATH` (the input table) and `--out PATH` (a file to write).
struct ExampleOptions {
    var data: String?
    var out: String?

    /// Parses `--data PATH` and `--out PATH`; anything else is a `CohortError.badFlag`.
    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        while let flag = rest.popFirst() {
            guard flag == "--data" || flag == "--out" else {
                throw CohortError.badFlag(flag: flag, "unknown option (the examples take --data PATH and --out PATH)")
            }
            guard let value = rest.popFirst(), !value.hasPrefix("--") else {
                throw CohortError.badFlag(flag: flag, "needs a path after it")
            }
            if flag == "--data" { data = value } else { out = value }
        }
    }
}

/// A self-check that did not hold: the example prints it and exits 1.
struct CheckFailed: Error, CustomStringConvertible {
    let description: String
}

/// Throws `CheckFailed(message)` unless `condition` holds.
func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw CheckFailed(description: "check failed: " + message()) }
}

/// `x` in scientific notation with `digits` significant digits after the point, e.g. `3.1e-07`.
func sci(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)e", x) }

/// `x` with `digits` decimals.
func fixed(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }

/// `s` padded on the left to `width` characters (for aligned tables).
func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }

/// A dense row-major Float64 matrix.
struct Matrix {
    let rows: Int, columns: Int
    var values: [Double]

    init(rows: Int, columns: Int, values: [Double]? = nil) {
        self.rows = rows; self.columns = columns
        self.values = values ?? Array(repeating: 0, count: rows * columns)
    }

    subscript(i: Int, j: Int) -> Double {
        get { values[i * columns + j] }
        set { values[i * columns + j] = newValue }
    }

    /// X v (v has `columns` entries).
    func times(_ v: [Double]) -> [Double] {
        (0..<rows).map { i in (0..<columns).reduce(0) { $0 + self[i, $1] * v[$1] } }
    }

    /// Xᵀ v (v has `rows` entries).
    func transposedTimes(_ v: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: columns)
        for i in 0..<rows where v[i] != 0 { for j in 0..<columns { out[j] += self[i, j] * v[i] } }
        return out
    }

    /// The Gram matrix XᵀX (`columns` × `columns`).
    func gram() -> Matrix {
        var g = Matrix(rows: columns, columns: columns)
        for i in 0..<rows {
            for a in 0..<columns where self[i, a] != 0 { for b in a..<columns { g[a, b] += self[i, a] * self[i, b] } }
        }
        for a in 0..<columns { for b in 0..<a { g[a, b] = g[b, a] } }
        return g
    }

    /// The matrix as a Float32 tensor `[rows, columns]` (LAPACK then works on it in Float64).
    func tensor() throws -> Tensor { try Tensor(values.map { Float($0) }, shape: [rows, columns]) }
}

/// Row-major `[rows, columns]` features with each column standardized to mean 0 and
/// (population) standard deviation 1, then rounded to Float32: the exact numbers the
/// Float32 tensors hold, so the Float64 code and LAPACK see the same data.
func standardizedColumns(_ x: [Float], rows: Int, columns: Int) -> [Double] {
    var out = x.map(Double.init)
    for j in 0..<columns {
        let mean = (0..<rows).reduce(0) { $0 + out[$1 * columns + j] } / Double(rows)
        let variance = (0..<rows).reduce(0) { $0 + pow(out[$1 * columns + j] - mean, 2) } / Double(rows)
        let std = variance > 0 ? variance.squareRoot() : 1
        for i in 0..<rows { out[i * columns + j] = Double(Float((out[i * columns + j] - mean) / std)) }
    }
    return out
}

/// The largest |a − b| over paired entries.
func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
