// QuantizedLinear (with the VNNI kernel: packed weights and the fused epilogue; with the
// others: GEMM then epilogue) against the definition computed here from its public parts —
// the portable GEMM of the per-row quantized input, the +128 compensation, scales, bias,
// ReLU — on shapes that reach every tile and tail (rows mod 6, channels mod 16 and 64,
// K mod 4), and the ReLU fusion that Quantizer applies to Linear → ReLU.
import CohortCore
import CohortNN
import CohortQuantize
import CohortTensor
import Testing

@Suite struct QuantizedLinearKernelTests {
    static let shapes: [(m: Int, n: Int, k: Int)] = [(1, 1, 1), (1, 10, 784), (6, 64, 64), (7, 65, 5), (13, 130, 31), (5, 48, 7),
                                                    (12, 200, 129), (64, 17, 300), (2, 33, 4), (11, 96, 18),
                                                    (3, 60, 9), (8, 127, 20)]

    /// Per-row quantization as the layer does it: scale max|x|/127, round half to even, clamp ±127, +128.
    static func quantized(_ x: [Float], m: Int, k: Int) -> (q: [UInt8], scales: [Float]) {
        var q = [UInt8](repeating: 128, count: m * k), scales = [Float](repeating: 1, count: m)
        for i in 0..<m {
            let row = x[i * k..<(i + 1) * k]
            let mx = row.map(abs).max()!
            let s: Float = mx > 0 ? mx / 127 : 1
            scales[i] = s
            for j in 0..<k { q[i * k + j] = UInt8(Int(max(-127, min(127, (row[row.startIndex + j] * (1 / s)).rounded(.toNearestOrEven)))) + 128) }
        }
        return (q, scales)
    }

    @Test(arguments: [false, true]) func layerMatchesTheDefinition(_ relu: Bool) throws {
        var g = RandomGenerator(seed: 31)
        for (m, n, k) in Self.shapes {
            for hasBias in [true, false] {
                let w = QuantizedMatrix(weights: Tensor.randn([n, k], generator: &g).scalars, rows: n, k: k)
                let bias = hasBias ? Tensor.randn([n], generator: &g).scalars : nil
                let layer = QuantizedLinear(weight: w, bias: bias, relu: relu)
                let x = Tensor.randn([m, k], generator: &g)
                let got = try layer(x).scalars
                let (xq, xs) = Self.quantized(x.scalars, m: m, k: k)
                var acc = [Int32](repeating: 0, count: m * n)
                try xq.withUnsafeBufferPointer { a in
                    try w.q.withUnsafeBufferPointer { b in try acc.withUnsafeMutableBufferPointer { try Int8GEMM.gemm(m: m, n: n, k: k, a: a, b: b, c: $0, kernel: .portable) } }
                }
                let sums = (0..<n).map { r in (0..<k).reduce(Int32(0)) { $0 + Int32(w.q[r * k + $1]) } }
                var worst: Float = 0
                for i in 0..<m {
                    for j in 0..<n {
                        let product = Float(acc[i * n + j] - 128 * sums[j]) * (xs[i] * w.scales[j]), b = bias?[j] ?? 0
                        let want = relu ? max(product + b, 0) : product + b
                        // A kernel may fuse the multiply-add (one rounding): compare with the terms' size.
                        worst = max(worst, abs(got[i * n + j] - want) / (abs(product) + abs(b) + 1e-6))
                    }
                }
                #expect(worst < 1e-5, "m \(m) n \(n) k \(k) bias \(hasBias) relu \(relu): relative difference \(worst)")
            }
        }
    }

    @Test func quantizerFusesReLUAfterLinear() throws {
        var g = RandomGenerator(seed: 32)
        let model = Sequential([Linear(20, 30, generator: &g), ReLU(), Linear(30, 5, generator: &g), ReLU(), ReLU()])
        model.eval()
        let q = try Quantizer.quantize(model)
        let layers = try #require(q as? Sequential).layers
        #expect((layers[0] as? QuantizedLinear)?.relu == true && layers[1] is FusedReLU)
        #expect((layers[2] as? QuantizedLinear)?.relu == true && layers[3] is FusedReLU && layers[4] is ReLU)
        let x = Tensor.randn([9, 20], generator: &g)
        let (got, want) = (try q(x).scalars, try model(x).scalars)
        #expect(got.allSatisfy { $0 >= 0 })
        let scale = want.map(abs).max()!
        #expect(zip(got, want).map { abs($0 - $1) }.max()! < 0.03 * scale)
    }
}
