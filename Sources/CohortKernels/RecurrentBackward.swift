// Backward through time of one recurrent layer: per step (in reverse) the fused
// gate backward and one GEMM through W_hh for dL/dh_{t-1}; then the weight
// gradients of all steps as one GEMM (dG_allᵀ · [h_{t-1} | x_t]) and the input
// gradient as one GEMM. For token input, the gate gradients are scatter-added
// per token id, and the table and W_ih gradients come from that [V, G] sum.

/// Gradient destinations of the backward; nil entries are not computed. Parameter
/// gradients (PyTorch layout) and the embedding `table` gradient (`[V, F]`, token
/// input) are accumulated (`+=`); `x` (`[B, T, F]`), `h0` and `c0` (`[B, H]`) are overwritten.
package struct RecurrentGradients {
    package var wIH: UnsafeMutablePointer<Float>?, wHH: UnsafeMutablePointer<Float>?
    package var bIH: UnsafeMutablePointer<Float>?, bHH: UnsafeMutablePointer<Float>?
    package var x: UnsafeMutablePointer<Float>?, table: UnsafeMutablePointer<Float>?
    package var h0: UnsafeMutablePointer<Float>?, c0: UnsafeMutablePointer<Float>?

    package init(wIH: UnsafeMutablePointer<Float>?, wHH: UnsafeMutablePointer<Float>?, bIH: UnsafeMutablePointer<Float>?,
                bHH: UnsafeMutablePointer<Float>?, x: UnsafeMutablePointer<Float>? = nil, table: UnsafeMutablePointer<Float>? = nil,
                h0: UnsafeMutablePointer<Float>?, c0: UnsafeMutablePointer<Float>?) {
        self.wIH = wIH; self.wHH = wHH; self.bIH = bIH; self.bHH = bHH; self.x = x; self.table = table; self.h0 = h0; self.c0 = c0
    }
}

extension RecurrentSequence {
    /// Backward through time from `gradOutput` (`[B, T, H]`) and, for the LSTM,
    /// `gradCellN` (dL/dc_T, `[B, H]`, nil for zero), with the forward's `saved` buffer
    /// and `input`. `scratch` holds `plan.backwardScratchCount` floats.
    package static func backward(_ p: RecurrentPlan, weights w: RecurrentWeights, input: RecurrentInput, saved: UnsafePointer<Float>,
                                gradOutput: UnsafePointer<Float>, gradCellN: UnsafePointer<Float>?,
                                scratch sc: UnsafeMutablePointer<Float>, grads g: RecurrentGradients) {
        let d = p.dims, (B, T, H, G) = (d.batch, d.steps, d.hidden, d.gateWidth)
        let needBias = g.bIH != nil || g.bHH != nil
        var tokens: SendableTokens?
        if case .tokens(let ids, _) = input { tokens = SendableTokens(p: ids) }
        let sv = SendableFloats(UnsafeMutablePointer(mutating: saved)), sp = SendableFloats(sc)
        let gv = SendableFloats(UnsafeMutablePointer(mutating: gradOutput)), gcv = gradCellN.map { SendableFloats(UnsafeMutablePointer(mutating: $0)) }
        let wp = SendableFloats(UnsafeMutablePointer(mutating: p.slices > 1 ? saved + p.whhP : w.wHH))
        forThreads(p) { s in
            let (sl, part, rows) = p.work(s)
            let sc = sp.p, r0 = rows.lowerBound
            if sl == 0 {
                // This part's state gradients and accumulators, and a time-major copy of its rows
                // of the output gradient, so each step reads contiguous rows.
                for b in rows {
                    for t in 0..<T { (sc + p.gradT + (t * B + b) * H).update(from: gv.p + (b * T + t) * H, count: H) }
                }
                (sc + p.dhRec + r0 * H).update(repeating: 0, count: rows.count * H)
                if d.cell == .gru { (sc + p.dhDirect + r0 * H).update(repeating: 0, count: rows.count * H) }
                if d.cell == .lstm {
                    if let gc = gcv?.p { (sc + p.dc + r0 * H).update(from: gc + r0 * H, count: rows.count * H) }
                    else { (sc + p.dc + r0 * H).update(repeating: 0, count: rows.count * H) }
                }
                if needBias { (sc + p.biasAcc + part * 2 * G).update(repeating: 0, count: 2 * G) }
                if tokens != nil { (sc + p.dProjected + part * p.vocabulary! * G).update(repeating: 0, count: p.vocabulary! * G) }
            }
            if p.slices > 1 { RecurrentWorkers.shared.barrier() }
            backwardSteps(p, s, saved: UnsafePointer(sv.p), scratch: sc, tokens: tokens?.p, whh: UnsafePointer(wp.p),
                          needBias: needBias, needH0: g.h0 != nil)
        }
        if p.parts > 1 {
            // Each part accumulated its own bias and token-projection gradients: add them in part order.
            if needBias { Elementwise.axpy(2 * G, alpha: 1, sc + p.biasAcc + 2 * G, sc + p.biasAcc) }
            if tokens != nil { Elementwise.axpy(p.vocabulary! * G, alpha: 1, sc + p.dProjected + p.vocabulary! * G, sc + p.dProjected) }
        }
        if let dh0 = g.h0 {
            dh0.update(from: sc + p.dhRec, count: B * H)
            if d.cell == .gru { Elementwise.axpy(B * H, alpha: 1, sc + p.dhDirect, dh0) }
        }
        if let dc0 = g.c0, d.cell == .lstm { dc0.update(from: sc + p.dc, count: B * H) }
        if needBias {
            let acc = sc + p.biasAcc
            for c in 0..<G {
                let r = p.row(c)
                g.bIH?[r] += acc[c]
                g.bHH?[r] += d.cell == .gru && r >= 2 * H ? acc[G + c] : acc[c]
            }
        }
        weightGradients(p, weights: w, input: input, saved: saved, scratch: sc, grads: g)
    }

