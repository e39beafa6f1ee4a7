// The AVX-512 LSTM gate kernels against the portable Swift ones on the same buffers:
// forward activations, states and backward gradients within float rounding (FMA
// contraction differs), for a slice width that is not a multiple of 16 (masked tail),
// with and without a recurrent product, and saturating and NaN inputs. Fails, not
// skips, on a CPU without AVX-512 only if the selection claims AVX-512 there.
import Testing
@testable import CohortKernels

@Suite struct RecurrentGateKernelTests {
    static let rows = 3, units = 37, gates = 4 * 37 + 5, state = 37 + 3, hidden = 37 + 11

    func values(_ n: Int, seed: UInt64, scale: Float) -> [Float] {
        var x = seed &* 0x9E3779B97F4A7C15
        return (0..<n).map { _ in
            x = x &* 6364136223846793005 &+ 1442695040888963407
            return scale * (Float(x >> 40) / Float(1 << 24) * 2 - 1)
        }
    }

    /// Forward then backward with `kernel`; returns every buffer either writes.
    func run(_ kernel: RecurrentGateKernel, withRecurrent: Bool, scale: Float) -> [[Float]] {
        let l = GateLayout(batch: Self.rows, units: Self.units, gates: Self.gates, state: Self.state, hidden: Self.hidden)
        var pre = values(Self.rows * Self.gates, seed: 1, scale: scale)
        if scale > 10 { pre[5] = .nan }
        let rec = values(Self.rows * Self.gates, seed: 2, scale: scale), bias = values(4 * Self.units, seed: 3, scale: 1)
        let cPrev = values(Self.rows * Self.state, seed: 4, scale: 2)
        var c = [Float](repeating: 0, count: Self.rows * Self.state), tanhC = c
        var h = [Float](repeating: 0, count: Self.rows * Self.hidden)
        RecurrentGates.lstmForward(l, pre: &pre, rec: withRecurrent ? rec : nil, bias: bias, cPrev: cPrev, c: &c, tanhC: &tanhC,
                                   h: &h, kernel: kernel)
        let gradOut = values(Self.rows * Self.state, seed: 5, scale: 1), dhRec = values(Self.rows * Self.state, seed: 6, scale: 1)
        var dc = values(Self.rows * Self.state, seed: 7, scale: 1)
        var dGates = [Float](repeating: 0, count: Self.rows * Self.gates)
        RecurrentGates.lstmBackward(l, gates: pre, cPrev: cPrev, tanhC: tanhC, gradOut: gradOut, dhRec: dhRec, dc: &dc,
                                    dGates: &dGates, kernel: kernel)
        return [pre, c, tanhC, h, dc, dGates]
    }

    @Test(arguments: [(true, Float(1)), (false, Float(1)), (true, Float(40))])
    func avx512MatchesPortable(withRecurrent: Bool, scale: Float) throws {
        guard RecurrentGateKernel.avx512Supported else {
            #expect(RecurrentGateKernel.selected == .portable)
            return
        }
        let fast = run(.avx512, withRecurrent: withRecurrent, scale: scale)
        let portable = run(.portable, withRecurrent: withRecurrent, scale: scale)
        let names = ["activations", "c", "tanh c", "h", "dc", "d gates"]
        for (k, (a, b)) in zip(fast, portable).enumerated() {
            #expect(a.count == b.count)
            for (i, (x, y)) in zip(a, b).enumerated() {
                let same = (x.isNaN && y.isNaN) || abs(x - y) <= 2e-6 + 2e-6 * abs(y)
                #expect(same, "\(names[k])[\(i)]: avx512 \(x), portable \(y) (scale \(scale), recurrent \(withRecurrent))")
                if !same { return }
            }
        }
    }

    @Test func avx512IsSelectedWhereTheCPUHasIt() {
        // Unless the environment forces the portable kernels, AVX-512 CPUs use them.
        if RecurrentGateKernel.avx512Supported && getenvString("COHORT_RECURRENT_KERNEL") != "portable" {
            #expect(RecurrentGateKernel.selected == .avx512)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
private func getenvString(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
