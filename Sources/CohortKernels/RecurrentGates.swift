// Fused per-time-step gate kernels of the recurrent cells (tanh RNN, LSTM, GRU):
// one SIMD pass turns a step's gate pre-activations (input projection +
// recurrent product + bias) into activations, the new cell and hidden state,
// and (backward) the pre-activation gradients. PyTorch's gate order: LSTM
// i, f, g, o; GRU r, z, n. Each call covers one slice of hidden units. The
// LSTM's run in AVX-512 C where the CPU has it (RecurrentGatesAVX512.swift).

/// The recurrence a layer runs, with PyTorch's equations and gate order.
public enum RecurrentCell: String, Sendable, Equatable, CaseIterable {
    /// `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`.
    case rnnTanh = "rnn"
    /// Gates i, f, g, o: `c' = f c + i g`, `h' = o tanh(c')`.
    case lstm
    /// Gates r, z, n: `n = tanh(W_in x + b_in + r (W_hn h + b_hn))`, `h' = (1 - z) n + z h`.
    case gru

    /// Number of gate blocks stacked in the weights (`[gateCount · H, …]`).
    package var gateCount: Int {
        switch self {
        case .rnnTanh: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }
}

@inline(__always)
func loadLanes(_ p: UnsafePointer<Float>, _ n: Int) -> V16 {
    if n >= 16 { return loadF16(p) }
    var v = V16(repeating: 0)
    for k in 0..<n { v[k] = p[k] }
    return v
}

@inline(__always)
func storeLanes(_ v: V16, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    if n >= 16 { storeF16(v, p); return }
    for k in 0..<n { p[k] = v[k] }
}

/// tanh(x) as a [13/6] rational function (Eigen's float coefficients) on x clamped to
/// ±7.9053 (where tanh rounds to ±1): |error| < 4e-7 against libm, NaN propagates, and
/// about twice as fast as `simdTanh` (one division, no exp). The gates evaluate five of
/// these per hidden unit and step, so they set the cost of the fused pass.
@inline(__always)
func gateTanh(_ x0: V16) -> V16 {
    let bound = V16(repeating: 7.90531110763549805)
    let x = x0.replacing(with: -bound, where: x0 .< -bound).replacing(with: bound, where: x0 .> bound)
    let x2 = x * x
    var p = V16(repeating: -2.76076847742355e-16)
    p = p * x2 + 2.00018790482477e-13
    p = p * x2 - 8.60467152213735e-11
    p = p * x2 + 5.12229709037114e-08
    p = p * x2 + 1.48572235717979e-05
    p = p * x2 + 6.37261928875436e-04
    p = p * x2 + 4.89352455891786e-03
    var q = V16(repeating: 1.19825839466702e-06)
    q = q * x2 + 1.18534705686654e-04
    q = q * x2 + 2.26843463243900e-03
    q = q * x2 + 4.89352518554385e-03
    return p * x / q
}

/// σ(x) = (1 + tanh(x/2)) / 2 through `gateTanh`: |error| < 3e-7.
@inline(__always)
func gateSigmoid(_ x: V16) -> V16 { 0.5 + 0.5 * gateTanh(0.5 * x) }

/// Row strides of one step's buffers, for a slice of `units` hidden units of `batch` rows.
/// Gate rows (pre-activations, activations, their gradients, the recurrent product)
/// hold the slice's gate blocks `units` apart; pointers passed in are already offset
/// to the slice.
struct GateLayout {
    let batch: Int, units: Int
    /// Row stride of gate buffers (`G′`, all slices' gates).
    let gates: Int
    /// Row stride of `[B, H]` state buffers (c, tanh c, GRU's hn, gradients of h and c).
    let state: Int
    /// Row stride of hidden states inside the `[h | x]` rows.
    let hidden: Int
}

/// Fused per-step kernels (see the file comment); `rec` nil means a zero recurrent product.
enum RecurrentGates {
    /// tanh RNN: `h = tanh(pre + rec + bias)`.
    static func rnnForward(_ l: GateLayout, pre: UnsafePointer<Float>, rec: UnsafePointer<Float>?, bias: UnsafePointer<Float>,
                           h: UnsafeMutablePointer<Float>) {
        let U = l.units
        for b in 0..<l.batch {
            let p = pre + b * l.gates, r = rec.map { $0 + b * l.gates }, hr = h + b * l.hidden
            var j = 0
            while j < U {
                let n = Swift.min(16, U - j)
                var x = loadLanes(p + j, n) + loadLanes(bias + j, n)
                if let r { x += loadLanes(r + j, n) }
                let y = gateTanh(x)
                storeLanes(y, hr + j, n)
                j += 16
            }
        }
    }

