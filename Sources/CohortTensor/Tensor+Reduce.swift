// Reductions over any set of axes, with keepDims. A contiguous block of axes
// reduces in place (row or column kernels); other patterns permute first.
import CohortCore
import CohortKernels

extension Tensor {
    func normalizeAxes(_ axes: [Int]?, op: String) throws -> [Int] {
        guard let axes, !axes.isEmpty else { return Array(0..<rank) }
        let a = try axes.map { try normalizeAxis($0, op: op) }
        guard Set(a).count == a.count else { throw CohortError.invalidArgument("\(op): repeated axis in \(axes)") }
        return a.sorted()
    }

    static func keptShape(_ shape: [Int], _ axes: [Int], keepDims: Bool) -> [Int] {
        var s: [Int] = []
        for (i, d) in shape.enumerated() {
            if axes.contains(i) { if keepDims { s.append(1) } } else { s.append(d) }
        }
        return s
    }

    /// Raw reduction (no autograd). `axes` must be normalised and sorted.
    func reduced(_ op: ReduceOp, axes: [Int], keepDims: Bool) -> Tensor {
        let outShape = Tensor.keptShape(shape, axes, keepDims: keepDims)
        let out = Tensor(uninitialized: outShape)
        if axes.isEmpty { Elementwise.copy(shape: shape, src: base, strides: strides, dst: out.base); return out }
        var x = isContiguous ? self : copy()
        var s = shape
        if let lo = axes.first, let hi = axes.last, hi - lo + 1 == axes.count {
            // A contiguous block of axes: [blocks, reduced, inner].
            let blocks = s[..<lo].reduce(1, *), red = s[lo...hi].reduce(1, *), inner = s[(hi + 1)...].reduce(1, *)
            if inner == 1 { Reduce.rows(op, rows: blocks, n: red, x.base, out.base) }
            else { Reduce.columns(op, blocks: blocks, outer: red, n: inner, x.base, out.base) }
            return out
        }
        let kept = (0..<rank).filter { !axes.contains($0) }
        let perm = kept + axes
        let pshape = perm.map { shape[$0] }
        let tmp = Tensor(uninitialized: pshape)
        Elementwise.copy(shape: pshape, src: x.base, strides: perm.map { x.strides[$0] }, dst: tmp.base)
        x = tmp; s = pshape
        Reduce.rows(op, rows: kept.map { shape[$0] }.reduce(1, *), n: axes.map { shape[$0] }.reduce(1, *), x.base, out.base)
        return out
    }

    /// Sum over `axes` (all when nil).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let a = try normalizeAxes(axes, op: "sum")
        let out = reduced(.sum, axes: a, keepDims: keepDims)
        let inShape = shape, kshape = Tensor.keptShape(shape, a, keepDims: true)
        return record(out, "sum", [self], rule: .sum(kept: kshape)) { g, _ in [g.reshapedView(kshape).expandedCopy(inShape)] }
    }

    /// Mean over `axes` (all when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let a = try normalizeAxes(axes, op: "mean")
        let n = a.map { shape[$0] }.reduce(1, *)
        let out = reduced(.sum, axes: a, keepDims: keepDims)
        Elementwise.scale(out.count, alpha: 1 / Float(n), out.base)
        let inShape = shape, kshape = Tensor.keptShape(shape, a, keepDims: true)
        return record(out, "mean", [self], rule: .mean(kept: kshape, count: n)) { g, _ in
            let r = g.reshapedView(kshape).expandedCopy(inShape)
            Elementwise.scale(r.count, alpha: 1 / Float(n), r.base)
            return [r]
        }
    }

    func extremum(_ op: ReduceOp, axes: [Int]?, keepDims: Bool, name: String) throws -> Tensor {
        let a = try normalizeAxes(axes, op: name)
        guard a.allSatisfy({ shape[$0] > 0 }) else { throw CohortError.invalidArgument("\(name): empty axis in \(describeShape(shape))") }
        let out = reduced(op, axes: a, keepDims: keepDims)
        let x = detached(), kshape = Tensor.keptShape(shape, a, keepDims: true), dout = out.detached()
        return record(out, name, [self]) { g, _ in
            // Gradient split evenly among tied extrema (like torch.amax).
            let mask = raw(.eq, x, dout.reshapedView(kshape))
            let ties = mask.reduced(.sum, axes: a, keepDims: true)
            return [raw(.mul, mask, raw(.div, g.reshapedView(kshape), ties))]
        }
    }

    /// Maximum over `axes` (all when nil).
    public func max(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor { try extremum(.max, axes: axes, keepDims: keepDims, name: "max") }
    /// Minimum over `axes` (all when nil).
    public func min(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor { try extremum(.min, axes: axes, keepDims: keepDims, name: "min") }

    /// Index of the maximum along `axis` (first on ties), as integer-valued floats.
    public func argmax(axis: Int = -1, keepDims: Bool = false) throws -> Tensor {
        let a = try normalizeAxis(axis, op: "argmax")
        guard shape[a] > 0 else { throw CohortError.invalidArgument("argmax: empty axis \(axis) in \(describeShape(shape))") }
        let moved = try detached().transpose(a, -1).contiguous()
        let out = Tensor(uninitialized: Array(moved.shape.dropLast()))
        Reduce.argRows(max: true, rows: out.count, n: shape[a], moved.base, out.base)
        var r = out
        if keepDims { r = try out.unsqueeze(-1) }
        if a != rank - 1 { r = keepDims ? try r.transpose(a, -1).contiguous() : try r.unsqueeze(-1).transpose(a, -1).squeeze(a).contiguous() }
        return r.detached()
    }

    /// Variance over `axes` with Bessel's correction by default (`correction: 1`).
    public func variance(axes: [Int]? = nil, keepDims: Bool = false, correction: Int = 1) throws -> Tensor {
        let a = try normalizeAxes(axes, op: "variance")
        let n = a.map { shape[$0] }.reduce(1, *)
        guard n - correction > 0 else { throw CohortError.invalidArgument("variance: \(n) elements with correction \(correction)") }
        let mu = try mean(axes: a, keepDims: true)
        let d = try self - mu
        return try (d * d).sum(axes: a, keepDims: keepDims) / Float(n - correction)
    }

    /// log(sum(exp(x))) over `axes`, computed stably.
    public func logsumexp(axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        let a = try normalizeAxes(axes, op: "logsumexp")
        let m = reduced(.max, axes: a, keepDims: true)
        for i in 0..<m.count where !m.base[i].isFinite { m.base[i] = 0 }
        let s = try (self - m).exp().sum(axes: a, keepDims: true).log() + m
        return keepDims ? s : try s.reshape(Tensor.keptShape(shape, a, keepDims: false))
    }

    /// The p-norm over `axes` (p = 2 by default; 1 and ∞ supported).
    public func norm(p: Float = 2, axes: [Int]? = nil, keepDims: Bool = false) throws -> Tensor {
        if p == 1 { return try abs().sum(axes: axes, keepDims: keepDims) }
        if p == .infinity { return try abs().max(axes: axes, keepDims: keepDims) }
        if p == 2 { return try square().sum(axes: axes, keepDims: keepDims).sqrt() }
        return try abs().pow(p).sum(axes: axes, keepDims: keepDims).pow(1 / p)
    }
}
