// Forward values against naive references written here: matmul and linear
// against a triple loop, softmax, broadcasting arithmetic, reductions over
// axis sets, and argmax (including ties and NaN).
import Testing
@testable import CohortTensor
import CohortTestSupport

/// Row-major element of a contiguous `[Float]` holding `shape` at `index`.
private func at(_ v: [Float], _ shape: [Int], _ index: [Int]) -> Float {
    var off = 0
    for (d, i) in index.enumerated() { off = off * shape[d] + i }
    return v[off]
}

/// Naive batched matmul in Double over `[batch..., m, k] @ [batch..., k, n]` with broadcast batch dims.
private func naiveMatmul(_ a: Tensor, _ b: Tensor) -> [Float] {
    let av = a.scalars, bv = b.scalars
    let (m, k, n) = (a.shape[a.rank - 2], a.shape[a.rank - 1], b.shape[b.rank - 1])
    let ab = Array(a.shape.dropLast(2)), bb = Array(b.shape.dropLast(2))
    let rank = Swift.max(ab.count, bb.count)
    let pa = Array(repeating: 1, count: rank - ab.count) + ab, pb = Array(repeating: 1, count: rank - bb.count) + bb
    let batch = zip(pa, pb).map { Swift.max($0, $1) }
    var out: [Float] = []
    var idx = [Int](repeating: 0, count: rank)
    for _ in 0..<batch.reduce(1, *) {
        let ia = zip(idx, pa).map { $1 == 1 ? 0 : $0 }, ib = zip(idx, pb).map { $1 == 1 ? 0 : $0 }
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    s += Double(at(av, pa + [m, k], ia + [i, p])) * Double(at(bv, pb + [k, n], ib + [p, j]))
                }
                out.append(Float(s))
            }
        }
        var d = rank - 1
        while d >= 0 { idx[d] += 1; if idx[d] < batch[d] { break }; idx[d] = 0; d -= 1 }
    }
    return out
}

@Suite struct ForwardTests {
    func values(_ shape: [Int], _ seed: UInt64) -> Tensor { Fixtures.uniform(shape, seed: seed, requiresGrad: false) }

    @Test func matmulMatchesTripleLoop() throws {
        let pairs: [(Tensor, Tensor)] = [
            (values([3, 4], 1), values([4, 5], 2)),
            (values([17, 33], 3), values([33, 9], 4)),                    // past BLAS's small-matrix paths
            (values([2, 1, 3, 4], 5), values([3, 4, 2], 6)),              // broadcast batch dims
            (values([2, 3, 4], 7), values([4, 5], 8)),
            (Fixtures.transposedLeaf([5, 6], seed: 9), Fixtures.transposedLeaf([6, 7], seed: 10)),
            (Fixtures.steppedLeaf([3, 4], seed: 11), values([4, 2], 12)),
            (try values([4, 2, 3], 13).permute([1, 0, 2]), values([3, 2], 14)),
        ]
        for (a, b) in pairs {
            let c = try Tensor.matmul(a, b)
            let expected = naiveMatmul(a, b)
            assertClose(c.scalars, expected, atol: 1e-5, rtol: 1e-5, "matmul \(a.shape) @ \(b.shape)")
        }
        // 1-D promotions: [k] @ [k, n], [m, k] @ [k], [k] @ [k].
        let v = try Tensor([1, 2, 3]), m = try Tensor([1, 0, 2, -1, 3, 1], shape: [3, 2])
        #expect(try Tensor.matmul(v, m).scalars == [14, 1])
        #expect(try Tensor.matmul(m.transpose(), v).scalars == [14, 1])
        #expect(try Tensor.matmul(v, v).item() == 14)
    }

    @Test func linearMatchesMatmulPlusBias() throws {
        let w = values([5, 3], 20), b = values([5], 21)
        for x in [values([4, 3], 22), values([2, 3, 3], 23), values([3], 24), values([1, 3], 25)] {
            let y = try Tensor.linear(x, weight: w, bias: b)
            let ref = try Tensor.matmul(x, w.transpose()) + b
            assertClose(y, ref, atol: 1e-6, rtol: 1e-5, "linear \(x.shape)")
            assertClose(try Tensor.linear(x, weight: w, bias: nil), try Tensor.matmul(x, w.transpose()), atol: 1e-6, rtol: 1e-5)
        }
    }

    @Test func broadcastingArithmeticMatchesNaive() throws {
        let a = values([3, 1, 4], 30), b = values([2, 1], 31)
        let av = a.scalars, bv = b.scalars
        var sum: [Float] = [], prod: [Float] = []
        for i in 0..<3 { for j in 0..<2 { for k in 0..<4 { sum.append(av[i * 4 + k] + bv[j]); prod.append(av[i * 4 + k] * bv[j]) } } }
        let s = try a + b
        #expect(s.shape == [3, 2, 4] && s.scalars == sum)
        #expect(try (a * b).scalars == prod)
        let t = Fixtures.transposedLeaf([4, 3], seed: 32)
        assertClose(try t - t.contiguous(), Tensor.zeros([4, 3]), atol: 0, rtol: 0)
    }