    /// tanh RNN backward: `dPre = (dOut + dhRec)(1 - h²)`.
    static func rnnBackward(_ l: GateLayout, h: UnsafePointer<Float>, gradOut: UnsafePointer<Float>,
                            dhRec: UnsafePointer<Float>, dPre: UnsafeMutablePointer<Float>) {
        let U = l.units
        for b in 0..<l.batch {
            let hr = h + b * l.hidden, go = gradOut + b * l.state, dr = dhRec + b * l.state, dp = dPre + b * l.gates
            var j = 0
            while j < U {
                let n = Swift.min(16, U - j)
                let y = loadLanes(hr + j, n)
                let dh = loadLanes(go + j, n) + loadLanes(dr + j, n)
                storeLanes(dh * (1 - y * y), dp + j, n)
                j += 16
            }
        }
    }

    /// LSTM: activations i, f, g, o written over `pre`; `c = f cPrev + i g`,
    /// `tanhC = tanh(c)`, `h = o tanhC`. Runs `kernel` (default: the selected one).
    static func lstmForward(_ l: GateLayout, pre: UnsafeMutablePointer<Float>, rec: UnsafePointer<Float>?,
                            bias: UnsafePointer<Float>, cPrev: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                            tanhC: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>,
                            kernel: RecurrentGateKernel = RecurrentGateKernel.selected) {
        if kernel == .avx512 {
            RecurrentGateKernel.lstmForward(l, pre: pre, rec: rec, bias: bias, cPrev: cPrev, c: c, tanhC: tanhC, h: h)
            return
        }
        let U = l.units
        for b in 0..<l.batch {
            let g0 = pre + b * l.gates, r0 = rec.map { $0 + b * l.gates }
            let cp = cPrev + b * l.state, cr = c + b * l.state, tr = tanhC + b * l.state
            let hr = h + b * l.hidden
            var j = 0
            while j < U {
                let n = Swift.min(16, U - j)
                // One gate at a time, so few 16-lane values are live at once (they spill on SSE).
                @inline(__always) func pre(_ k: Int) -> V16 {
                    let z = loadLanes(g0 + k * U + j, n) + loadLanes(bias + k * U + j, n)
                    if let r0 { return z + loadLanes(r0 + k * U + j, n) }
                    return z
                }
                let i = gateSigmoid(pre(0))
                storeLanes(i, g0 + j, n)
                let g = gateTanh(pre(2))
                storeLanes(g, g0 + 2 * U + j, n)
                let f = gateSigmoid(pre(1))
                storeLanes(f, g0 + U + j, n)
                let cn = f * loadLanes(cp + j, n) + i * g
                storeLanes(cn, cr + j, n)
                let tc = gateTanh(cn)
                storeLanes(tc, tr + j, n)
                let o = gateSigmoid(pre(3))
                storeLanes(o, g0 + 3 * U + j, n)
                storeLanes(o * tc, hr + j, n)
                j += 16
            }
        }
    }

    /// LSTM backward for one step. `dc` holds dL/dc_t on entry and dL/dc_{t-1} on return.
    static func lstmBackward(_ l: GateLayout, gates: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                             tanhC: UnsafePointer<Float>, gradOut: UnsafePointer<Float>, dhRec: UnsafePointer<Float>,
                             dc: UnsafeMutablePointer<Float>, dGates: UnsafeMutablePointer<Float>,
                             kernel: RecurrentGateKernel = RecurrentGateKernel.selected) {
        if kernel == .avx512 {
            RecurrentGateKernel.lstmBackward(l, gates: gates, cPrev: cPrev, tanhC: tanhC, gradOut: gradOut, dhRec: dhRec,
                                             dc: dc, dGates: dGates)
            return
        }
        let U = l.units
        for b in 0..<l.batch {
            let g0 = gates + b * l.gates, d0 = dGates + b * l.gates
            let cp = cPrev + b * l.state, tr = tanhC + b * l.state, dr = dhRec + b * l.state, dcr = dc + b * l.state
            let go = gradOut + b * l.state
            var j = 0
            while j < U {
                let n = Swift.min(16, U - j)
                // Ordered so few 16-lane values are live at once (they spill on SSE).
                let dh = loadLanes(go + j, n) + loadLanes(dr + j, n)
                let o = loadLanes(g0 + 3 * U + j, n), tc = loadLanes(tr + j, n)
                storeLanes(dh * tc * o * (1 - o), d0 + 3 * U + j, n)
                let dcv = loadLanes(dcr + j, n) + dh * o * (1 - tc * tc)
                let i = loadLanes(g0 + j, n), g = loadLanes(g0 + 2 * U + j, n)
                storeLanes(dcv * g * i * (1 - i), d0 + j, n)
                storeLanes(dcv * i * (1 - g * g), d0 + 2 * U + j, n)
                let f = loadLanes(g0 + U + j, n)
                storeLanes(dcv * loadLanes(cp + j, n) * f * (1 - f), d0 + U + j, n)
                storeLanes(dcv * f, dcr + j, n)
                j += 16
            }
        }
    }

