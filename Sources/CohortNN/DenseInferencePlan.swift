// A stack of Linear layers (with ReLU between, as the zoo's MLP) frozen for inference: weights
// transposed once to [in, out] so a small batch runs on OpenBLAS's unpacked "direct" kernel (a
// packed sgemm re-packs the whole weight on every call: 3× slower at 2–16 rows), into a reused
// workspace, with no graph and no tensors. What `cohort serve` runs per batch.
import CohortKernels
import CohortTensor

/// A `Sequential` of `Flatten`, `Linear`, `ReLU` (and `Dropout` in evaluation mode) as a snapshot
/// for batched inference. Not thread-safe: one caller at a time (it reuses one workspace).
public final class DenseInferencePlan: @unchecked Sendable {
    private struct Layer {
        /// The weight transposed: `[inputs, outputs]` row-major.
        var transposed: [Float]
        var bias: [Float]?
        var inputs: Int, outputs: Int
        var relu: Bool
    }

    private let layers: [Layer]
    private var workspace: [Float] = []
    /// Values per input row.
    public let inputWidth: Int
    /// Values per output row.
    public let outputWidth: Int

    /// The plan of `module` (a snapshot of its current weights), or nil when it holds anything but
    /// `Flatten`, `Linear`, `ReLU`, evaluation-mode `Dropout` and nested `Sequential`s, or no `Linear`.
    public static func make(_ module: any Module) -> DenseInferencePlan? {
        var layers: [Layer] = []
        func walk(_ m: any Module) -> Bool {
            switch m {
            case let s as Sequential: return s.layers.allSatisfy(walk)
            case is Flatten: return layers.isEmpty
            case let d as Dropout: return !d.isTraining
            case is ReLU:
                guard let last = layers.last, !last.relu else { return false }
                layers[layers.count - 1].relu = true
                return true
            case let l as Linear:
                let w = l.weight.contiguous().scalars   // [out, in]
                var t = [Float](repeating: 0, count: w.count)
                for o in 0..<l.outFeatures { for i in 0..<l.inFeatures { t[i * l.outFeatures + o] = w[o * l.inFeatures + i] } }
                layers.append(Layer(transposed: t, bias: l.bias?.contiguous().scalars, inputs: l.inFeatures,
                                    outputs: l.outFeatures, relu: false))
                return true
            default: return false
            }
        }
        guard walk(module), !layers.isEmpty, zip(layers, layers.dropFirst()).allSatisfy({ $0.outputs == $1.inputs }) else { return nil }
        return DenseInferencePlan(layers)
    }

    private init(_ layers: [Layer]) {
        self.layers = layers
        inputWidth = layers[0].inputs
        outputWidth = layers[layers.count - 1].outputs
    }

    /// The output of `rows` rows: `input` holds `rows × inputWidth` values, row-major; returns
    /// `rows × outputWidth` values (the last layer's output, before any softmax).
    /// - Precondition: `input.count == rows × inputWidth`.
    public func forward(_ input: [Float], rows: Int) -> [Float] {
        precondition(input.count == rows * inputWidth, "DenseInferencePlan: \(input.count) values for \(rows) rows of \(inputWidth)")
        var output = [Float](repeating: 0, count: rows * outputWidth)
        guard rows > 0 else { return output }
        let widest = layers.map(\.outputs).max() ?? 0
        if workspace.count < 2 * rows * widest { workspace = [Float](repeating: 0, count: 2 * rows * widest) }
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                workspace.withUnsafeMutableBufferPointer { ws in
                    var source = x.baseAddress!
                    for (n, layer) in layers.enumerated() {
                        let target = n == layers.count - 1 ? y.baseAddress! : ws.baseAddress! + (n % 2) * rows * widest
                        Self.run(layer, source, rows: rows, into: target)
                        source = UnsafePointer(target)
                    }
                }
            }
        }
        return output
    }

    /// One layer: `target[rows, outputs] = act(source[rows, inputs] · Wᵀ + b)`.
    private static func run(_ l: Layer, _ source: UnsafePointer<Float>, rows: Int, into target: UnsafeMutablePointer<Float>) {
        l.transposed.withUnsafeBufferPointer { w in
            if rows == 1 {
                // One row: a matrix-vector product streams the weight once.
                BLAS.sgemv(trans: true, rows: l.inputs, cols: l.outputs, alpha: 1, a: w.baseAddress!, lda: l.outputs,
                           x: source, beta: 0, y: target)
            } else {
                BLAS.sgemmNN(m: rows, n: l.outputs, k: l.inputs, a: source, lda: l.inputs, b: w.baseAddress!, ldb: l.outputs,
                             c: target, ldc: l.outputs)
            }
        }
        let bias = l.bias ?? [Float](repeating: 0, count: l.outputs)
        bias.withUnsafeBufferPointer { b in
            for r in 0..<rows {
                let row = target + r * l.outputs
                if l.relu {
                    for j in 0..<l.outputs { row[j] = Swift.max(row[j] + b[j], 0) }
                } else {
                    for j in 0..<l.outputs { row[j] += b[j] }
                }
            }
        }
    }
}
