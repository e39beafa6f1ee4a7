// An int8 weight matrix with per-output-channel symmetric scales — what every
// quantized layer multiplies by — and the dequantizing epilogue of its GEMM.
import CohortCore

/// `[rows, k]` int8 weights `q` with `w ≈ q · scales[row]`, `scales[row] = max|w[row, :]| / 127`.
public struct QuantizedMatrix: Sendable {
    /// Output channels.
    public let rows: Int
    /// Inputs per output channel.
    public let k: Int
    /// Row-major `[rows, k]`.
    public let q: [Int8]
    /// `[rows]`, each > 0.
    public let scales: [Float]
    /// `Σ_k q[row, k]`, for the +128 compensation.
    let sums: [Int32]
    /// `q` in the VNNI kernel's layout (packed once, here), nil when another kernel is selected.
    let packed: [Int8]?

    /// Quantizes fp32 `weights: [rows, k]` row by row (an all-zero row gets scale 1).
    public init(weights: [Float], rows: Int, k: Int) {
        precondition(weights.count == rows * k, "QuantizedMatrix: \(weights.count) weights for [\(rows), \(k)]")
        var q = [Int8](repeating: 0, count: rows * k), scales = [Float](repeating: 1, count: rows)
        for r in 0..<rows {
            var m: Float = 0
            for j in 0..<k { m = max(m, abs(weights[r * k + j])) }
            let s: Float = m > 0 ? m / 127 : 1
            scales[r] = s
            for j in 0..<k { q[r * k + j] = Int8(max(-127, min(127, (weights[r * k + j] / s).rounded(.toNearestOrEven)))) }
        }
        self.init(q: q, scales: scales, rows: rows, k: k)
    }

    /// Stored values (from a `.cq` file).
    public init(q: [Int8], scales: [Float], rows: Int, k: Int) {
        precondition(q.count == rows * k && scales.count == rows, "QuantizedMatrix: \(q.count) values, \(scales.count) scales for [\(rows), \(k)]")
        self.rows = rows; self.k = k; self.q = q; self.scales = scales
        sums = Int8GEMM.rowSums(q, rows: rows, k: k)
        packed = Int8GEMM.packedForSelectedKernel(q, rows: rows, k: k)
    }

    /// The fp32 weights it stands for.
    public var dequantized: [Float] { (0..<rows * k).map { Float(q[$0]) * scales[$0 / k] } }

    /// `y[i, row] = (x[i, :] · w[row, :]) + bias[row]` for `x: [m, k]` given quantized to uint8 (`xq`, zero
    /// point 128) with scales `xScales[i / rowsPerScale]`; `y` is `[m, rows]`, or with `nchw` (a convolution:
    /// `m = batch · rowsPerScale` positions) `[batch, rows, rowsPerScale]`; `relu` clamps at 0.
    func multiply(_ xq: UnsafeBufferPointer<UInt8>, xScales: UnsafePointer<Float>, m: Int, rowsPerScale: Int = 1, bias: [Float]?,
                  relu: Bool = false, nchw: Bool = false, into y: UnsafeMutablePointer<Float>) throws {
        if let packed, !nchw, rowsPerScale == 1, let xb = xq.baseAddress, xq.count >= m * k,
           Int8GEMM.linearPacked(m: m, n: rows, k: k, xq: xb, packed: packed, sums: sums, rowScales: xScales, columnScales: scales,
                                 bias: bias, relu: relu, into: y) {
            return
        }
        var acc = [Int32](repeating: 0, count: m * rows)
        try q.withUnsafeBufferPointer { qb in
            try acc.withUnsafeMutableBufferPointer { try Int8GEMM.gemm(m: m, n: rows, k: k, a: xq, b: qb, c: $0) }
        }
        Int8GEMM.dequantize(m: m, n: rows, acc: acc, sums: sums, rowScales: xScales, rowsPerScale: rowsPerScale, columnScales: scales,
                            bias: bias, relu: relu, nchw: nchw, into: y)
    }
}
