// The SIMD transcendental kernels (exp, tanh, sigmoid, erf, gelu) against
// libm in Double over dense ranges, large magnitudes, infinities and NaN,
// through the tensor ops so the 16-lane blocks and the scalar tails both run.
import CohortKernels
@testable import CohortTensor
import CohortTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct VectorMathTests {
    /// `count` evenly spaced points in `[low, high]` (an odd count leaves a SIMD tail).
    func grid(_ low: Float, _ high: Float, _ count: Int = 4001) -> Tensor { try! Tensor.linspace(low, high, count: count) }

    /// Values where each kernel changes regime, plus huge magnitudes and non-finite inputs.
    static let extremes: [Float] = [0, -0, 1e-30, -1e-30, 0.0625, -0.0625, 20, -20, 87, -87, 88.3, 88.5, 88.72, 88.8,
                                    -87.5, -95, -103, -110, 100, -100, 1e4, -1e4, 1e30, -1e30, .infinity, -.infinity, .nan]

    /// Compares `op` applied to `input` with a Double reference element by element.
    func check(_ name: String, _ input: Tensor, _ op: (Tensor) -> Tensor, _ reference: (Double) -> Double,
               atol: Double, rtol: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        let x = input.scalars
        let expected = x.map { Double(Float(reference(Double($0)))) }   // libm rounded to Float, as expf would be
        let c = closeness(op(input).scalars.map(Double.init), expected, atol: atol, rtol: rtol)
        let at = c.worstIndex.map { " at x = \(x[$0[0]])" } ?? ""
        #expect(c.passed, "\(name): \(c)\(at)", sourceLocation: sourceLocation)
    }

    @Test func expMatchesLibm() throws {
        check("exp", grid(-87, 88), { $0.exp() }, Glibc.exp, atol: 0, rtol: 4e-7)
        // Near overflow the result is still finite up to ln(FLT_MAX) ≈ 88.7228.
        check("exp near overflow", grid(88, 88.72, 801), { $0.exp() }, Glibc.exp, atol: 0, rtol: 4e-7)
        // The subnormal range: absolute error within a couple of the smallest subnormals.
        check("exp subnormal", grid(-103.9, -87.4, 801), { $0.exp() }, Glibc.exp, atol: 4e-45, rtol: 4e-7)
        check("exp extremes", try Tensor(Self.extremes), { $0.exp() }, Glibc.exp, atol: 4e-45, rtol: 4e-7)
    }

    @Test func tanhMatchesLibm() throws {
        check("tanh", grid(-10, 10), { $0.tanh() }, Glibc.tanh, atol: 1e-6, rtol: 0)
        // Relative accuracy near 0 where tanh x ≈ x.
        check("tanh small", grid(-0.2, 0.2, 801), { $0.tanh() }, Glibc.tanh, atol: 0, rtol: 2e-5)
        check("tanh extremes", try Tensor(Self.extremes), { $0.tanh() }, Glibc.tanh, atol: 1e-6, rtol: 2e-5)
    }

    @Test func sigmoidMatchesLibm() throws {
        let sigmoid: (Double) -> Double = { 1 / (1 + Glibc.exp(-$0)) }
        check("sigmoid", grid(-30, 30), { $0.sigmoid() }, sigmoid, atol: 1e-6, rtol: 0)
        check("sigmoid extremes", try Tensor(Self.extremes), { $0.sigmoid() }, sigmoid, atol: 1e-6, rtol: 0)
    }

    @Test func erfMatchesLibm() throws {
        func erf16(_ t: Tensor) -> Tensor {
            let out = Tensor.zeros(t.shape)
            let x = t.scalars
            for i in stride(from: 0, to: x.count, by: 16) {
                var v = V16(repeating: 0)
                for j in 0..<Swift.min(16, x.count - i) { v[j] = x[i + j] }
                let r = simdErf(v)
                for j in 0..<Swift.min(16, x.count - i) { out.storage.pointer[i + j] = r[j] }
            }
            return out
        }
        check("erf", grid(-6, 6), erf16, Glibc.erf, atol: 4e-7, rtol: 0)
        check("erf extremes", try Tensor(Self.extremes), erf16, Glibc.erf, atol: 4e-7, rtol: 0)
    }

    @Test func geluMatchesLibm() throws {
        let gelu: (Double) -> Double = { $0 * 0.5 * Glibc.erfc(-$0 / 2.0.squareRoot()) }
        check("gelu", grid(-10, 10), { $0.gelu() }, gelu, atol: 1e-6, rtol: 1e-6)
        let finite = Self.extremes.filter { $0.isFinite }   // gelu(-inf) is NaN in libm too (-inf · 0)
        check("gelu extremes", try Tensor(finite), { $0.gelu() }, gelu, atol: 1e-6, rtol: 1e-6)
        #expect(try Tensor([Float.nan]).gelu().item().isNaN)
    }

    @Test func nanPropagates() throws {
        let x = try Tensor([1, .nan, -1, .nan])
        for (name, y) in [("exp", x.exp()), ("tanh", x.tanh()), ("sigmoid", x.sigmoid()), ("gelu", x.gelu()),
                          ("softmax", try x.softmax()), ("logsumexp", try x.logsumexp())] {
            #expect(y.scalars.contains { $0.isNaN }, "\(name) swallowed NaN: \(y)")
        }
    }

    @Test func otherUnaryOpsMatchLibm() throws {
        let x = grid(0.01, 20, 1001)
        check("log", x, { $0.log() }, Glibc.log, atol: 0, rtol: 2e-7)
        check("sqrt", x, { $0.sqrt() }, { $0.squareRoot() }, atol: 0, rtol: 1e-7)
        check("reciprocal", x, { $0.reciprocal() }, { 1 / $0 }, atol: 0, rtol: 1e-7)
        let s = grid(-3, 3, 1001)
        check("abs", s, { $0.abs() }, Swift.abs, atol: 0, rtol: 0)
        check("square", s, { $0.square() }, { $0 * $0 }, atol: 0, rtol: 1e-7)
        check("relu", s, { $0.relu() }, { Swift.max($0, 0) }, atol: 0, rtol: 0)
        check("pow 1.5", x, { $0.pow(1.5) }, { Glibc.pow($0, 1.5) }, atol: 0, rtol: 2e-7)
        #expect(try Tensor([-2, 0, 3]).sign().scalars == [-1, 0, 1])
    }
}
