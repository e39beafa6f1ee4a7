// Values against NumPy/SciPy references (Fixtures/linalg.json): solve, inverse,
// determinants, Cholesky, QR, eigh, eig, SVD, least squares, rank, bases, norms,
// condition numbers, including batches, 1×1 and empty batch dimensions.
import Testing
import CohortLinalg
import CohortTensor
import CohortTestSupport

@Suite struct LinalgValueTests {
    @Test func solveMatchesNumPy() throws {
        for c in Reference.cases("solve") {
            let name = c["name"] as! String
            let x = try Linalg.solve(Reference.tensor(c["a"]), Reference.tensor(c["b"]))
            #expect(x.shape == Reference.shape(c["x"]), "\(name)")
            assertClose(x.scalars.map(Double.init), Reference.values(c["x"]), atol: 1e-5, rtol: 1e-5, name)
        }
    }

    @Test func inverseMatchesNumPy() throws {
        for c in Reference.cases("inverse") {
            let inv = try Linalg.inverse(Reference.tensor(c["a"]))
            #expect(inv.shape == Reference.shape(c["inv"]))
            assertClose(inv.scalars.map(Double.init), Reference.values(c["inv"]), atol: 1e-5, rtol: 1e-5, c["name"] as! String)
        }
    }

    @Test func determinantsMatchNumPy() throws {
        for c in Reference.cases("det") {
            let name = c["name"] as! String
            let a = Reference.tensor(c["a"])
            let det = try Linalg.det(a)
            let (sign, logAbs) = try Linalg.slogdet(a)
            #expect(det.shape == Reference.shape(c["det"]), "\(name)")
            assertClose(det.scalars.map(Double.init), Reference.values(c["det"]), atol: 1e-5, rtol: 1e-5, "det \(name)")
            assertClose(sign.scalars.map(Double.init), Reference.values(c["sign"]), atol: 0, rtol: 0, "sign \(name)")
            assertClose(logAbs.scalars.map(Double.init), Reference.values(c["logabsdet"]), atol: 1e-5, rtol: 1e-5, "logabsdet \(name)")
        }
    }

    @Test func choleskyMatchesNumPy() throws {
        for c in Reference.cases("cholesky") {
            let l = try Linalg.cholesky(Reference.tensor(c["a"]))
            assertClose(l.scalars.map(Double.init), Reference.values(c["l"]), atol: 1e-5, rtol: 1e-5, c["name"] as! String)
        }
    }

    @Test func qrMatchesNumPyUpToSigns() throws {
        for c in Reference.cases("qr") {
            let name = c["name"] as! String
            let a = Reference.tensor(c["a"])
            for (mode, qKey, rKey) in [(QRMode.reduced, "q", "r"), (.complete, "qc", "rc")] {
                let (q, r) = try Linalg.qr(a, mode: mode)
                #expect(q.shape == Reference.shape(c[qKey]) && r.shape == Reference.shape(c[rKey]), "\(name) \(mode)")
                expectColumnsUpToSign(q, Reference.values(c[qKey]), atol: 1e-5, "Q \(name) \(mode)")
                let back = try Tensor.matmul(q, r)   // reconstruction does not depend on signs
                assertClose(back, a, atol: 1e-5, rtol: 1e-5, "QR \(name) \(mode)")
            }
        }
    }

    @Test func eighMatchesNumPy() throws {
        for c in Reference.cases("eigh") {
            let name = c["name"] as! String
            let a = Reference.tensor(c["a"])
            let (w, v) = try Linalg.eigh(a)
            assertClose(w.scalars.map(Double.init), Reference.values(c["w"]), atol: 1e-5, rtol: 1e-5, "values \(name)")
            assertClose(try Linalg.eigvalsh(a).scalars.map(Double.init), Reference.values(c["w"]), atol: 1e-5, rtol: 1e-5, "eigvalsh \(name)")
            #expect(v.shape == a.shape, "\(name)")
            if name != "repeated" {   // a repeated eigenvalue's eigenvectors are any basis of its eigenspace
                expectColumnsUpToSign(v, Reference.values(c["v"]), atol: 1e-5, "vectors \(name)")
            }
            // A V = V diag(w) and Vᵀ V = I, per matrix.
            let av = try Tensor.matmul(a, v), vw = try v * w.unsqueeze(-2)
            assertClose(av, vw, atol: 1e-5, rtol: 1e-5, "A V = V diag(w), \(name)")
            let vtv = try Tensor.matmul(v.transpose(-2, -1), v)
            let n = a.shape.last!
            var eye = [Float](repeating: 0, count: vtv.count)
            for b in 0..<(n == 0 ? 0 : vtv.count / (n * n)) { for i in 0..<n { eye[b * n * n + i * n + i] = 1 } }
            assertClose(vtv, eye, atol: 1e-5, rtol: 0, "VᵀV = I, \(name)")
        }
    }

