// The Swift face of CInt8Kernels (the one file importing it): kernel choice and
// query, the u8×s8 → s32 GEMM with its +128 compensation, row quantization and
// im2row. Counts are checked here, before any pointer reaches C.
import CInt8Kernels
import CohortCore

/// An int8 GEMM kernel of CInt8Kernels.
public enum Int8Kernel: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// Plain C.
    case portable = 0
    /// AVX2: u8 and s8 widened to int16, `vpmaddwd`.
    case avx2 = 1
    /// AVX-512 VNNI: `vpdpbusd`.
    case vnni = 2

    /// The name `COHORT_INT8_KERNEL` and `cohort doctor` use.
    public var description: String { String(cString: cohort_i8_kernel_name(Int32(rawValue))) }
    /// Whether this CPU can run the kernel.
    public var isSupported: Bool { cohort_i8_kernel_supported(Int32(rawValue)) != 0 }
    /// Every kernel this CPU can run.
    public static var supported: [Int8Kernel] { allCases.filter(\.isSupported) }

    /// The kernel quantized layers use, chosen once per process: `COHORT_INT8_KERNEL` when set, else the fastest supported.
    /// - Throws: `CohortError.invalidParameter` naming `COHORT_INT8_KERNEL` when it names an unknown kernel or one this CPU lacks.
    public static func selected() throws -> Int8Kernel {
        let k = cohort_i8_selected_kernel()
        guard k >= 0, let kernel = Int8Kernel(rawValue: Int(k)) else {
            throw CohortError.invalidParameter(name: "COHORT_INT8_KERNEL", String(cString: cohort_i8_selection_error()))
        }
        return kernel
    }
}

/// int8 matrix kernels on flat row-major arrays.
public enum Int8GEMM {
    /// `c[m, n] = Σ_k a[m, k] · b[n, k]` for `a: [m, k]` uint8 (activations + 128), `b: [n, k]` int8
    /// (weights, one output channel per row); `c` is `[m, n]`, overwritten. `kernel` nil: the selected one.
    /// - Throws: `CohortError.shapeMismatch` when a buffer is smaller than its shape; the selection error of `Int8Kernel.selected()`.
    public static func gemm(m: Int, n: Int, k: Int, a: UnsafeBufferPointer<UInt8>, b: UnsafeBufferPointer<Int8>,
                            c: UnsafeMutableBufferPointer<Int32>, kernel: Int8Kernel? = nil) throws {
        guard m >= 0, n >= 0, k >= 0, a.count >= m * k, b.count >= n * k, c.count >= m * n else {
            throw CohortError.shapeMismatch(op: "int8 gemm", "a \(a.count) elements for [\(m), \(k)], b \(b.count) for [\(n), \(k)], c \(c.count) for [\(m), \(n)]")
        }
        guard m > 0, n > 0 else { return }
        guard k > 0 else { c.update(repeating: 0); return }
        let chosen = try kernel ?? Int8Kernel.selected()
        let rc = cohort_i8_gemm_with(Int32(chosen.rawValue), m, n, k, a.baseAddress, k, b.baseAddress, k, c.baseAddress, n)
        guard rc == 0 else { throw CohortError.invalidArgument("int8 gemm: kernel \(chosen) is not supported on this CPU") }
    }

    /// `Σ_k b[r, k]` of each row of `b: [rows, k]` (what the +128 shift of the activations adds, ÷128).
    public static func rowSums(_ b: [Int8], rows: Int, k: Int) -> [Int32] {
        precondition(b.count == rows * k, "rowSums: \(b.count) weights for [\(rows), \(k)]")
        var sums = [Int32](repeating: 0, count: rows)
        b.withUnsafeBufferPointer { bp in sums.withUnsafeMutableBufferPointer { cohort_i8_row_sums(rows, k, bp.baseAddress, k, $0.baseAddress) } }
        return sums
    }