    /// The reverse time loop of thread `s`: its hidden slice of all rows, or all units of its rows.
    static func backwardSteps(_ p: RecurrentPlan, _ s: Int, saved: UnsafePointer<Float>, scratch sc: UnsafeMutablePointer<Float>,
                              tokens: UnsafePointer<Int32>?, whh: UnsafePointer<Float>, needBias: Bool, needH0: Bool) {
        let d = p.dims, (B, T, H, G) = (d.batch, d.steps, d.hidden, d.gateWidth)
        let (sl, part, rows) = p.work(s)
        let zw = p.zWidth, U = p.units, per = d.cell.gateCount * U, r0 = rows.lowerBound, nr = rows.count
        let l = p.layout(rows: nr), gOff = r0 * G + sl * per, uOff = r0 * H + sl * U, zOff = r0 * zw + sl * U
        let dHid = d.cell == .gru ? sc + p.dGh : sc + p.dG
        let biasAcc = sc + p.biasAcc + part * 2 * G + sl * per
        let dProj = sc + p.dProjected + part * (p.vocabulary ?? 0) * G + sl * per
        let dhRec = sc + p.dhRec + uOff
        for t in stride(from: T - 1, through: 0, by: -1) {
            let gt = saved + p.gates + t * B * G + gOff, dgt = sc + p.dG + t * B * G + gOff
            let gOut = UnsafePointer(sc + p.gradT) + t * B * H + uOff
            let zt = saved + p.z + t * B * zw
            switch d.cell {
            case .rnnTanh:
                RecurrentGates.rnnBackward(l, h: zt + B * zw + zOff, gradOut: gOut, dhRec: dhRec, dPre: dgt)
            case .lstm:
                RecurrentGates.lstmBackward(l, gates: gt, cPrev: saved + p.cs + t * B * H + uOff, tanhC: saved + p.aux + t * B * H + uOff,
                                            gradOut: gOut, dhRec: dhRec, dc: sc + p.dc + uOff, dGates: dgt)
            case .gru:
                RecurrentGates.gruBackward(l, gates: gt, hn: saved + p.aux + t * B * H + uOff, hPrev: zt + zOff, gradOut: gOut,
                                           dhRec: dhRec, dhDirect: sc + p.dhDirect + uOff, dGates: dgt,
                                           dHidden: sc + p.dGh + t * B * G + gOff)
            }
            if needBias {
                RecurrentGates.addColumnSums(rows: nr, n: per, dgt, stride: G, biasAcc)
                if d.cell == .gru {
                    // r and z gradients are the same on both sides; only the n block differs.
                    RecurrentGates.addColumnSums(rows: nr, n: U, sc + p.dGh + t * B * G + gOff + 2 * U, stride: G, biasAcc + G + 2 * U)
                }
            }
            if let ids = tokens {
                // dL/d(table · W_ihᵀ)[id] += the step's input-side gate gradients (this thread's columns and rows).
                for b in 0..<nr { Elementwise.axpy(per, alpha: 1, dgt + b * G, dProj + Int(ids[(r0 + b) * T + t]) * G) }
            }
            if t > 0 || needH0 {
                if p.slices > 1 { RecurrentWorkers.shared.barrier() }
                // dL/dh_{t-1} through W_hh: this slice's units from all slices' gate gradients, or all units of this part's rows.
                BLAS.sgemmNN(m: nr, n: U, k: G, a: dHid + t * B * G + r0 * G, lda: G, b: whh + sl * U, ldb: H, c: dhRec, ldc: H)
            }
        }
    }

