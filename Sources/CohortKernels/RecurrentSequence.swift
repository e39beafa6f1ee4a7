// One recurrent layer over a whole sequence, forward. The input projection runs
// a chunk of steps ahead as one GEMM (or, for token input, is a row lookup in the
// embedding table projected once); each step is one GEMM through W_hhᵀ and the
// fused gate kernel. Buffers are time-major so a step's rows are contiguous;
// inputs and outputs stay batch-first. Two threads split either the batch rows
// (each runs the whole time loop for its rows, no synchronisation until the end)
// or, for a single sequence, the hidden units (gate columns permuted so each
// slice's gates are contiguous; a barrier once per step). Backward: RecurrentBackward.swift.

/// Sizes of one recurrent layer.
package struct RecurrentDims: Sendable, Equatable {
    package let cell: RecurrentCell
    package let batch: Int, steps: Int, input: Int, hidden: Int

    package init(cell: RecurrentCell, batch: Int, steps: Int, input: Int, hidden: Int) {
        self.cell = cell; self.batch = batch; self.steps = steps; self.input = input; self.hidden = hidden
    }

    /// Width of the stacked gates, `gateCount · hidden`.
    package var gateWidth: Int { cell.gateCount * hidden }
}

/// Parameters of one layer in PyTorch's layout (row-major, contiguous):
/// `wIH [G·H, F]`, `wHH [G·H, H]`, biases `[G·H]`.
package struct RecurrentWeights {
    package var wIH: UnsafePointer<Float>, wHH: UnsafePointer<Float>
    package var bIH: UnsafePointer<Float>?, bHH: UnsafePointer<Float>?

    package init(wIH: UnsafePointer<Float>, wHH: UnsafePointer<Float>, bIH: UnsafePointer<Float>?, bHH: UnsafePointer<Float>?) {
        self.wIH = wIH; self.wHH = wHH; self.bIH = bIH; self.bHH = bHH
    }
}

/// What a layer reads at each step.
package enum RecurrentInput {
    /// Features, batch-first `[B, T, F]`, contiguous.
    case features(UnsafePointer<Float>)
    /// Token ids, batch-first `[B, T]`, each in `0..<V`, looked up in `table` (`[V, F]`):
    /// the input projection becomes a lookup in `table · W_ihᵀ`, computed once per call.
    case tokens(UnsafePointer<Int32>, table: UnsafePointer<Float>)
}

/// How a layer's work is shared between two threads.
package enum RecurrentSplit: Sendable, Equatable {
    /// Each thread runs the whole time loop for half of the batch rows; only the bias and
    /// token-projection gradients are combined, once, in a fixed order.
    case batch
    /// Each thread computes half of the hidden units of every step; a barrier per step.
    case hidden
}

