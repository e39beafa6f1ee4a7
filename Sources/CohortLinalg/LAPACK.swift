// The one file importing COpenBLAS in CohortLinalg: thin wrappers over the
// Fortran LAPACK routines (column-major Float64, every argument a pointer,
// hidden CHARACTER lengths passed as 1), workspace queries with lwork = -1,
// `info` checked on every call and turned into a CohortError naming the op.
import COpenBLAS
import CohortCore
import Glibc

enum LAPACK {
    /// Relative machine precision as LAPACK's dlamch('E') defines it (2⁻⁵³).
    static let epsilon = Double.ulpOfOne / 2

    static func int32(_ v: Int, _ ctx: String) throws -> Int32 {
        guard let r = Int32(exactly: v) else {
            throw CohortError.invalidArgument("\(ctx): extent \(v) exceeds LAPACK's 32-bit integer range")
        }
        return r
    }

    /// A negative `info` means we passed a bad argument: a bug here, reported rather than trapped.
    static func checkArgument(_ info: Int32, _ routine: String, _ ctx: String) throws {
        if info < 0 { throw CohortError.invalidArgument("\(ctx): internal error, \(routine) rejected argument \(-info)") }
    }

    /// Size of the optimal workspace a query (lwork = -1) wrote into `work[0]`.
    static func workspace(_ w: Double) -> Int { Swift.max(1, Int(w.rounded(.up))) }

    /// 1-norm (largest column sum of magnitudes) of a column-major matrix.
    static func norm1(_ a: Matrix) -> Double {
        var best = 0.0
        for j in 0..<a.cols { best = Swift.max(best, a.column(j).reduce(0) { $0 + Swift.abs($1) }) }
        return best
    }

    // MARK: LU: solve, inverse, determinant

    /// Solves `A X = B` (dgesv: LU with partial pivoting). Throws when a pivot is exactly
    /// zero or when dgecon's reciprocal 1-norm condition estimate is below `epsilon`
    /// (singular to working precision, as LAPACK's expert driver dgesvx reports it).
    static func solve(_ a: Matrix, _ b: Matrix, _ ctx: String) throws -> Matrix {
        let n = try int32(a.rows, ctx), nrhs = try int32(b.cols, ctx), ld = Swift.max(1, n)
        if a.rows == 0 { return b }
        var lu = a.data, x = b.data
        var ipiv = [Int32](repeating: 0, count: a.rows)
        var info: Int32 = 0
        var (nn, kk, lda, ldb) = (n, nrhs, ld, ld)
        dgesv_(&nn, &kk, &lu, &lda, &ipiv, &x, &ldb, &info)
        try checkArgument(info, "dgesv", ctx)
        try checkPivot(info, ctx)
        try checkCondition(lu, n: a.rows, anorm: norm1(a), ctx)
        return Matrix(rows: b.rows, cols: b.cols, data: x)
    }

    /// LU factorisation (dgetrf) in column-major `lu`; returns the 1-based pivots and
    /// the first exactly-zero pivot (0-based), if any.
    static func luFactor(_ a: Matrix, _ ctx: String) throws -> (lu: [Double], ipiv: [Int32], zeroPivot: Int?) {
        let n = try int32(a.rows, ctx)
        var m = n, nn = n, lda = Swift.max(1, n), info: Int32 = 0
        var lu = a.data
        var ipiv = [Int32](repeating: 0, count: a.rows)
        if a.rows > 0 { dgetrf_(&m, &nn, &lu, &lda, &ipiv, &info) }
        try checkArgument(info, "dgetrf", ctx)
        return (lu, ipiv, info > 0 ? Int(info) - 1 : nil)
    }

    /// `A⁻¹` by dgetrf, dgecon and dgetri; throws like `solve` for singular matrices.
    static func inverse(_ a: Matrix, _ ctx: String) throws -> Matrix {
        if a.rows == 0 { return a }
        let (lu, ipiv, zero) = try luFactor(a, ctx)
        if let zero { try checkPivot(Int32(zero + 1), ctx) }
        try checkCondition(lu, n: a.rows, anorm: norm1(a), ctx)
        return try invertFactored(lu, ipiv, a.rows, ctx)
    }

    /// Sign (−1, 0, +1) and log |det A| from the LU factors; singular gives (0, −∞).
    static func slogdet(_ a: Matrix, _ ctx: String) throws -> (sign: Double, logAbs: Double) {
        let (lu, ipiv, zero) = try luFactor(a, ctx)
        if zero != nil { return (0, -.infinity) }
        var sign = 1.0, logAbs = 0.0
        for i in 0..<a.rows {
            let u = lu[i + i * a.rows]
            if u < 0 { sign = -sign }
            if Int(ipiv[i]) != i + 1 { sign = -sign }
            logAbs += log(Swift.abs(u))
        }
        return (sign, logAbs)
    }