    /// GRU: `pre` holds the input-side pre-activations and receives r, z, n; `rec` is
    /// `h W_hhᵀ` (no bias); `bias` holds b_ih (+ b_hh for r and z) and `biasN` b_hn;
    /// `hn = rec_n + b_hn` is kept for the backward; `h = n + z (hPrev - n)`.
    static func gruForward(_ l: GateLayout, pre: UnsafeMutablePointer<Float>, rec: UnsafePointer<Float>?,
                           bias: UnsafePointer<Float>, biasN: UnsafePointer<Float>, hPrev: UnsafePointer<Float>,
                           hn: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>) {
        let U = l.units
        for b in 0..<l.batch {
            let g0 = pre + b * l.gates, q = rec.map { $0 + b * l.gates }
            let hp = hPrev + b * l.hidden, hnr = hn + b * l.state, hr = h + b * l.hidden
            var j = 0
            while j < U {
                let n = Swift.min(16, U - j)
                var zr = loadLanes(g0 + j, n) + loadLanes(bias + j, n)
                var zz = loadLanes(g0 + U + j, n) + loadLanes(bias + U + j, n)
                var hnv = loadLanes(biasN + j, n)
                if let q { zr += loadLanes(q + j, n); zz += loadLanes(q + U + j, n); hnv += loadLanes(q + 2 * U + j, n) }
                let r = gateSigmoid(zr), z = gateSigmoid(zz)
                let nv = gateTanh(loadLanes(g0 + 2 * U + j, n) + loadLanes(bias + 2 * U + j, n) + r * hnv)
                let hv = nv + z * (loadLanes(hp + j, n) - nv)
                storeLanes(r, g0 + j, n); storeLanes(z, g0 + U + j, n); storeLanes(nv, g0 + 2 * U + j, n)
                storeLanes(hnv, hnr + j, n); storeLanes(hv, hr + j, n)
                j += 16
            }
        }
    }

    /// GRU backward for one step: input-side gradients `dGates` (r, z, n pre-activations),
    /// hidden-side `dHidden` (r, z, and `W_hn h + b_hn`). `dh = dOut + dhRec + dhDirect`;
    /// `dhDirect` is then overwritten with the direct path `dh · z` to h_{t-1}.
    static func gruBackward(_ l: GateLayout, gates: UnsafePointer<Float>, hn: UnsafePointer<Float>,
                            hPrev: UnsafePointer<Float>, gradOut: UnsafePointer<Float>, dhRec: UnsafePointer<Float>,
                            dhDirect: UnsafeMutablePointer<Float>, dGates: UnsafeMutablePointer<Float>,
                            dHidden: UnsafeMutablePointer<Float>) {
        let U = l.units
        for b in 0..<l.batch {
            let g0 = gates + b * l.gates, di = dGates + b * l.gates, dq = dHidden + b * l.gates
            let hnr = hn + b * l.state, hp = hPrev + b * l.hidden, go = gradOut + b * l.state
            let dr = dhRec + b * l.state, dd = dhDirect + b * l.state
            var j = 0
            while j < U {
                let n = Swift.min(16, U - j)
                let r = loadLanes(g0 + j, n), z = loadLanes(g0 + U + j, n), nv = loadLanes(g0 + 2 * U + j, n)
                let dh = loadLanes(go + j, n) + loadLanes(dr + j, n) + loadLanes(dd + j, n)
                let dnp = dh * (1 - z) * (1 - nv * nv)
                let drp = dnp * loadLanes(hnr + j, n) * r * (1 - r)
                let dzp = dh * (loadLanes(hp + j, n) - nv) * z * (1 - z)
                storeLanes(drp, di + j, n); storeLanes(dzp, di + U + j, n); storeLanes(dnp, di + 2 * U + j, n)
                storeLanes(drp, dq + j, n); storeLanes(dzp, dq + U + j, n); storeLanes(dnp * r, dq + 2 * U + j, n)
                storeLanes(dh * z, dd + j, n)
                j += 16
            }
        }
    }

    /// `acc[j] += Σ_r x[r · stride + j]` for `j < n` (bias gradients).
    static func addColumnSums(rows: Int, n: Int, _ x: UnsafePointer<Float>, stride: Int, _ acc: UnsafeMutablePointer<Float>) {
        var j = 0
        while j < n {
            let w = Swift.min(16, n - j)
            var s = loadLanes(acc + j, w)
            for r in 0..<rows { s += loadLanes(x + r * stride + j, w) }
            storeLanes(s, acc + j, w)
            j += 16
        }
    }
}
