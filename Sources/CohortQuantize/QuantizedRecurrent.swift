// What the int8 LSTM and GRU share: their per-layer matrices (PyTorch's weight_ih_l{k} and
// weight_hh_l{k}, gates × H rows, quantized per gate row), the check that stored matrices fit
// the sizes, the input's shape check, and the per-row-scaled int8 projection each step uses.
import CohortCore
import CohortNN
import CohortTensor
import Foundation

/// One layer of an int8 recurrent stack: input and recurrent matrices and their fp32 biases.
public typealias QuantizedRecurrentLayer = (ih: QuantizedMatrix, hh: QuantizedMatrix, bih: [Float]?, bhh: [Float]?)

enum QuantizedRecurrent {
    /// `module`'s `layers` layers quantized: `gates × hiddenSize` rows each, `inputSize` inputs for the first.
    static func quantize(_ module: any Module, inputSize: Int, hiddenSize: Int, layers: Int, gates: Int) -> [QuantizedRecurrentLayer] {
        let p = Dictionary(module.namedParameters().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        return (0..<layers).map { l in
            (QuantizedMatrix(weights: p["weight_ih_l\(l)"]!.contiguous().scalars, rows: gates * hiddenSize, k: l == 0 ? inputSize : hiddenSize),
             QuantizedMatrix(weights: p["weight_hh_l\(l)"]!.contiguous().scalars, rows: gates * hiddenSize, k: hiddenSize),
             p["bias_ih_l\(l)"]?.contiguous().scalars, p["bias_hh_l\(l)"]?.contiguous().scalars)
        }
    }

    /// Stops with a message naming `kind` when `layers`' matrices do not fit the sizes.
    static func requireFit(_ layers: [QuantizedRecurrentLayer], inputSize: Int, hiddenSize: Int, gates: Int, kind: String) {
        precondition(layers.enumerated().allSatisfy { $0.element.ih.rows == gates * hiddenSize && $0.element.hh.rows == gates * hiddenSize
                                                      && $0.element.ih.k == ($0.offset == 0 ? inputSize : hiddenSize) && $0.element.hh.k == hiddenSize },
                     "\(kind): matrices do not fit input \(inputSize), hidden \(hiddenSize)")
    }

    /// `x`'s batch, steps and values, checked to be `[B, T, inputSize]`.
    /// - Throws: `CohortError.shapeMismatch` naming `op` for another shape.
    static func input(_ x: Tensor, inputSize: Int, op: String) throws -> (batch: Int, steps: Int, values: [Float]) {
        guard x.rank == 3, x.shape[2] == inputSize, x.shape[0] >= 1, x.shape[1] >= 1 else {
            throw CohortError.shapeMismatch(op: op, "input must be [batch, steps, \(inputSize)], got \(describeShape(x.shape))")
        }
        return (x.shape[0], x.shape[1], x.contiguous().scalars)
    }

    static func sigmoid(_ v: Float) -> Float { 1 / (1 + Foundation.exp(-v)) }

    /// `rows × k` fp32 values through `w` (rows quantized each with its own scale) plus `bias`.
    static func project(_ x: [Float], rows: Int, _ w: QuantizedMatrix, bias: [Float]?) throws -> [Float] {
        var q = [UInt8](repeating: 0, count: rows * w.k), scales = [Float](repeating: 1, count: rows)
        var y = [Float](repeating: 0, count: rows * w.rows)
        try x.withUnsafeBufferPointer { xp in
            try q.withUnsafeMutableBufferPointer { qp in
                try scales.withUnsafeMutableBufferPointer { sp in
                    Int8GEMM.quantizeRows(xp.baseAddress!, rows: rows, cols: w.k, into: qp.baseAddress!, scales: sp.baseAddress!, fixedScale: nil)
                    try y.withUnsafeMutableBufferPointer { try w.multiply(UnsafeBufferPointer(qp), xScales: sp.baseAddress!, m: rows, bias: bias, into: $0.baseAddress!) }
                }
            }
        }
        return y
    }
}