    /// `A⁻¹` without the conditioning check, or nil when a pivot is exactly zero (for `cond`).
    static func inverseOrNil(_ a: Matrix, _ ctx: String) throws -> Matrix? {
        if a.rows == 0 { return a }
        let (lu, ipiv, zero) = try luFactor(a, ctx)
        if zero != nil { return nil }
        return try invertFactored(lu, ipiv, a.rows, ctx)
    }

    /// dgetri on dgetrf's factors (no pivot is zero).
    private static func invertFactored(_ factors: [Double], _ pivots: [Int32], _ size: Int, _ ctx: String) throws -> Matrix {
        var lu = factors, ipiv = pivots
        var n = try int32(size, ctx), lda = n, lwork: Int32 = -1, info: Int32 = 0
        var query = 0.0
        dgetri_(&n, &lu, &lda, &ipiv, &query, &lwork, &info)
        try checkArgument(info, "dgetri", ctx)
        lwork = try int32(workspace(query), ctx)
        var work = [Double](repeating: 0, count: Int(lwork))
        dgetri_(&n, &lu, &lda, &ipiv, &work, &lwork, &info)
        try checkArgument(info, "dgetri", ctx)
        try checkPivot(info, ctx)
        return Matrix(rows: size, cols: size, data: lu)
    }

    private static func checkPivot(_ info: Int32, _ ctx: String) throws {
        guard info > 0 else { return }
        let i = Int(info) - 1
        throw CohortError.invalidArgument("\(ctx) is singular: U[\(i),\(i)] = 0 in its LU factorisation")
    }

    private static func checkCondition(_ lu: [Double], n: Int, anorm: Double, _ ctx: String) throws {
        var norm = CChar(UInt8(ascii: "1")), nn = try int32(n, ctx), lda = nn, an = anorm
        var rcond = 0.0, info: Int32 = 0
        var work = [Double](repeating: 0, count: 4 * n)
        var iwork = [Int32](repeating: 0, count: n)
        dgecon_(&norm, &nn, lu, &lda, &an, &rcond, &work, &iwork, &info, 1)
        try checkArgument(info, "dgecon", ctx)
        if rcond < epsilon {
            throw CohortError.invalidArgument("\(ctx) is singular to working precision: reciprocal condition number \(rcond) (1-norm estimate) is below 2⁻⁵³")
        }
    }

    // MARK: Cholesky, QR

    /// Lower Cholesky factor (dpotrf, uplo 'L': only A's lower triangle is read).
    static func cholesky(_ a: Matrix, _ ctx: String) throws -> Matrix {
        var l = a
        if a.rows == 0 { return l }
        var uplo = CChar(UInt8(ascii: "L")), n = try int32(a.rows, ctx), lda = n, info: Int32 = 0
        dpotrf_(&uplo, &n, &l.data, &lda, &info, 1)
        try checkArgument(info, "dpotrf", ctx)
        if info > 0 {
            throw CohortError.invalidArgument("\(ctx) is not positive definite: its leading minor of order \(info) (rows and columns 0..<\(info)) is not positive")
        }
        for j in 0..<a.cols { for i in 0..<j { l[i, j] = 0 } }
        return l
    }

    /// Householder QR (dgeqrf) and the explicit Q (dorgqr): reduced Q m×k, R k×n, or
    /// complete Q m×m, R m×n, with k = min(m, n).
    static func qr(_ a: Matrix, complete: Bool, _ ctx: String) throws -> (q: Matrix, r: Matrix) {
        let m = a.rows, n = a.cols, k = Swift.min(m, n)
        let qCols = complete ? m : k
        var r = Matrix(rows: complete ? m : k, cols: n)
        if m == 0 || n == 0 {
            return (complete ? Matrix.identity(m) : Matrix(rows: m, cols: k), r)
        }
        var mm = try int32(m, ctx), nn = try int32(n, ctx), lda = mm, info: Int32 = 0, lwork: Int32 = -1
        // Q is formed in place of A, so A is copied into an m × max(n, qCols) buffer.
        var buf = Matrix(rows: m, cols: Swift.max(n, qCols))
        buf.data.replaceSubrange(0..<(m * n), with: a.data)
        var tau = [Double](repeating: 0, count: k)
        var query = 0.0
        dgeqrf_(&mm, &nn, &buf.data, &lda, &tau, &query, &lwork, &info)
        try checkArgument(info, "dgeqrf", ctx)
        lwork = try int32(workspace(query), ctx)
        var work = [Double](repeating: 0, count: Int(lwork))
        dgeqrf_(&mm, &nn, &buf.data, &lda, &tau, &work, &lwork, &info)
        try checkArgument(info, "dgeqrf", ctx)
        for j in 0..<n { for i in 0...Swift.min(j, r.rows - 1) { r[i, j] = buf[i, j] } }
        var qc = try int32(qCols, ctx), kk = try int32(k, ctx)
        lwork = -1
        dorgqr_(&mm, &qc, &kk, &buf.data, &lda, &tau, &query, &lwork, &info)
        try checkArgument(info, "dorgqr", ctx)
        lwork = try int32(workspace(query), ctx)
        work = [Double](repeating: 0, count: Int(lwork))
        dorgqr_(&mm, &qc, &kk, &buf.data, &lda, &tau, &work, &lwork, &info)
        try checkArgument(info, "dorgqr", ctx)
        return (buf.leadingColumns(qCols), r)
    }

