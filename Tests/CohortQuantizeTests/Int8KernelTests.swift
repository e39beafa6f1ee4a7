// Every int8 GEMM kernel this CPU supports against the portable one on odd shapes
// (exact: integer arithmetic), including the K tails of the vector loops and the
// extreme values (255 × ±127) where a saturating kernel would differ; the selection.
import CohortCore
import CohortQuantize
import CohortTensor
import Testing

@Suite struct Int8KernelTests {
    static let shapes: [(m: Int, n: Int, k: Int)] = [(1, 1, 1), (1, 10, 784), (3, 5, 7), (7, 13, 65), (2, 4, 64), (5, 9, 129),
                                                    (64, 17, 300), (1, 3, 15), (11, 6, 17), (33, 4, 200)]

    static func product(_ kernel: Int8Kernel, m: Int, n: Int, k: Int, a: [UInt8], b: [Int8]) throws -> [Int32] {
        var c = [Int32](repeating: -1, count: m * n)
        try a.withUnsafeBufferPointer { ap in
            try b.withUnsafeBufferPointer { bp in try c.withUnsafeMutableBufferPointer { try Int8GEMM.gemm(m: m, n: n, k: k, a: ap, b: bp, c: $0, kernel: kernel) } }
        }
        return c
    }

    @Test func portableIsTheDefinition() throws {
        let (m, n, k) = (2, 3, 4)
        let a: [UInt8] = [1, 2, 3, 4, 255, 0, 128, 7]
        let b: [Int8] = [1, 0, -1, 2, -127, 127, 3, 5, 0, 0, 0, -128]
        let c = try Self.product(.portable, m: m, n: n, k: k, a: a, b: b)
        var expected = [Int32](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n { for p in 0..<k { expected[i * n + j] += Int32(a[i * k + p]) * Int32(b[j * k + p]) } } }
        #expect(c == expected)
    }

    @Test(arguments: Int8Kernel.allCases) func kernelMatchesPortable(_ kernel: Int8Kernel) throws {
        guard kernel.isSupported else { return }   // nothing to run on this CPU; the selection test covers the error
        var g = RandomGenerator(seed: 17)
        for (m, n, k) in Self.shapes {
            for extreme in [false, true] {
                let a = (0..<m * k).map { _ in extreme ? UInt8(255) : UInt8(Tensor.rand([1], low: 0, high: 256, generator: &g).scalars[0].rounded(.down).clamped(0, 255)) }
                let b = (0..<n * k).map { i in extreme ? Int8(i % 2 == 0 ? 127 : -128) : Int8(Tensor.rand([1], low: -128, high: 128, generator: &g).scalars[0].rounded(.down).clamped(-128, 127)) }
                let want = try Self.product(.portable, m: m, n: n, k: k, a: a, b: b)
                let got = try Self.product(kernel, m: m, n: n, k: k, a: a, b: b)
                #expect(got == want, "kernel \(kernel), m \(m) n \(n) k \(k) extreme \(extreme)")
            }
        }
    }

    @Test func selectionPicksTheFastestSupported() throws {
        let selected = try Int8Kernel.selected()
        #expect(selected.isSupported)
        #expect(selected == Int8Kernel.supported.last || ProcessIsForced.value != nil, "selected \(selected), supported \(Int8Kernel.supported)")
    }

    @Test func shortBuffersAreErrors() throws {
        #expect(throws: CohortError.self) { _ = try Self.product(.portable, m: 2, n: 2, k: 3, a: [1, 2, 3], b: [1, 2, 3, 4, 5, 6]) }
    }
}

enum ProcessIsForced {
    static var value: String? { getenv("COHORT_INT8_KERNEL").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } }
}

extension Float {
    func clamped(_ lo: Float, _ hi: Float) -> Float { Swift.min(Swift.max(self, lo), hi) }
}

#if canImport(Glibc)
import Glibc
#endif
