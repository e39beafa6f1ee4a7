// The one file that imports OpenBLAS: GEMM/GEMV wrappers with checked
// dimensions, and the library's runtime controls (kernel name, threads).
import COpenBLAS
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Thin, checked access to OpenBLAS.
package enum BLAS {
    /// Row-major single-precision GEMM: `C = alpha * op(A) * op(B) + beta * C`,
    /// with `op(A)` of shape `[m, k]`, `op(B)` of shape `[k, n]`, `C` of shape `[m, n]`.
    /// Leading dimensions are row strides of the stored (untransposed) matrices.
    @inline(__always)
    package static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                             alpha: Float, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            // BLAS would leave C untouched only for beta == 1; make the k == 0 case exact.
            for i in 0..<m { let row = c + i * ldc; for j in 0..<n { row[j] = beta == 0 ? 0 : row[j] * beta } }
            return
        }
        precondition(m <= Int(Int32.max) && n <= Int(Int32.max) && k <= Int(Int32.max),
                     "sgemm dimensions exceed Int32: m=\(m) n=\(n) k=\(k)")
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Row-major GEMV: `y = alpha * op(A) * x + beta * y`, A stored `[rows, cols]`.
    package static func sgemv(trans: Bool, rows: Int, cols: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
                             beta: Float, y: UnsafeMutablePointer<Float>) {
        if rows == 0 || cols == 0 { return }
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(rows), Int32(cols),
                    alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// `C = A · B` (row-major, no transposes, α = 1, β = 0) through OpenBLAS's unpacked
    /// "direct" AVX-512 kernel when the loaded kernel has one, else `sgemm`. The direct
    /// kernel skips packing, which dominates small GEMMs repeated with one operand
    /// (a recurrent step's `h · W_hhᵀ`): 25–40 % faster at `[32, 256] × [256, 1024]` here.
    package static func sgemmNN(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                               b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if let direct = DirectKernel.shared.function, k > 0 {
            direct(m, n, k, UnsafeMutablePointer(mutating: a), lda, UnsafeMutablePointer(mutating: b), ldb, c, ldc)
        } else {
            sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
        }
    }

    /// Whether `sgemmNN` uses the direct kernel.
    package static var hasDirectKernel: Bool { DirectKernel.shared.function != nil }

    /// Dot product of two contiguous vectors.
    package static func sdot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        cblas_sdot(Int32(n), x, 1, y, 1)
    }

    /// The kernel OpenBLAS selected at load time (e.g. `SkylakeX`, `Prescott`).
    package static var coreName: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS build configuration string.
    package static var config: String { String(cString: openblas_get_config()) }

    /// Threads OpenBLAS uses for one call: the configured count, also while some thread
    /// is inside `singleThreaded` (which holds OpenBLAS at one thread until every such
    /// region has ended, then restores this count).
    package static var threads: Int {
        get {
            threadSetting.withLock { s in s.regions > 0 ? s.configured : Int(openblas_get_num_threads()) }
        }
        set {
            let n = max(1, newValue)
            threadSetting.withLock { s in
                if s.regions > 0 { s.configured = n } else { openblas_set_num_threads(Int32(n)) }
            }
        }
    }

    /// Threads OpenBLAS runs a call on right now (1 inside any `singleThreaded` region).
    package static var liveThreads: Int { Int(openblas_get_num_threads()) }

    /// Runs `body` with OpenBLAS on one thread, for callers that run their own threads
    /// and call BLAS from each. OpenBLAS's thread count is one process-wide setting, so
    /// regions on several threads (parallel tests, concurrent requests) are counted: the
    /// first sets one thread, the last restores the configured count. Saving and restoring
    /// it around each region instead let one region restore two threads while another's
    /// workers ran (their GEMMs then split and rounded differently), or left one thread set
    /// for good when the regions overlapped.
    package static func singleThreaded<R>(_ body: () throws -> R) rethrows -> R {
        threadSetting.withLock { s in
            if s.regions == 0 {
                s.configured = Int(openblas_get_num_threads())
                if s.configured != 1 { openblas_set_num_threads(1) }
            }
            s.regions += 1
        }
        defer {
            threadSetting.withLock { s in
                s.regions -= 1
                if s.regions == 0 && s.configured != 1 { openblas_set_num_threads(Int32(s.configured)) }
            }
        }
        return try body()
    }
}

/// The configured OpenBLAS thread count while `BLAS.singleThreaded` regions are open.
private struct ThreadSetting {
    var configured = 1
    var regions = 0
}

private let threadSetting = Mutex(ThreadSetting())

/// OpenBLAS's `sgemm_direct_<CORE>` (exported, not declared in cblas.h; OpenBLAS 0.3.x
/// signature `(M, N, K, A, lda, B, ldb, C, ldc)`), found with dlsym for the AVX-512 cores
/// that have it and checked once against `cblas_sgemm` before use.
private struct DirectKernel: @unchecked Sendable {
    typealias Function = @convention(c) (Int, Int, Int, UnsafeMutablePointer<Float>?, Int,
                                         UnsafeMutablePointer<Float>?, Int, UnsafeMutablePointer<Float>?, Int) -> Void
    let function: Function?

    static let shared = DirectKernel()

    init() {
        let core = BLAS.coreName.uppercased()
        guard ["SKYLAKEX", "COOPERLAKE", "SAPPHIRERAPIDS"].contains(core),
              let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sgemm_direct_" + core) else { function = nil; return }
        let f = unsafeBitCast(symbol, to: Function.self)
        // A strided, odd-sized product must match cblas_sgemm before the kernel is trusted.
        let (m, n, k, lda, ldb, ldc) = (5, 37, 19, 23, 41, 39)
        var a = (0..<(m * lda)).map { Float(($0 * 37) % 101) / 50 - 1 }
        var b = (0..<(k * ldb)).map { Float(($0 * 53) % 97) / 48 - 1 }
        var c1 = [Float](repeating: 7, count: m * ldc), c2 = c1
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, &c1, Int32(ldc))
        f(m, n, k, &a, lda, &b, ldb, &c2, ldc)
        let ok = zip(c1, c2).allSatisfy { Swift.abs($0 - $1) <= 1e-4 }
        function = ok ? f : nil
    }
}