    /// dW_hh = Σ_t dG_tᵀ h_{t-1} and (features) dW_ih = Σ_t dG_tᵀ x_t as one GEMM over all
    /// steps (two for the GRU, whose hidden-side gradients differ), added row by row into
    /// PyTorch's layout; then the input gradient. For tokens, W_ih and the table get theirs
    /// from the per-id sums: dW_ih = dPᵀ · table, d table = dP · W_ih.
    static func weightGradients(_ p: RecurrentPlan, weights w: RecurrentWeights, input: RecurrentInput, saved: UnsafePointer<Float>,
                                scratch sc: UnsafeMutablePointer<Float>, grads g: RecurrentGradients) {
        let d = p.dims, (B, T, F, H, G) = (d.batch, d.steps, d.input, d.hidden, d.gateWidth)
        let zw = p.zWidth, rows = T * B, z = saved + p.z, dW = sc + p.dW, ld = H + F
        let wih = p.slices > 1 ? saved + p.wihP : w.wIH
        let dHid = d.cell == .gru ? sc + p.dGh : sc + p.dG
        switch input {
        case .features:
            if d.cell == .gru || g.wIH == nil {
                if g.wHH != nil { sgemmRows(p, transA: true, m: G, n: H, k: rows, a: dHid, lda: G, b: z, ldb: zw, transB: false, c: dW, ldc: ld) }
                if g.wIH != nil {
                    sgemmRows(p, transA: true, m: G, n: F, k: rows, a: sc + p.dG, lda: G, b: z + H, ldb: zw, transB: false, c: dW + H, ldc: ld)
                }
            } else {
                // [h_{t-1} | x_t] rows side by side: both weight gradients in one GEMM.
                let lo = g.wHH != nil ? 0 : H
                sgemmRows(p, transA: true, m: G, n: ld - lo, k: rows, a: sc + p.dG, lda: G, b: z + lo, ldb: zw, transB: false,
                          c: dW + lo, ldc: ld)
            }
        case .tokens(_, let table):
            let V = p.vocabulary!, dProj = sc + p.dProjected
            if g.wHH != nil { sgemmRows(p, transA: true, m: G, n: H, k: rows, a: dHid, lda: G, b: z, ldb: zw, transB: false, c: dW, ldc: ld) }
            if g.wIH != nil {
                BLAS.sgemm(transA: true, transB: false, m: G, n: F, k: V, alpha: 1, a: dProj, lda: G, b: table, ldb: F,
                           beta: 0, c: dW + H, ldc: ld)
            }
            if let dt = g.table {
                BLAS.sgemm(transA: false, transB: false, m: V, n: F, k: G, alpha: 1, a: dProj, lda: G, b: wih, ldb: F,
                           beta: 1, c: dt, ldc: F)
            }
        }
        for c in 0..<G {
            let r = p.row(c)
            if let dwhh = g.wHH { Elementwise.axpy(H, alpha: 1, dW + c * ld, dwhh + r * H) }
            if let dwih = g.wIH { Elementwise.axpy(F, alpha: 1, dW + c * ld + H, dwih + r * F) }
        }
        if let dx = g.x, case .features = input {
            let dxT = sc + p.dxT
            sgemmRows(p, transA: false, m: rows, n: F, k: G, a: sc + p.dG, lda: G, b: wih, ldb: F, transB: false, c: dxT, ldc: F)
            for t in 0..<T { for b in 0..<B { (dx + (b * T + t) * F).update(from: dxT + (t * B + b) * F, count: F) } }
        }
    }
}