    /// Quantizes `x: [rows, cols]` to uint8 (`round(x/scale)` clamped to ±127, plus 128) into `q`.
    /// Dynamic (`fixedScale` nil): one scale per row, `max|row| / 127`, written to `scales`; else `fixedScale` for all.
    static func quantizeRows(_ x: UnsafePointer<Float>, rows: Int, cols: Int, into q: UnsafeMutablePointer<UInt8>,
                             scales: UnsafeMutablePointer<Float>, fixedScale: Float?) {
        if let s = fixedScale { for r in 0..<rows { scales[r] = s } }
        cohort_i8_quantize_rows(rows, cols, x, cols, q, cols, scales, fixedScale == nil ? 1 : 0)
    }

    /// One uint8 image `[channels, height, width]` to rows `[oh·ow, channels·kh·kw]` (padding is the zero point, 128).
    static func im2row(_ image: UnsafePointer<UInt8>, channels: Int, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int),
                       padding: (Int, Int), dilation: (Int, Int), output: (Int, Int), into out: UnsafeMutablePointer<UInt8>) {
        cohort_i8_im2row(image, channels, height, width, kernel.0, kernel.1, stride.0, stride.1, padding.0, padding.1,
                         dilation.0, dilation.1, output.0, output.1, out)
    }

    /// `b: [rows, k]` in the VNNI kernel's packed layout (`cohort_i8_pack`), or nil when the selected kernel is not VNNI
    /// (the other kernels multiply the row-major weights).
    static func packedForSelectedKernel(_ b: [Int8], rows: Int, k: Int) -> [Int8]? {
        guard (try? Int8Kernel.selected()) == .vnni, rows > 0, k > 0 else { return nil }
        var packed = [Int8](repeating: 0, count: cohort_i8_packed_size(rows, k))
        b.withUnsafeBufferPointer { bp in packed.withUnsafeMutableBufferPointer { cohort_i8_pack(rows, k, bp.baseAddress, k, $0.baseAddress) } }
        return packed
    }

    /// The fused VNNI layer (`cohort_i8_linear_packed`): `y[m, n]` = dequantized `xq[m, k] · Wᵀ` + bias, ReLU when `relu`,
    /// for `packed` from `packedForSelectedKernel`. Returns false when the CPU cannot run it.
    static func linearPacked(m: Int, n: Int, k: Int, xq: UnsafePointer<UInt8>, packed: [Int8], sums: [Int32], rowScales: UnsafePointer<Float>,
                             columnScales: [Float], bias: [Float]?, relu: Bool, into y: UnsafeMutablePointer<Float>) -> Bool {
        precondition(packed.count == cohort_i8_packed_size(n, k) && sums.count == n && columnScales.count == n && (bias?.count ?? n) == n)
        if let bias {
            return cohort_i8_linear_packed(m, n, k, xq, k, packed, sums, rowScales, columnScales, bias, relu ? 1 : 0, y, n) == 0
        }
        return cohort_i8_linear_packed(m, n, k, xq, k, packed, sums, rowScales, columnScales, nil, relu ? 1 : 0, y, n) == 0
    }

    /// The GEMM's epilogue (`cohort_i8_dequantize`): `acc: [m, n]` to fp32 `y` with the +128 compensation, scales, bias, ReLU.
    static func dequantize(m: Int, n: Int, acc: [Int32], sums: [Int32], rowScales: UnsafePointer<Float>, rowsPerScale: Int,
                           columnScales: [Float], bias: [Float]?, relu: Bool, nchw: Bool, into y: UnsafeMutablePointer<Float>) {
        precondition(acc.count == m * n && sums.count == n && columnScales.count == n && (bias?.count ?? n) == n && rowsPerScale >= 1)
        if let bias {
            cohort_i8_dequantize(m, n, acc, sums, rowScales, rowsPerScale, columnScales, bias, relu ? 1 : 0, nchw ? 1 : 0, y)
        } else {
            cohort_i8_dequantize(m, n, acc, sums, rowScales, rowsPerScale, columnScales, nil, relu ? 1 : 0, nchw ? 1 : 0, y)
        }
    }
}