    @Test func eigMatchesNumPyWithConjugatePairs() throws {
        for c in Reference.cases("eig") {
            let name = c["name"] as! String
            let a = Reference.tensor(c["a"])
            let (w, v) = try Linalg.eig(a)
            assertClose(w.real.scalars.map(Double.init), Reference.values(c["wr"]), atol: 1e-5, rtol: 1e-5, "Re λ \(name)")
            assertClose(w.imag.scalars.map(Double.init), Reference.values(c["wi"]), atol: 1e-5, rtol: 1e-5, "Im λ \(name)")
            // Same normalisation as NumPy (both are LAPACK dgeev): vectors agree up to a real sign.
            expectColumnsUpToSign(v.real, Reference.values(c["vr"]), atol: 1e-5, "Re V \(name)")
            expectColumnsUpToSign(v.imag, Reference.values(c["vi"]), atol: 1e-5, "Im V \(name)")
            // A v = λ v in complex arithmetic, column by column.
            let n = a.shape[0]
            let av = product(a, v.real), avi = product(a, v.imag)
            let vr = v.real.scalars.map(Double.init), vi = v.imag.scalars.map(Double.init)
            let lr = w.real.scalars.map(Double.init), li = w.imag.scalars.map(Double.init)
            for j in 0..<n {
                for i in 0..<n {
                    let re = lr[j] * vr[i * n + j] - li[j] * vi[i * n + j], im = lr[j] * vi[i * n + j] + li[j] * vr[i * n + j]
                    #expect(Swift.abs(av[i * n + j] - re) < 1e-5 && Swift.abs(avi[i * n + j] - im) < 1e-5, "A v = λ v, \(name) column \(j)")
                }
            }
        }
        let rotation = Reference.cases("eig")[0]
        let (w, _) = try Linalg.eig(Reference.tensor(rotation["a"]))
        #expect(!w.isReal)
        #expect(w.imag.scalars[0] > 0 && w.imag.scalars[0] == -w.imag.scalars[1], "conjugate pair, positive first")
    }

    @Test func svdMatchesNumPy() throws {
        for c in Reference.cases("svd") {
            let name = c["name"] as! String
            let a = Reference.tensor(c["a"])
            let (u, s, vh) = try Linalg.svd(a, fullMatrices: true)
            assertClose(s.scalars.map(Double.init), Reference.values(c["s"]), atol: 1e-5, rtol: 1e-5, "s \(name)")
            assertClose(try Linalg.svdvals(a).scalars.map(Double.init), Reference.values(c["s"]), atol: 1e-5, rtol: 1e-5, "svdvals \(name)")
            #expect(u.shape == Reference.shape(c["u"]) && vh.shape == Reference.shape(c["vh"]), "\(name)")
            expectColumnsUpToSign(u, Reference.values(c["u"]), atol: 1e-5, "U \(name)")
            let (ur, sr, vhr) = try Linalg.svd(a, fullMatrices: false)
            let back = try Tensor.matmul(ur * sr.unsqueeze(-2), vhr)
            assertClose(back, a, atol: 1e-5, rtol: 1e-5, "U diag(s) Vh = A, \(name)")
            assertClose(try Linalg.pinv(a).scalars.map(Double.init), Reference.values(c["pinv"]), atol: 1e-4, rtol: 1e-4, "pinv \(name)")
        }
    }

    @Test func lstsqMatchesNumPy() throws {
        for c in Reference.cases("lstsq") {
            let name = c["name"] as! String
            let r = try Linalg.lstsq(Reference.tensor(c["a"]), Reference.tensor(c["b"]), rcond: Reference.number(c["rcond"]))
            #expect(r.rank == Int(Reference.number(c["rank"])), "rank \(name)")
            #expect(r.solution.shape == Reference.shape(c["x"]), "\(name)")
            assertClose(r.solution.scalars.map(Double.init), Reference.values(c["x"]), atol: 1e-5, rtol: 1e-5, "x \(name)")
            #expect(r.residuals.shape == Reference.shape(c["residuals"]), "residuals shape \(name)")
            assertClose(r.residuals.scalars.map(Double.init), Reference.values(c["residuals"]), atol: 1e-5, rtol: 1e-5, "residuals \(name)")
            assertClose(r.singularValues.scalars.map(Double.init), Reference.values(c["s"]), atol: 1e-5, rtol: 1e-5, "s \(name)")
        }
    }