    // MARK: Eigenvalues

    /// Symmetric eigendecomposition (dsyevd, uplo 'L': only A's lower triangle is read):
    /// ascending eigenvalues and, if asked, orthonormal eigenvectors as columns.
    static func eigh(_ a: Matrix, vectors: Bool, _ ctx: String) throws -> (values: [Double], vectors: Matrix) {
        let n = a.rows
        var v = a
        var w = [Double](repeating: 0, count: n)
        if n == 0 { return (w, v) }
        var jobz = CChar(UInt8(ascii: vectors ? "V" : "N")), uplo = CChar(UInt8(ascii: "L"))
        var nn = try int32(n, ctx), lda = nn, info: Int32 = 0, lwork: Int32 = -1, liwork: Int32 = -1
        var query = 0.0, iquery: Int32 = 0
        dsyevd_(&jobz, &uplo, &nn, &v.data, &lda, &w, &query, &lwork, &iquery, &liwork, &info, 1, 1)
        try checkArgument(info, "dsyevd", ctx)
        lwork = try int32(workspace(query), ctx)
        liwork = Swift.max(1, iquery)
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jobz, &uplo, &nn, &v.data, &lda, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
        try checkArgument(info, "dsyevd", ctx)
        if info > 0 { throw CohortError.invalidArgument("\(ctx): the eigenvalue algorithm (dsyevd) failed to converge (info \(info))") }
        return (w, v)
    }

    /// General eigendecomposition (dgeev, right eigenvectors): eigenvalues as real and
    /// imaginary parts (conjugate pairs adjacent, positive imaginary part first) and
    /// LAPACK's packed real eigenvector matrix (a pair j, j+1 stores Re in column j, Im in j+1).
    static func eig(_ a: Matrix, _ ctx: String) throws -> (wr: [Double], wi: [Double], vr: Matrix) {
        let n = a.rows
        var wr = [Double](repeating: 0, count: n), wi = wr
        var vr = Matrix(rows: n, cols: n)
        if n == 0 { return (wr, wi, vr) }
        var work0 = a
        var jobvl = CChar(UInt8(ascii: "N")), jobvr = CChar(UInt8(ascii: "V"))
        var nn = try int32(n, ctx), lda = nn, ldvl: Int32 = 1, ldvr = nn, info: Int32 = 0, lwork: Int32 = -1
        var vl = [0.0], query = 0.0
        dgeev_(&jobvl, &jobvr, &nn, &work0.data, &lda, &wr, &wi, &vl, &ldvl, &vr.data, &ldvr, &query, &lwork, &info, 1, 1)
        try checkArgument(info, "dgeev", ctx)
        lwork = try int32(workspace(query), ctx)
        var work = [Double](repeating: 0, count: Int(lwork))
        dgeev_(&jobvl, &jobvr, &nn, &work0.data, &lda, &wr, &wi, &vl, &ldvl, &vr.data, &ldvr, &work, &lwork, &info, 1, 1)
        try checkArgument(info, "dgeev", ctx)
        if info > 0 { throw CohortError.invalidArgument("\(ctx): the QR algorithm (dgeev) failed to converge (info \(info))") }
        return (wr, wi, vr)
    }

    // MARK: SVD, least squares

