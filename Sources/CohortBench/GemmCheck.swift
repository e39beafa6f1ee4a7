// What `cohort doctor` measures of OpenBLAS: sgemm against a Double reference on awkward
// shapes (correctness of whichever kernel OpenBLAS picked) and a square sgemm's GFLOP/s.
import CohortKernels
import CohortStats
import Foundation

/// sgemm on odd shapes, transposes, padded leading dimensions and beta ≠ 0 against a Double product.
/// The error of each element is relative to Σ|α·a·b| + |β·c| (the scale of its rounding error);
/// NaN in the padding catches reads outside A and B, a sentinel in C's padding catches stray writes.
public struct GemmCheck: Encodable, Sendable {
    public struct Case: Encodable, Sendable {
        public var m, n, k: Int
        public var transA, transB: Bool
        public var alpha, beta: Float
        public var pad: Int
        public var maxRelError: Double
        public var wroteOutside: Bool
        public var pass: Bool
        public var label: String { "\(m)x\(n)x\(k) \(transA ? "T" : "N")\(transB ? "T" : "N")" + (pad > 0 ? " pad \(pad)" : "") }
    }

    public var cases: [Case]
    public var tolerance: Double
    public var maxRelError: Double
    public var pass: Bool

    public static func run(tolerance: Double = 1e-5) -> GemmCheck {
        let shapes: [(Int, Int, Int, Bool, Bool, Float, Float, Int)] = [
            (37, 53, 29, false, false, 1, 0, 0), (37, 53, 29, true, false, 1, 0, 0),
            (37, 53, 29, false, true, 1, 0, 0), (37, 53, 29, true, true, 1, 0, 0),
            (1, 67, 129, false, true, 1, 0, 0), (65, 1, 33, true, false, 1, 0, 0),
            (127, 131, 257, false, false, 0.75, 0.5, 3), (257, 255, 511, true, true, -1, 1, 5),
        ]
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        var cases: [Case] = []
        for (m, n, k, ta, tb, alpha, beta, pad) in shapes {
            cases.append(check(m: m, n: n, k: k, transA: ta, transB: tb, alpha: alpha, beta: beta, pad: pad,
                               tolerance: tolerance, seed: &seed))
        }
        let worst = cases.map(\.maxRelError).reduce(0) { $1.isNaN || $0.isNaN ? .nan : max($0, $1) }
        return GemmCheck(cases: cases, tolerance: tolerance, maxRelError: worst, pass: cases.allSatisfy(\.pass))
    }

    private static func check(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Float, beta: Float,
                              pad: Int, tolerance: Double, seed: inout UInt64) -> Case {
        func next() -> Float {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: seed >> 11) % 2_000_001) / 1_000_000 - 1
        }
        let (aRows, aCols) = transA ? (k, m) : (m, k)
        let (bRows, bCols) = transB ? (n, k) : (k, n)
        let lda = aCols + pad, ldb = bCols + pad, ldc = n + pad
        let sentinel: Float = 12345
        var a = [Float](repeating: .nan, count: aRows * lda)
        var b = [Float](repeating: .nan, count: bRows * ldb)
        var c = [Float](repeating: sentinel, count: m * ldc)
        for r in 0..<aRows { for q in 0..<aCols { a[r * lda + q] = next() } }
        for r in 0..<bRows { for q in 0..<bCols { b[r * ldb + q] = next() } }
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = next() } }
        let c0 = c
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                               a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                               beta: beta, c: cp.baseAddress!, ldc: ldc)
                }
            }
        }
        var worst = 0.0
        var wroteOutside = false
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0, scale = 0.0
                for p in 0..<k {
                    let x = Double(transA ? a[p * lda + i] : a[i * lda + p])
                    let y = Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                    sum += x * y
                    scale += abs(x * y)
                }
                let ref = Double(alpha) * sum + Double(beta) * Double(c0[i * ldc + j])
                let bound = abs(Double(alpha)) * scale + abs(Double(beta) * Double(c0[i * ldc + j]))
                let err = abs(Double(c[i * ldc + j]) - ref) / max(bound, Double.leastNormalMagnitude)
                if err.isNaN || err > worst { worst = err.isNaN ? .nan : err }
                if worst.isNaN { break }
            }
            for j in n..<ldc where c[i * ldc + j] != sentinel { wroteOutside = true }
        }
        return Case(m: m, n: n, k: k, transA: transA, transB: transB, alpha: alpha, beta: beta, pad: pad,
                    maxRelError: worst, wroteOutside: wroteOutside,
                    pass: !wroteOutside && worst <= tolerance)
    }
}

/// Median GFLOP/s of a square sgemm (2n³ flops per call) after two warm-up calls.
public struct GemmThroughput: Encodable, Sendable {
    public var n: Int
    public var threads: Int
    public var repeats: Int
    public var medianGflops: Double

    public static func measure(n: Int, repeats: Int) -> GemmThroughput {
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var seconds: [Double] = []
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    for i in 0..<(repeats + 2) {
                        let start = DispatchTime.now().uptimeNanoseconds
                        BLAS.sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: ap.baseAddress!, lda: n,
                                   b: bp.baseAddress!, ldb: n, beta: 0, c: cp.baseAddress!, ldc: n)
                        let end = DispatchTime.now().uptimeNanoseconds
                        if i >= 2 { seconds.append(Double(end - start) * 1e-9) }
                    }
                }
            }
        }
        let median = (try? CohortStats.median(seconds)) ?? .nan
        return GemmThroughput(n: n, threads: BLAS.threads, repeats: repeats,
                              medianGflops: 2 * Double(n * n * n) / median / 1e9)
    }
}