    @Test func rankBasesAndPseudoInverse() throws {
        for c in Reference.cases("spaces") {
            let name = c["name"] as! String
            let a = Reference.tensor(c["a"])
            #expect(try Linalg.matrixRank(a) == Int(Reference.number(c["rank"])), "rank \(name)")
            let o = try Linalg.orth(a), z = try Linalg.nullSpace(a)
            #expect(o.shape == Reference.shape(c["orth"]) && z.shape == Reference.shape(c["null"]), "\(name)")
            expectColumnsUpToSign(o, Reference.values(c["orth"]), atol: 1e-5, "orth \(name)")
            if z.shape[1] == 1 { expectColumnsUpToSign(z, Reference.values(c["null"]), atol: 1e-5, "null \(name)") }
            if z.shape[1] > 0 { assertClose(try Tensor.matmul(a, z), Tensor.zeros([a.shape[0], z.shape[1]]), atol: 1e-5, rtol: 0, "A N = 0, \(name)") }
            assertClose(try Linalg.pinv(a).scalars.map(Double.init), Reference.values(c["pinv"]), atol: 1e-4, rtol: 1e-4, "pinv \(name)")
        }
    }

    @Test func normsAndConditionNumbers() throws {
        let mn = Reference.object("matrix_norm"), a = Reference.tensor(mn["a"])
        let orders: [(MatrixNormOrder, String)] = [(.frobenius, "fro"), (.nuclear, "nuc"), (.spectral, "2"), (.minSingular, "-2"),
                                                   (.one, "1"), (.minusOne, "-1"), (.infinity, "inf"), (.minusInfinity, "-inf")]
        for (ord, key) in orders {
            assertClose(try Linalg.matrixNorm(a, ord: ord).item(), Float(Reference.number(mn[key])), atol: 1e-5, rtol: 1e-5, "norm \(key)")
        }
        let vn = Reference.object("vector_norm"), x = Reference.tensor(vn["x"])
        for (p, key) in [(2.0, "2"), (1, "1"), (.infinity, "inf"), (-.infinity, "-inf"), (0, "0"), (3, "3"), (0.5, "0.5")] {
            assertClose(try Linalg.vectorNorm(x, ord: p).item(), Float(Reference.number(vn[key])), atol: 1e-5, rtol: 1e-5, "vector norm \(key)")
        }
        let rows = try Linalg.vectorNorm(try Tensor([3, 4, 6, 8], shape: [2, 2]), axis: 1)
        assertClose(rows, [5, 10], atol: 0, rtol: 1e-6, "row norms")
        let cn = Reference.object("cond"), c = Reference.tensor(cn["a"])
        for (ord, key) in [(MatrixNormOrder.spectral, "2"), (.minSingular, "-2"), (.one, "1"), (.infinity, "inf"), (.frobenius, "fro"), (.nuclear, "nuc")] {
            assertClose(try Linalg.cond(c, ord: ord).item(), Float(Reference.number(cn[key])), atol: 1e-5, rtol: 1e-5, "cond \(key)")
        }
        #expect(try Linalg.cond(Tensor([1, 2, 2, 4], shape: [2, 2]), ord: .one).item() == .infinity, "singular: cond = inf")
    }

    /// Hilbert(8) has cond ≈ 1.5e10: solve succeeds (Float64 inside) and cond reports it.
    @Test func illConditionedHilbertSolvesAndCondReportsIt() throws {
        let h = Reference.object("hilbert"), a = Reference.tensor(h["a"]), b = Reference.tensor(h["b"])
        let x = try Linalg.solve(a, b)
        assertClose(x.scalars.map(Double.init), Reference.values(h["x"]), atol: 1e-3, rtol: 1e-3, "Hilbert solve vs NumPy")
        let cond = Double(try Linalg.cond(a).item())
        #expect(Swift.abs(cond / Reference.number(h["cond"]) - 1) < 1e-3, "cond \(cond)")
        #expect(cond > 1e9)
        let cond1 = Double(try Linalg.cond(a, ord: .one).item())
        #expect(Swift.abs(cond1 / Reference.number(h["cond1"]) - 1) < 1e-3, "cond1 \(cond1)")
    }
}
