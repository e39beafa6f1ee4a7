// The working form of every routine here: a column-major Float64 matrix, and a
// batch of them cut from a Float32 tensor `[..., m, n]`. Conversion transposes
// row-major Float32 into column-major Float64 (what LAPACK wants) and checks
// that every element is finite, so LAPACK never sees NaN or Inf.
import CohortCore
import CohortTensor

/// A dense column-major Float64 matrix: element (i, j) is `data[i + j * rows]`.
struct Matrix {
    var rows: Int
    var cols: Int
    var data: [Double]

    init(rows: Int, cols: Int, repeating value: Double = 0) {
        self.rows = rows
        self.cols = cols
        self.data = [Double](repeating: value, count: rows * cols)
    }

    init(rows: Int, cols: Int, data: [Double]) {
        precondition(data.count == rows * cols, "Matrix: \(data.count) values for \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    subscript(i: Int, j: Int) -> Double {
        get { data[i + j * rows] }
        set { data[i + j * rows] = newValue }
    }

    var transposed: Matrix {
        var t = Matrix(rows: cols, cols: rows)
        for j in 0..<cols { for i in 0..<rows { t.data[j + i * cols] = data[i + j * rows] } }
        return t
    }

    /// Column `j` as an array.
    func column(_ j: Int) -> [Double] { Array(data[(j * rows)..<((j + 1) * rows)]) }

    /// The first `count` columns.
    func leadingColumns(_ count: Int) -> Matrix {
        Matrix(rows: rows, cols: count, data: Array(data[0..<(rows * count)]))
    }

    /// The first `count` rows.
    func leadingRows(_ count: Int) -> Matrix {
        var out = Matrix(rows: count, cols: cols)
        for j in 0..<cols { for i in 0..<count { out[i, j] = self[i, j] } }
        return out
    }

    /// Row-major values, the layout of a `Tensor`.
    var rowMajor: [Double] { transposed.data }

    /// Elementwise combination with another matrix of the same size.
    func combined(_ other: Matrix, _ f: (Double, Double) -> Double) -> Matrix {
        Matrix(rows: rows, cols: cols, data: zip(data, other.data).map(f))
    }

    func scaled(_ s: Double) -> Matrix { Matrix(rows: rows, cols: cols, data: data.map { $0 * s }) }

    /// `(self + selfᵀ) / 2` for a square matrix.
    var symmetrized: Matrix { combined(transposed) { ($0 + $1) / 2 } }
}

/// The matrices of a tensor `[..., m, n]`, in row-major batch order.
struct MatrixBatch {
    var batchShape: [Int]
    var rows: Int
    var cols: Int
    var matrices: [Matrix]

    /// Cuts `tensor` into its matrices.
    /// - Throws: `CohortError.invalidArgument` if its rank is below 2 or `square` is
    ///   required and the last two extents differ; `CohortError.nonFinite` naming the
    ///   first NaN/Inf element when `checkFinite` is set.
    init(_ tensor: Tensor, op: String, name: String, square: Bool = false, checkFinite: Bool = true) throws {
        let shape = tensor.shape
        guard shape.count >= 2 else {
            throw CohortError.invalidArgument("\(op): \(name) must be a matrix [..., m, n] (rank ≥ 2), got shape \(describeShape(shape))")
        }
        let m = shape[shape.count - 2], n = shape[shape.count - 1]
        if square && m != n {
            throw CohortError.invalidArgument("\(op): \(name) must be square [..., n, n], got shape \(describeShape(shape))")
        }
        let values = tensor.scalars
        if checkFinite, let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw CohortError.nonFinite("\(op): \(name) \(describeShape(shape)) contains \(values[bad]) at \(describeShape(unravel(bad, shape))); linear algebra needs finite input")
        }
        self.batchShape = Array(shape.dropLast(2))
        self.rows = m
        self.cols = n
        let per = m * n
        let count = batchShape.reduce(1, *)
        matrices = (0..<count).map { b in
            var mat = Matrix(rows: m, cols: n)
            let base = b * per
            values.withUnsafeBufferPointer { src in
                mat.data.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<m { for j in 0..<n { dst[i + j * m] = Double(src[base + i * n + j]) } }
                }
            }
            return mat
        }
    }

    init(batchShape: [Int], rows: Int, cols: Int, matrices: [Matrix]) {
        self.batchShape = batchShape
        self.rows = rows
        self.cols = cols
        self.matrices = matrices
    }

    var count: Int { matrices.count }

    /// "A [2, 3, 3]" or "A [2, 3, 3] (matrix 1 of the batch)": where an error happened.
    static func context(_ op: String, _ name: String, _ shape: [Int], index: Int, batchCount: Int) -> String {
        let base = "\(op): \(name) \(describeShape(shape))"
        return shape.count > 2 && batchCount > 1 ? "\(base) (matrix \(index) of the batch)" : base
    }
}

/// Multi-index of flat row-major position `flat` in `shape`.
func unravel(_ flat: Int, _ shape: [Int]) -> [Int] {
    var rest = flat
    var idx = [Int](repeating: 0, count: shape.count)
    for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] > 0 {
        idx[d] = rest % shape[d]
        rest /= shape[d]
    }
    return idx
}

/// A Float32 tensor `batchShape + [rows, cols]` from column-major matrices.
func makeTensor(_ batchShape: [Int], _ matrices: [Matrix], rows: Int, cols: Int) throws -> Tensor {
    var values = [Float]()
    values.reserveCapacity(matrices.count * rows * cols)
    for m in matrices {
        m.data.withUnsafeBufferPointer { src in
            for i in 0..<rows { for j in 0..<cols { values.append(Float(src[i + j * rows])) } }
        }
    }
    return try Tensor(values, shape: batchShape + [rows, cols])
}

/// A Float32 tensor `batchShape + [length]` from per-matrix vectors.
func makeTensor(_ batchShape: [Int], _ vectors: [[Double]], length: Int) throws -> Tensor {
    try Tensor(vectors.flatMap { $0.map(Float.init) }, shape: batchShape + [length])
}

/// A Float32 tensor of `shape` from per-matrix scalars.
func makeTensor(_ shape: [Int], _ scalars: [Double]) throws -> Tensor {
    try Tensor(scalars.map(Float.init), shape: shape)
}