/// Buffer layout of one layer: what the forward keeps for the backward (`savedCount`
/// floats), the forward's scratch and the backward's scratch. All counts in floats.
package struct RecurrentPlan: Sendable, Equatable {
    package let dims: RecurrentDims
    /// Hidden-unit slices run in parallel (1 or 2).
    package let slices: Int
    /// Batch-row parts run in parallel (1 or 2), each through the whole time loop.
    package let parts: Int
    /// Embedding rows for token input, nil for features.
    package let vocabulary: Int?
    package private(set) var savedCount = 0, forwardScratchCount = 0, backwardScratchCount = 0
    // Offsets into the saved buffer.
    var whhT = 0, wihP = 0, whhP = 0, bias = 0, biasN = 0, z = 0, gates = 0, cs = 0, aux = 0, projected = 0
    // Offsets into the backward scratch (`biasAcc` and `dProjected` hold one copy per part).
    var dG = 0, dGh = 0, dhRec = 0, dhDirect = 0, dc = 0, biasAcc = 0, dW = 0, dxT = 0, gradT = 0, dProjected = 0

    /// `threads` ≥ 2 runs two threads: split by batch rows when the batch has two or more,
    /// else by hidden units when `hidden` is even (`split` forces one of the two where it
    /// applies). `vocabulary` selects token input with that many embedding rows.
    package init(_ d: RecurrentDims, threads: Int, vocabulary: Int? = nil, split: RecurrentSplit? = nil) {
        dims = d
        self.vocabulary = vocabulary
        let two = threads >= 2, byBatch = d.batch >= 2, byHidden = d.hidden >= 2 && d.hidden % 2 == 0
        let chosen = split ?? (byBatch ? .batch : .hidden)
        parts = two && chosen == .batch && byBatch ? 2 : 1
        slices = two && chosen == .hidden && byHidden ? 2 : 1
        let (B, T, F, H, G) = (d.batch, d.steps, d.input, d.hidden, d.gateWidth)
        let V = vocabulary ?? 0, zw = vocabulary == nil ? H + F : H
        func take(_ n: Int, _ total: inout Int) -> Int { let o = total; total += (n + 15) / 16 * 16; return o }
        var s = 0
        whhT = take(H * G, &s)
        if slices > 1 { wihP = take(G * F, &s); whhP = take(G * H, &s) }
        bias = take(G, &s); biasN = take(H, &s)
        z = take((T + 1) * B * zw, &s)
        gates = take(T * B * G, &s)
        if d.cell == .lstm { cs = take((T + 1) * B * H, &s) }
        if d.cell != .rnnTanh { aux = take(T * B * H, &s) }
        if vocabulary != nil { projected = take(V * G, &s) }
        savedCount = s
        forwardScratchCount = B * G
        var k = 0
        dG = take(T * B * G, &k)
        if d.cell == .gru { dGh = take(T * B * G, &k); dhDirect = take(B * H, &k) }
        dhRec = take(B * H, &k); dc = take(B * H, &k); biasAcc = take(parts * 2 * G, &k)
        dW = take(G * (H + F), &k); gradT = take(T * B * H, &k)
        if vocabulary != nil { dProjected = take(parts * V * G, &k) } else { dxT = take(T * B * F, &k) }
        backwardScratchCount = k
    }

    var units: Int { dims.hidden / slices }
    /// Threads the time loop runs on (1 or 2).
    var threads: Int { slices * parts }
    /// The hidden-unit slice and the batch rows thread `s` runs.
    func work(_ s: Int) -> (slice: Int, part: Int, rows: Range<Int>) {
        let part = parts > 1 ? s : 0, B = dims.batch
        return (slices > 1 ? s : 0, part, B * part / parts ..< B * (part + 1) / parts)
    }
    /// Width of the time-major `[h | x]` rows (`H` alone for token input).
    var zWidth: Int { dims.hidden + (vocabulary == nil ? dims.input : 0) }
    /// PyTorch row of permuted gate column `c` (slice, gate, unit) → (gate, slice, unit).
    @inline(__always) func row(_ c: Int) -> Int {
        let per = dims.cell.gateCount * units
        let s = c / per, r = c % per
        return (r / units) * dims.hidden + s * units + r % units
    }
    func layout(rows: Int) -> GateLayout {
        GateLayout(batch: rows, units: units, gates: dims.gateWidth, state: dims.hidden, hidden: zWidth)
    }
}

