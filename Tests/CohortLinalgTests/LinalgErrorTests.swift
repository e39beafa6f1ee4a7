// Errors a user can cause: singular and nearly singular matrices, matrices that are
// not positive definite, non-square or mismatched shapes, NaN/Inf input, and
// gradients that do not exist. Each message must name the op and what is wrong.
import Testing
import CohortLinalg
import CohortTensor

@Suite struct LinalgErrorTests {
    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    @Test func singularMatrixNamesTheZeroPivot() throws {
        let a = try Tensor([1, 2, 2, 4], shape: [2, 2]), b = try Tensor([1, 1], shape: [2])
        let m = message { try Linalg.solve(a, b) }
        #expect(m.contains("Linalg.solve") && m.contains("[2, 2]") && m.contains("U[1,1] = 0"), "\(m)")
        let inv = message { try Linalg.inverse(a) }
        #expect(inv.contains("Linalg.inverse") && inv.contains("U[1,1] = 0"), "\(inv)")
        #expect(try Linalg.det(a).item() == 0, "det of a singular matrix is 0, not an error")
    }

    @Test func numericallySingularMatrixIsAnError() throws {
        let a = try Tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], shape: [3, 3])
        let m = message { try Linalg.inverse(a) }
        #expect(m.contains("Linalg.inverse") && m.contains("singular"), "\(m)")
    }

    @Test func batchErrorsNameTheMatrix() throws {
        let a = try Tensor([2, 0, 0, 2, 1, 1, 1, 1], shape: [2, 2, 2])
        let m = message { try Linalg.inverse(a) }
        #expect(m.contains("[2, 2, 2]") && m.contains("matrix 1 of the batch"), "\(m)")
    }

    @Test func choleskyNamesTheLeadingMinor() throws {
        let m = message { try Linalg.cholesky(Tensor([1, 2, 2, 1], shape: [2, 2])) }
        #expect(m.contains("Linalg.cholesky") && m.contains("not positive definite") && m.contains("order 2"), "\(m)")
    }

    @Test func shapesAreChecked() throws {
        let rect = Tensor.ones([2, 3])
        let m = message { try Linalg.det(rect) }
        #expect(m.contains("Linalg.det") && m.contains("square") && m.contains("[2, 3]"), "\(m)")
        let v = message { try Linalg.eigh(Tensor.ones([3])) }
        #expect(v.contains("rank ≥ 2") && v.contains("[3]"), "\(v)")
        let s = message { try Linalg.solve(Tensor.ones([3, 3]), Tensor.ones([2])) }
        #expect(s.contains("shape mismatch") && s.contains("[3, 3]") && s.contains("[2]"), "\(s)")
        let l = message { try Linalg.lstsq(Tensor.ones([4, 2]), Tensor.ones([3])) }
        #expect(l.contains("Linalg.lstsq") && l.contains("[4, 2]"), "\(l)")
        let r = message { try Linalg.matrixRank(Tensor.ones([2, 2, 2])) }
        #expect(r.contains("[2, 2, 2]"), "\(r)")
    }

    @Test func nonFiniteInputIsAnError() throws {
        let a = try Tensor([1, .nan, 0, 1], shape: [2, 2])
        for (name, f) in [("Linalg.det", { _ = try Linalg.det(a) }), ("Linalg.svd", { _ = try Linalg.svd(a) }),
                          ("Linalg.eig", { _ = try Linalg.eig(a) })] as [(String, () throws -> Void)] {
            let m = message { try f() }
            #expect(m.contains(name) && m.contains("nan") && m.contains("[0, 1]"), "\(m)")
        }
        let inf = message { try Linalg.vectorNorm(Tensor([1, .infinity])) }
        #expect(inf.contains("Linalg.vectorNorm") && inf.contains("inf"), "\(inf)")
    }

    @Test func undefinedGradientsThrow() throws {
        let singular = try Tensor([1, 2, 2, 4], shape: [2, 2], requiresGrad: true)
        let d = try Linalg.det(singular)
        let m = message { try d.backward() }
        #expect(m.contains("Linalg.det (backward)") && m.contains("singular"), "\(m)")
        let repeated = try Tensor([2, 0, 0, 2], shape: [2, 2], requiresGrad: true)
        let v = try Linalg.eigh(repeated).vectors
        let e = message { try v.sum().backward() }
        #expect(e.contains("repeated eigenvalues"), "\(e)")
    }

    @Test func undefinedDecompositionGradientsThrow() throws {
        let eye = try Tensor([1, 0, 0, 1], shape: [2, 2], requiresGrad: true)
        let u = try Linalg.svd(eye).u
        let m = message { try (u * u).sum().backward() }
        #expect(m.contains("Linalg.svd (backward)") && m.contains("singular values 0 and 1") && m.contains("repeated"), "\(m)")
        try Linalg.svdvals(eye).sum().backward()   // s alone is fine: ∂A = U Vᵀ = I
        #expect(eye.grad?.scalars == [1, 0, 0, 1])
        let tallRankOne = try Tensor([1, 0, 0, 0, 0, 0], shape: [3, 2], requiresGrad: true)
        let z = message { try Linalg.svd(tallRankOne, fullMatrices: false).u.sum().backward() }
        #expect(z.contains("Linalg.svd (backward)") && (z.contains("zero") || z.contains("equal")), "\(z)")
        let wide = try Tensor([1, 2, 3, 4, 5, 7], shape: [2, 3], requiresGrad: true)
        let w = message { try Linalg.qr(wide).q.sum().backward() }
        #expect(w.contains("Linalg.qr (backward)") && w.contains("m ≥ n") && w.contains("2×3"), "\(w)")
        let deficient = try Tensor([1, 2, 2, 4, 3, 6], shape: [1, 3, 2], requiresGrad: true)
        let d = message { try Linalg.qr(deficient).r.sum().backward() }
        #expect(d.contains("R[1,1]") && d.contains("full column rank"), "\(d)")
        // Column 2 = 3 · column 1 rounded to Float32: R[1,1] is ~1e-7, not 0 and not ~1e-16, on every
        // kernel; the tolerance relative to the matrix (max|R_jj| · max(m, n) · 2⁻²³) still calls it rank 1.
        let col: [Float] = [0.1, 0.7, 1.3]
        let rounded = try Tensor([col[0], 3 * col[0], col[1], 3 * col[1], col[2], 3 * col[2]], shape: [3, 2], requiresGrad: true)
        let f = message { try Linalg.qr(rounded).q.sum().backward() }
        #expect(f.contains("R[1,1]") && f.contains("full column rank") && f.contains("tolerance"), "\(f)")
        #expect(try Linalg.matrixRank(rounded.detached()) == 1)
        let complete = try Tensor([1, 0, 0, 1, 1, 1], shape: [3, 2], requiresGrad: true)
        let c = message { try Linalg.qr(complete, mode: .complete).q.sum().backward() }
        #expect(c.contains(".complete") && c.contains("3×2"), "\(c)")
    }

    @Test func batchedLeastSquaresShapesAreChecked() throws {
        let m = message { try Linalg.lstsq(Tensor.ones([2, 4, 2]), Tensor.ones([3, 4])) }
        #expect(m.contains("Linalg.lstsq") && m.contains("[2, 4, 2]") && m.contains("[3, 4]") && m.contains("[2, 4]"), "\(m)")
        let r = message { try Linalg.matrixRank(Tensor.ones([2, 2, 2])) }
        #expect(r.contains("Linalg.matrixRanks"), "\(r)")
    }
}
