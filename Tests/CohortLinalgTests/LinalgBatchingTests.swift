// Batched lstsq, matrixRanks, orth and nullSpace: each batched result must equal the
// per-matrix calls and NumPy/SciPy per matrix (Fixtures "lstsq_batched",
// "spaces_batched"); ragged bases come as one tensor per matrix.
import Testing
import CohortLinalg
import CohortTensor
import CohortTestSupport

@Suite struct LinalgBatchingTests {
    /// Matrix `i` of a batch `[b, m, n]` (or vector `i` of `[b, m]`).
    static func item(_ t: Tensor, _ i: Int) throws -> Tensor { try t.slice(axis: 0, i, i + 1).squeeze(0).contiguous() }

    @Test func lstsqBatchMatchesPerMatrixCallsAndNumPy() throws {
        let c = Reference.object("lstsq_batched")
        let a = Reference.tensor(c["a"]), b = Reference.tensor(c["b"]), rcond = Reference.number(c["rcond"])
        let r = try Linalg.lstsq(a, b, rcond: rcond)
        #expect(r.solution.shape == [2, 3, 2] && r.singularValues.shape == [2, 3])
        #expect(r.ranks == (c["ranks"] as! [Int]) && r.rank == 2, "ranks \(r.ranks)")
        #expect(r.residuals.shape == [0], "a rank-deficient matrix in the batch: no residuals")
        assertClose(r.solution.scalars.map(Double.init), Reference.values(c["x"]), atol: 1e-5, rtol: 1e-5, "x vs NumPy")
        assertClose(r.singularValues.scalars.map(Double.init), Reference.values(c["s"]), atol: 1e-5, rtol: 1e-5, "s vs NumPy")
        for i in 0..<2 {
            let one = try Linalg.lstsq(Self.item(a, i), Self.item(b, i), rcond: rcond)
            assertClose(try Self.item(r.solution, i), one.solution, atol: 0, rtol: 0, "matrix \(i) solution")
            #expect(one.rank == r.ranks[i])
        }
    }

    @Test func lstsqBatchOfFullRankMatricesHasResiduals() throws {
        let a = Fixtures.uniform([3, 5, 2], seed: 100), b = Fixtures.uniform([3, 5], seed: 101)
        let r = try Linalg.lstsq(a, b)
        #expect(r.solution.shape == [3, 2] && r.residuals.shape == [3, 1] && r.ranks == [2, 2, 2])
        for i in 0..<3 {
            let one = try Linalg.lstsq(Self.item(a, i), Self.item(b, i))
            assertClose(try Self.item(r.solution, i), one.solution, atol: 0, rtol: 0, "vector rhs, matrix \(i)")
            assertClose(try Self.item(r.residuals, i), one.residuals, atol: 0, rtol: 0, "residuals, matrix \(i)")
        }
        let empty = try Linalg.lstsq(Tensor.zeros([0, 4, 2]), Tensor.zeros([0, 4, 3]))
        #expect(empty.solution.shape == [0, 2, 3] && empty.ranks.isEmpty)
    }

    @Test func ranksOfABatch() throws {
        let c = Reference.object("spaces_batched"), a = Reference.tensor(c["a"])
        let ranks = try Linalg.matrixRanks(a)
        #expect(ranks.shape == [3] && ranks.scalars == (c["ranks"] as! [Int]).map(Float.init), "\(ranks.scalars)")
        for i in 0..<3 { #expect(try Linalg.matrixRank(Self.item(a, i)) == Int(ranks.scalars[i])) }
        #expect(try Linalg.matrixRanks(Self.item(a, 0)).shape == [], "one matrix: a 0-dimensional tensor")
        #expect(try Linalg.matrixRanks(Tensor.ones([2, 2, 3, 3])).scalars == [1, 1, 1, 1])
    }

    /// Ranks 2, 3, 2: bases are ragged, so the stacked forms throw and the list forms work.
    @Test func raggedBasesComeAsOneTensorPerMatrix() throws {
        let c = Reference.object("spaces_batched"), a = Reference.tensor(c["a"])
        let orth = try Linalg.orthBases(a), null = try Linalg.nullSpaceBases(a)
        let orthRef = c["orth"] as! [Any], nullRef = c["null"] as! [Any]
        #expect(orth.map(\.shape) == [[4, 2], [4, 3], [4, 2]] && null.map(\.shape) == [[3, 1], [3, 0], [3, 1]])
        for i in 0..<3 {
            #expect(orth[i].shape == Reference.shape(orthRef[i]) && null[i].shape == Reference.shape(nullRef[i]))
            expectColumnsUpToSign(orth[i], Reference.values(orthRef[i]), atol: 1e-5, "orth matrix \(i)")
            expectColumnsUpToSign(null[i], Reference.values(nullRef[i]), atol: 1e-5, "null space matrix \(i)")
            assertClose(try Linalg.orth(Self.item(a, i)), orth[i], atol: 0, rtol: 0, "orthBases vs orth, matrix \(i)")
        }
        for (name, f) in [("Linalg.orth", { _ = try Linalg.orth(a) }), ("Linalg.nullSpace", { _ = try Linalg.nullSpace(a) })]
            as [(String, () throws -> Void)] {
            var message = "no error"
            do { try f() } catch { message = "\(error)" }
            #expect(message.contains(name) && message.contains("[3, 4, 3]") && message.contains("[2, 3, 2]"), "\(message)")
        }
    }

    @Test func basesOfEqualRankMatricesStack() throws {
        let c = Reference.object("spaces_batched"), all = Reference.tensor(c["a"])
        let a = try Tensor.stack([Self.item(all, 0), Self.item(all, 2)], axis: 0)   // both rank 2
        let o = try Linalg.orth(a), z = try Linalg.nullSpace(a)
        #expect(o.shape == [2, 4, 2] && z.shape == [2, 3, 1])
        for i in 0..<2 {
            assertClose(try Self.item(o, i), try Linalg.orth(Self.item(a, i)), atol: 0, rtol: 0, "orth \(i)")
            assertClose(try Self.item(z, i), try Linalg.nullSpace(Self.item(a, i)), atol: 0, rtol: 0, "null \(i)")
        }
        assertClose(try Tensor.matmul(a, z), Tensor.zeros([2, 4, 1]), atol: 1e-5, rtol: 0, "A N = 0")
    }
}