/// Sequence-level forward (here) and backward (RecurrentBackward.swift) of one layer.
package enum RecurrentSequence {
    /// Runs `body(s)` for every thread of the plan, on two threads when there are two.
    /// OpenBLAS runs single-threaded meanwhile: each thread calls it on its own part.
    static func forThreads(_ p: RecurrentPlan, _ body: (Int) -> Void) {
        if p.threads == 1 { body(0); return }
        BLAS.singleThreaded { RecurrentWorkers.shared.run(body) }
    }

    /// `C = op(A) · op(B)` with the rows of C split between the plan's threads.
    static func sgemmRows(_ p: RecurrentPlan, transA: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                          b: UnsafePointer<Float>, ldb: Int, transB: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
        forThreads(p) { s in
            let lo = m * s / p.threads, hi = m * (s + 1) / p.threads
            BLAS.sgemm(transA: transA, transB: transB, m: hi - lo, n: n, k: k, alpha: 1, a: transA ? a + lo : a + lo * lda, lda: lda,
                       b: b, ldb: ldb, beta: 0, c: c + lo * ldc, ldc: ldc)
        }
    }

    /// Forward over all steps. `h0`, `c0` (`[B, H]`) may be nil for zeros. Fills `saved`
    /// (`plan.savedCount`), uses `scratch` (`plan.forwardScratchCount`), writes the output
    /// `[B, T, H]` and, for the LSTM, `cellN` (`[B, H]`) with c_T.
    package static func forward(_ p: RecurrentPlan, weights w: RecurrentWeights, input: RecurrentInput,
                               h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?, saved: UnsafeMutablePointer<Float>,
                               scratch: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>,
                               cellN: UnsafeMutablePointer<Float>?) {
        let d = p.dims, (B, T, F, H, G) = (d.batch, d.steps, d.input, d.hidden, d.gateWidth)
        let zw = p.zWidth
        pack(p, w, saved)
        let wih = p.slices > 1 ? UnsafePointer(saved + p.wihP) : w.wIH
        var tokens: UnsafePointer<Int32>?, features: UnsafePointer<Float>?
        switch input {
        case .features(let x): features = x
        case .tokens(let ids, let table):
            // Every step's input projection is a row of table · W_ihᵀ ([V, G], gate columns permuted).
            BLAS.sgemm(transA: false, transB: true, m: p.vocabulary!, n: G, k: F, alpha: 1, a: table, lda: F, b: wih, ldb: F,
                       beta: 0, c: saved + p.projected, ldc: G)
            tokens = ids
        }
        let U = p.units, per = d.cell.gateCount * U
        let sv = SendableFloats(saved), sc = SendableFloats(scratch), wv = SendableFloats(UnsafeMutablePointer(mutating: wih))
        let tv = tokens.map { SendableTokens(p: $0) }, xv = features.map { SendableFloats(UnsafeMutablePointer(mutating: $0)) }
        let ov = SendableFloats(output), cv = cellN.map { SendableFloats($0) }
        let h0v = h0.map { SendableFloats(UnsafeMutablePointer(mutating: $0)) }, c0v = c0.map { SendableFloats(UnsafeMutablePointer(mutating: $0)) }
        forThreads(p) { s in
            let (sl, _, rows) = p.work(s)
            let saved = sv.p, z = saved + p.z, r0 = rows.lowerBound, nr = rows.count, l = p.layout(rows: nr)
            // This thread's rows of every buffer: gate rows (stride G) at column gOff, state rows (stride H) at uOff.
            let gOff = r0 * G + sl * per, uOff = r0 * H + sl * U, zOff = r0 * zw + sl * U
            // Time-major [h | x] rows; row block t holds the state before step t.
            if sl == 0 {
                for b in rows {
                    if let h0 = h0v?.p { (z + b * zw).update(from: h0 + b * H, count: H) } else { (z + b * zw).update(repeating: 0, count: H) }
                    if d.cell == .lstm {
                        if let c0 = c0v?.p { (saved + p.cs + b * H).update(from: c0 + b * H, count: H) }
                        else { (saved + p.cs + b * H).update(repeating: 0, count: H) }
                    }
                    if let x = xv?.p {
                        for t in 0..<T { (z + (t * B + b) * zw + H).update(from: x + (b * T + t) * F, count: F) }
                        (z + (T * B + b) * zw + H).update(repeating: 0, count: F)
                    }
                }
            }
            if p.slices > 1 { RecurrentWorkers.shared.barrier() }
            let whhT = saved + p.whhT + sl * per, bias = saved + p.bias + sl * per, rec = sc.p + gOff
            // The input projection runs a chunk of steps (about 256 rows) ahead of the gates,
            // so its output is still in cache when they read it; biases are added in the gates.
            // A part's rows are contiguous within a step only, so it projects step by step.
            let chunk = Swift.max(1, 256 / nr)
            for t in 0..<T {
                let zt = z + t * B * zw, pre = saved + p.gates + t * B * G + gOff
                if let ids = tv?.p {
                    let proj = saved + p.projected + sl * per
                    for b in 0..<nr { (pre + b * G).update(from: proj + Int(ids[(r0 + b) * T + t]) * G, count: per) }
                } else if t % chunk == 0 {
                    let n = Swift.min(chunk, T - t), (calls, m) = p.parts > 1 ? (n, nr) : (1, n * B)
                    for k in 0..<calls {
                        BLAS.sgemm(transA: false, transB: true, m: m, n: per, k: F, alpha: 1, a: zt + (k * B + r0) * zw + H, lda: zw,
                                   b: wv.p + sl * per * F, ldb: F, beta: 0, c: pre + k * B * G, ldc: G)
                    }
                }
                let useRec = t > 0 || h0v != nil
                if useRec { BLAS.sgemmNN(m: nr, n: per, k: H, a: zt + r0 * zw, lda: zw, b: whhT, ldb: G, c: rec, ldc: G) }
                let r: UnsafePointer<Float>? = useRec ? UnsafePointer(rec) : nil
                let hn = zt + B * zw + zOff
                switch d.cell {
                case .rnnTanh:
                    RecurrentGates.rnnForward(l, pre: pre, rec: r, bias: bias, h: hn)
                case .lstm:
                    let c = saved + p.cs + t * B * H + uOff
                    RecurrentGates.lstmForward(l, pre: pre, rec: r, bias: bias, cPrev: c, c: c + B * H,
                                               tanhC: saved + p.aux + t * B * H + uOff, h: hn)
                case .gru:
                    RecurrentGates.gruForward(l, pre: pre, rec: r, bias: bias, biasN: saved + p.biasN + sl * U, hPrev: zt + zOff,
                                              hn: saved + p.aux + t * B * H + uOff, h: hn)
                }
                if p.slices > 1 { RecurrentWorkers.shared.barrier() }
            }
            // Batch-first output in one pass (strided writes inside the steps miss the cache);
            // hidden slices, past the last barrier, copy half of the rows each.
            let mine = p.slices > 1 ? B * sl / 2 ..< B * (sl + 1) / 2 : rows
            for b in mine { for t in 0..<T { (ov.p + (b * T + t) * H).update(from: z + ((t + 1) * B + b) * zw, count: H) } }
            if let cn = cv?.p, d.cell == .lstm {
                (cn + mine.lowerBound * H).update(from: saved + p.cs + (T * B + mine.lowerBound) * H, count: mine.count * H)
            }
        }
    }

    /// Weights in the layout the steps read: W_hhᵀ with permuted columns, and (two
    /// slices) W_ih and W_hh with permuted rows; the summed biases, permuted.
    static func pack(_ p: RecurrentPlan, _ w: RecurrentWeights, _ saved: UnsafeMutablePointer<Float>) {
        let d = p.dims, (F, H, G) = (d.input, d.hidden, d.gateWidth)
        let whhT = saved + p.whhT
        // Blocked transpose: whhT[k][c] = W_hh[row(c)][k].
        var c0 = 0
        while c0 < G {
            let c1 = Swift.min(c0 + 16, G)
            var k0 = 0
            while k0 < H {
                let k1 = Swift.min(k0 + 64, H)
                for c in c0..<c1 {
                    let src = w.wHH + p.row(c) * H
                    for k in k0..<k1 { whhT[k * G + c] = src[k] }
                }
                k0 = k1
            }
            c0 = c1
        }
        if p.slices > 1 {
            for c in 0..<G {
                (saved + p.wihP + c * F).update(from: w.wIH + p.row(c) * F, count: F)
                (saved + p.whhP + c * H).update(from: w.wHH + p.row(c) * H, count: H)
            }
        }
        let bias = saved + p.bias
        for c in 0..<G {
            let r = p.row(c)
            var v: Float = w.bIH?[r] ?? 0
            if d.cell != .gru || r < 2 * H { v += w.bHH?[r] ?? 0 }
            bias[c] = v
        }
        let bn = saved + p.biasN
        if d.cell == .gru, let b = w.bHH { bn.update(from: b + 2 * H, count: H) } else { bn.update(repeating: 0, count: H) }
    }
}

/// Pointers handed to the helper thread; the two threads touch disjoint parts.
struct SendableFloats: @unchecked Sendable {
    let p: UnsafeMutablePointer<Float>
    init(_ p: UnsafeMutablePointer<Float>) { self.p = p }
}

struct SendableTokens: @unchecked Sendable { let p: UnsafePointer<Int32> }
