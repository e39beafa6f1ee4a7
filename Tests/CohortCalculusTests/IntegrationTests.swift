// Quadrature against closed forms: Simpson exact on cubics, ∫sin, Gaussian
// integrals; the error order of trapezoid (×4 per halving of h) and Simpson
// (×16); adaptive Simpson's tolerance; Monte Carlo's seeded standard error.
import CohortCalculus
import CohortCore
import CohortTensor
import Foundation
import Testing

@Suite struct IntegrationTests {
    @Test func simpsonIsExactOnCubicsAndTrapezoidOnLines() throws {
        // ∫₀² (x³ − 2x + 1) dx = 4 − 4 + 2 = 2
        #expect(Swift.abs(try Integration.simpson({ $0 * $0 * $0 - 2 * $0 + 1 }, from: 0, to: 2, intervals: 2) - 2) < 1e-14)
        #expect(Swift.abs(try Integration.trapezoid({ 3 * $0 + 1 }, from: -1, to: 2, intervals: 1) - 7.5) < 1e-14)
        #expect(Swift.abs(try Integration.simpson([0, 1, 8, 27, 64], dx: 1) - 64) < 1e-12)        // ∫₀⁴ x³ = 64
        #expect(try Integration.trapezoid([1, 3, 3], x: [0, 1, 3]) == 8)
    }

    @Test func errorOrdersAreTwoAndFour() throws {
        let exact = 2.0     // ∫₀^π sin
        var previous: (t: Double, s: Double)?
        for n in [8, 16, 32, 64] {
            let t = Swift.abs(try Integration.trapezoid(sin, from: 0, to: .pi, intervals: n) - exact)
            let s = Swift.abs(try Integration.simpson(sin, from: 0, to: .pi, intervals: n) - exact)
            if let previous {
                #expect(Swift.abs(previous.t / t - 4) < 0.05, "trapezoid ratio \(previous.t / t) at n = \(n)")
                #expect(Swift.abs(previous.s / s - 16) < 0.3, "Simpson ratio \(previous.s / s) at n = \(n)")
            }
            previous = (t, s)
        }
    }

    @Test func adaptiveSimpsonMeetsItsTolerance() throws {
        // ∫₋₆⁶ e^{−x²/2} dx ≈ √(2π) (the tails beyond ±6 are ~2e-9).
        let r = try Integration.adaptiveSimpson({ exp(-$0 * $0 / 2) }, from: -6, to: 6, tolerance: 1e-10)
        #expect(Swift.abs(r.value - (2 * Double.pi).squareRoot() * erf(6 / 2.0.squareRoot())) < 1e-9)
        // A peaked integrand: ∫₀¹ √x dx = 2/3, with far fewer evaluations than the uniform rule would need.
        let p = try Integration.adaptiveSimpson({ $0.squareRoot() }, from: 0, to: 1, tolerance: 1e-8)
        #expect(Swift.abs(p.value - 2.0 / 3) < 1e-8 && p.evaluations < 2000, "\(p)")
    }

    @Test func monteCarloIsSeededAndItsErrorBarHolds() throws {
        // ∫ over [−4, 4]² of e^{−(x²+y²)/2} ≈ 2π (tails ~1e-4).
        let f: ([Double]) -> Double = { exp(-($0[0] * $0[0] + $0[1] * $0[1]) / 2) }
        let a = try Integration.monteCarlo(f, over: [-4...4, -4...4], samples: 20_000, seed: 7)
        let b = try Integration.monteCarlo(f, over: [-4...4, -4...4], samples: 20_000, seed: 7)
        #expect(a == b)
        let exact = 2 * Double.pi * pow(erf(4 / 2.0.squareRoot()), 2)
        #expect(Swift.abs(a.value - exact) < 4 * a.standardError, "\(a) vs \(exact)")
        #expect(a.standardError < 0.15 && a.standardError > 0.01, "\(a)")
        // The standard error shrinks like 1/√n.
        let c = try Integration.monteCarlo(f, over: [-4...4, -4...4], samples: 80_000, seed: 8)
        #expect(Swift.abs(a.standardError / c.standardError - 2) < 0.2)
    }

    @Test func misuseIsReported() {
        #expect(throws: CohortError.invalidArgument("simpson: needs an even number of intervals, got 7")) {
            try Integration.simpson(sin, from: 0, to: 1, intervals: 7)
        }
        #expect(throws: CohortError.invalidArgument("simpson: needs an even number of intervals, got 3 (from 4 samples); use an odd sample count or trapezoid")) {
            try Integration.simpson([1, 2, 3, 4], dx: 1)
        }
        #expect(throws: CohortError.invalidArgument("trapezoid: 3 samples but 2 abscissae")) { try Integration.trapezoid([1, 2, 3], x: [0, 1]) }
        #expect(throws: CohortError.invalidArgument("monteCarlo: bound 1 (0.0...inf) is not finite")) {
            try Integration.monteCarlo({ $0[0] }, over: [0...1, 0...Double.infinity], samples: 10, seed: 0)
        }
        #expect(throws: CohortError.self) { try Integration.adaptiveSimpson({ 1 / $0 }, from: 0, to: 1) }
    }
}
