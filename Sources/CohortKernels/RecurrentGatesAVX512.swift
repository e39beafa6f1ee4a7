// The one file that imports CRecurrentKernels: the AVX-512 LSTM gate kernels, used
// when the CPU has AVX-512 (Swift builds Cohort for baseline x86-64, where the
// portable kernels' 16-lane vectors run as four SSE operations without FMA).
// `COHORT_RECURRENT_KERNEL=portable` forces the portable Swift kernels (docs/environment.md).
import CRecurrentKernels
#if canImport(Glibc)
import Glibc
#endif

/// Which implementation runs the LSTM's per-step gate kernels.
package enum RecurrentGateKernel: String, Sendable {
    case avx512, portable

    /// The kernel every LSTM step uses: AVX-512 where the CPU has it, unless
    /// `COHORT_RECURRENT_KERNEL=portable`. Chosen once.
    package static let selected: RecurrentGateKernel = {
        if let v = getenv("COHORT_RECURRENT_KERNEL"), String(cString: v) == "portable" { return .portable }
        return cohort_recurrent_avx512_supported() != 0 ? .avx512 : .portable
    }()

    /// Whether this CPU can run the AVX-512 kernels.
    package static var avx512Supported: Bool { cohort_recurrent_avx512_supported() != 0 }

    static func layout(_ l: GateLayout) -> cohort_gate_layout {
        cohort_gate_layout(rows: l.batch, units: l.units, gates: l.gates, state: l.state, hidden: l.hidden, grad: l.state)
    }

    static func lstmForward(_ l: GateLayout, pre: UnsafeMutablePointer<Float>, rec: UnsafePointer<Float>?,
                            bias: UnsafePointer<Float>, cPrev: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                            tanhC: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>) {
        var cl = layout(l)
        cohort_lstm_forward_avx512(&cl, pre, rec, bias, cPrev, c, tanhC, h)
    }

    static func lstmBackward(_ l: GateLayout, gates: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                             tanhC: UnsafePointer<Float>, gradOut: UnsafePointer<Float>, dhRec: UnsafePointer<Float>,
                             dc: UnsafeMutablePointer<Float>, dGates: UnsafeMutablePointer<Float>) {
        var cl = layout(l)
        cohort_lstm_backward_avx512(&cl, gates, cPrev, tanhC, gradOut, dhRec, dc, dGates)
    }
}