    @Test func softmaxRowsSumToOneAndMatchNaive() throws {
        let x = Fixtures.uniform([3, 20], -5, 5, seed: 40, requiresGrad: false)
        let p = try x.softmax()
        for r in 0..<3 {
            let row = Array(x.scalars[(r * 20)..<((r + 1) * 20)]).map(Double.init)
            let z = row.map { Glibc.exp($0) }.reduce(0, +)
            assertClose(Array(p.scalars[(r * 20)..<((r + 1) * 20)]), row.map { Float(Glibc.exp($0) / z) }, atol: 1e-7, rtol: 1e-5)
            assertClose(try p.sum(axes: [1]).scalars[r], 1, atol: 1e-6, rtol: 0)
        }
        assertClose(try x.logSoftmax(), p.log(), atol: 1e-5, rtol: 1e-5)
        let y = Fixtures.uniform([2, 5, 3], -5, 5, seed: 41, requiresGrad: false)
        let q = try y.softmax(axis: 1)
        assertClose(try q.sum(axes: [1]), Tensor.ones([2, 3]), atol: 1e-6, rtol: 0)
        assertClose(q, try y.transpose(1, 2).softmax().transpose(1, 2), atol: 0, rtol: 0)
        let big = try Tensor([1000, 1000, -1000]).softmax()
        assertClose(big, [0.5, 0.5, 0], atol: 1e-7, rtol: 0)
    }

    @Test func reductionsMatchNaive() throws {
        let x = values([2, 3, 4], 50)
        let v = x.scalars.map(Double.init)
        func naive(_ axes: Set<Int>, _ f: ([Double]) -> Double) -> [Float] {
            let kept = (0..<3).filter { !axes.contains($0) }
            var groups: [[Int]: [Double]] = [:]
            var order: [[Int]] = []
            for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
                let key = kept.map { [i, j, k][$0] }
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(v[(i * 3 + j) * 4 + k])
            } } }
            return order.sorted { $0.lexicographicallyPrecedes($1) }.map { Float(f(groups[$0]!)) }
        }
        let sumF: ([Double]) -> Double = { $0.reduce(0, +) }
        let meanF: ([Double]) -> Double = { $0.reduce(0, +) / Double($0.count) }
        let varF: ([Double]) -> Double = { xs in let m = meanF(xs); return xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count - 1) }
        for axes in [[0], [1], [2], [0, 1], [1, 2], [0, 2], [0, 1, 2]] {
            let s = Set(axes)
            assertClose(try x.sum(axes: axes), naive(s, sumF), atol: 1e-6, rtol: 1e-6, "sum \(axes)")
            assertClose(try x.mean(axes: axes), naive(s, meanF), atol: 1e-6, rtol: 1e-6, "mean \(axes)")
            assertClose(try x.max(axes: axes), naive(s) { $0.max()! }, atol: 0, rtol: 0, "max \(axes)")
            assertClose(try x.min(axes: axes), naive(s) { $0.min()! }, atol: 0, rtol: 0, "min \(axes)")
            assertClose(try x.variance(axes: axes), naive(s, varF), atol: 1e-6, rtol: 1e-5, "variance \(axes)")
            assertClose(try x.norm(axes: axes), naive(s) { $0.map { $0 * $0 }.reduce(0, +).squareRoot() }, atol: 1e-6, rtol: 1e-6)
            assertClose(try x.logsumexp(axes: axes), naive(s) { Glibc.log($0.map { Glibc.exp($0) }.reduce(0, +)) }, atol: 1e-6, rtol: 1e-6)
            #expect(try x.sum(axes: axes, keepDims: true).shape == [2, 3, 4].enumerated().map { s.contains($0.offset) ? 1 : $0.element })
        }
        #expect(try x.sum().shape == [] && x.mean(keepDims: true).shape == [1, 1, 1])
        let t = Fixtures.transposedLeaf([3, 4], seed: 51)
        assertClose(try t.sum(axes: [0]), try t.contiguous().sum(axes: [0]), atol: 0, rtol: 0)
        // A long row exercises the four-accumulator path.
        let long = try Tensor.arange(0, 1000)
        #expect(try long.sum().item() == 499_500)
    }

    @Test func argmax() throws {
        let x = try Tensor([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 9], shape: [3, 4])
        #expect(try x.argmax(axis: 1).scalars == [2, 1, 3])
        #expect(try x.argmax(axis: -1, keepDims: true).shape == [3, 1])
        #expect(try x.argmax(axis: 0).scalars == [1, 1, 2, 2])   // column 0: 3, 5, 5 -> the first 5
        #expect(try x.argmax(axis: 0, keepDims: true).shape == [1, 4])
        let y = try Tensor([1, 7, 7, 0, 0, 0], shape: [2, 3])
        #expect(try y.argmax().scalars == [1, 0])   // ties pick the first
        let r3 = Fixtures.distinct([2, 3, 4], seed: 60, requiresGrad: false)
        let a1 = try r3.argmax(axis: 1)
        #expect(a1.shape == [2, 4])
        for i in 0..<2 { for k in 0..<4 {
            let col = (0..<3).map { r3.scalars[(i * 3 + $0) * 4 + k] }
            #expect(Int(a1.scalars[i * 4 + k]) == col.firstIndex(of: col.max()!)!)
        } }
        #expect(try Tensor([1, .nan, 3]).argmax().item() == 1)
        #expect(!(try x.argmax()).requiresGrad)
    }
}

#if canImport(Glibc)
import Glibc
#endif