    /// Singular value decomposition (dgesdd): `A = U diag(s) Vᵀ`, s descending. With
    /// `vectors` false only s is computed; `full` gives U m×m and Vᵀ n×n, else m×k and k×n.
    static func svd(_ a: Matrix, full: Bool, vectors: Bool, _ ctx: String) throws -> (u: Matrix, s: [Double], vt: Matrix) {
        let m = a.rows, n = a.cols, k = Swift.min(m, n)
        let uCols = vectors ? (full ? m : k) : 0, vtRows = vectors ? (full ? n : k) : 0
        var u = Matrix(rows: m, cols: uCols), vt = Matrix(rows: vtRows, cols: n)
        var s = [Double](repeating: 0, count: k)
        if k == 0 {
            if vectors && full { u = Matrix.identity(m); vt = Matrix.identity(n) }
            return (u, s, vt)
        }
        var jobz = CChar(UInt8(ascii: vectors ? (full ? "A" : "S") : "N"))
        var mm = try int32(m, ctx), nn = try int32(n, ctx), lda = mm, info: Int32 = 0, lwork: Int32 = -1
        var ldu = try int32(Swift.max(1, m), ctx), ldvt = try int32(Swift.max(1, vtRows), ctx)
        var copy = a
        if !vectors { u = Matrix(rows: 1, cols: 1); vt = Matrix(rows: 1, cols: 1) }
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var query = 0.0
        dgesdd_(&jobz, &mm, &nn, &copy.data, &lda, &s, &u.data, &ldu, &vt.data, &ldvt, &query, &lwork, &iwork, &info, 1)
        try checkArgument(info, "dgesdd", ctx)
        lwork = try int32(workspace(query), ctx)
        var work = [Double](repeating: 0, count: Int(lwork))
        dgesdd_(&jobz, &mm, &nn, &copy.data, &lda, &s, &u.data, &ldu, &vt.data, &ldvt, &work, &lwork, &iwork, &info, 1)
        try checkArgument(info, "dgesdd", ctx)
        if info > 0 { throw CohortError.invalidArgument("\(ctx): the SVD (dgesdd) failed to converge (info \(info))") }
        if !vectors { u = Matrix(rows: m, cols: 0); vt = Matrix(rows: 0, cols: n) }
        return (u, s, vt)
    }

    /// Minimum-norm least squares (dgelsd, SVD-based): singular values below
    /// `rcond · s_max` count as zero. Returns the full m'×k right-hand-side buffer
    /// (m' = max(m, n): rows 0..<n are the solution, rows n..<m the residual components),
    /// the effective rank and the singular values.
    static func lstsq(_ a: Matrix, _ b: Matrix, rcond: Double, _ ctx: String) throws -> (x: Matrix, rank: Int, s: [Double]) {
        let m = a.rows, n = a.cols, k = b.cols, ldbRows = Swift.max(1, m, n)
        var bb = Matrix(rows: ldbRows, cols: k)
        for j in 0..<k { for i in 0..<m { bb[i, j] = b[i, j] } }
        var s = [Double](repeating: 0, count: Swift.min(m, n))
        if m == 0 || n == 0 || k == 0 { return (bb, 0, s) }
        var mm = try int32(m, ctx), nn = try int32(n, ctx), kk = try int32(k, ctx)
        var lda = mm, ldb = try int32(ldbRows, ctx), rc = rcond, rank: Int32 = 0, info: Int32 = 0, lwork: Int32 = -1
        var copy = a
        var query = 0.0, iquery: Int32 = 0
        dgelsd_(&mm, &nn, &kk, &copy.data, &lda, &bb.data, &ldb, &s, &rc, &rank, &query, &lwork, &iquery, &info)
        try checkArgument(info, "dgelsd", ctx)
        lwork = try int32(workspace(query), ctx)
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: Swift.max(1, Int(iquery)))
        dgelsd_(&mm, &nn, &kk, &copy.data, &lda, &bb.data, &ldb, &s, &rc, &rank, &work, &lwork, &iwork, &info)
        try checkArgument(info, "dgelsd", ctx)
        if info > 0 { throw CohortError.invalidArgument("\(ctx): the SVD in least squares (dgelsd) failed to converge (info \(info))") }
        return (bb, Int(rank), s)
    }

    // MARK: BLAS helpers for the backward passes

    /// `op(A) · op(B)` (cblas_dgemm, column-major).
    static func matmul(_ a: Matrix, _ b: Matrix, transA: Bool = false, transB: Bool = false) -> Matrix {
        let m = transA ? a.cols : a.rows, k = transA ? a.rows : a.cols
        let n = transB ? b.rows : b.cols
        precondition(k == (transB ? b.cols : b.rows), "matmul: inner extents differ")
        var c = Matrix(rows: m, cols: n)
        if m == 0 || n == 0 || k == 0 { return c }
        cblas_dgemm(CblasColMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a.data, Int32(Swift.max(1, a.rows)), b.data, Int32(Swift.max(1, b.rows)),
                    0, &c.data, Int32(Swift.max(1, m)))
        return c
    }

    /// Solves `op(L) X = B` (left) or `X op(L) = B` (right) for lower-triangular `L` (cblas_dtrsm).
    static func triangularSolve(_ l: Matrix, _ b: Matrix, left: Bool, transpose: Bool) -> Matrix {
        var x = b
        if b.rows == 0 || b.cols == 0 { return x }
        cblas_dtrsm(CblasColMajor, left ? CblasLeft : CblasRight, CblasLower, transpose ? CblasTrans : CblasNoTrans,
                    CblasNonUnit, Int32(b.rows), Int32(b.cols), 1, l.data, Int32(Swift.max(1, l.rows)), &x.data,
                    Int32(Swift.max(1, b.rows)))
        return x
    }
}

