// Adam's bias corrections against the exact formula evaluated in Double: the
// update the kernel makes at step t (SIMD lanes and the scalar tail) must equal
// lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε) to Float32 rounding, for t up to 10,000.
import Foundation
import Testing
@testable import CohortKernels

@Suite struct OptimizerKernelTests {
    /// Largest relative difference between the kernel's Adam update and the Double reference
    /// over steps `1...steps`, for 17 elements (16 SIMD lanes + 1 scalar) with distinct gradients.
    func worstAdamError(beta1: Float, beta2: Float, steps: Int) -> Double {
        let n = 17, lr: Float = 1e-3, eps: Float = 1e-8
        var worst = 0.0
        var m = [Float](repeating: 0, count: n), v = [Float](repeating: 0, count: n)
        for t in 1...steps {
            var p = [Float](repeating: 0, count: n)
            let g = (0..<n).map { Float(0.5 + 0.25 * sin(Double(t + 7 * $0))) }
            OptimizerKernels.adam(n, p: &p, g: g, m: &m, v: &v, lr: lr, beta1: beta1, beta2: beta2, eps: eps,
                                  weightDecay: 0, decoupled: false, step: t)
            let bc1 = 1 - pow(Double(beta1), Double(t)), bc2 = 1 - pow(Double(beta2), Double(t))
            for i in 0..<n {   // m and v as the kernel stored them: only the step's formula is compared
                let exact = Double(lr) / bc1 * Double(m[i]) / (Double(v[i]).squareRoot() / bc2.squareRoot() + Double(eps))
                worst = max(worst, abs(-Double(p[i]) - exact) / exact)
            }
        }
        return worst
    }

    /// The old kernel rounded β2ᵗ to Float before forming 1 − β2ᵗ: 3.4e-6 off near t = 10.
    /// Five Float roundings in the update leave at most ~4e-7.
    @Test func adamBiasCorrectionMatchesDoubleFormula() {
        let worst = worstAdamError(beta1: 0.9, beta2: 0.999, steps: 10_000)
        #expect(worst < 6e-7, "worst relative error \(worst)")
        let slow = worstAdamError(beta1: 0.99, beta2: 0.9999, steps: 200)
        #expect(slow < 6e-7, "β = (0.99, 0.9999): worst relative error \(slow)")
    }

    @Test func biasCorrectionsAtLargeStepCountsApproachOne() {
        let (stepSize, bc2Sqrt) = OptimizerKernels.adamBiasCorrections(lr: 1e-3, beta1: 0.9, beta2: 0.999, step: 10_000_000)
        #expect(stepSize == 1e-3 && bc2Sqrt == 1)
        let first = OptimizerKernels.adamBiasCorrections(lr: 1, beta1: 0.9, beta2: 0.999, step: 1)
        #expect(abs(Double(first.stepSize) - 1 / (1 - Double(Float(0.9)))) <= 1e-7 * Double(first.stepSize))
        #expect(abs(Double(first.bc2Sqrt) - (1 - Double(Float(0.999))).squareRoot()) <= 1e-7 * Double(first.bc2Sqrt))
    }
}
