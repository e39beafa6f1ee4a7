// Elementwise arithmetic with NumPy broadcasting, comparisons and `where`.
// Each op's backward sits beside its forward; broadcast inputs get their
// gradient summed back to their own shape.
import CohortCore
import CohortKernels

/// The broadcast shape of `a` and `b` (NumPy rules), or an error naming both.
public func broadcastShapes(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        guard da == db || da == 1 || db == 1 else {
            throw CohortError.shapeMismatch(op: op, "\(describeShape(a)) and \(describeShape(b)) cannot be broadcast together")
        }
        out[i] = da == 1 ? db : da
    }
    return out
}

extension Tensor {
    /// Strides that read this tensor as if expanded to `target` (0 on broadcast dims).
    func broadcastStrides(to target: [Int]) -> [Int] {
        let lead = target.count - shape.count
        var s = [Int](repeating: 0, count: target.count)
        for i in 0..<shape.count where shape[i] != 1 || target[lead + i] == 1 { s[lead + i] = shape[i] == 1 ? 0 : strides[i] }
        return s
    }

    /// Sums a gradient of a broadcast shape back to `target` (the input's shape).
    static func sumTo(_ g: Tensor, _ target: [Int]) -> Tensor {
        if g.shape == target { return g }
        let lead = g.shape.count - target.count
        var axes: [Int] = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && g.shape[lead + i] != 1 { axes.append(lead + i) }
        let s = g.reduced(.sum, axes: axes, keepDims: false)
        return s.reshapedView(target)
    }

    static func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ name: String) throws -> Tensor {
        let shape = try broadcastShapes(a.shape, b.shape, op: name)
        let out = Tensor(uninitialized: shape)
        Elementwise.binary(op, shape: shape, a: a.base, aStrides: a.broadcastStrides(to: shape),
                           b: b.base, bStrides: b.broadcastStrides(to: shape), out: out.base)
        return out
    }


    /// `a + b` with broadcasting.
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try binary(.add, a, b, "add")
        let (sa, sb) = (a.shape, b.shape)
        return record(out, "add", [a, b], rule: .add) { g, ctx in
            [ctx.needs(0) ? sumTo(g, sa) : nil, ctx.needs(1) ? sumTo(g, sb) : nil]
        }
    }

    /// `a - b` with broadcasting.
    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try binary(.sub, a, b, "sub")
        let (sa, sb) = (a.shape, b.shape)
        return record(out, "sub", [a, b], rule: .sub) { g, ctx in
            [ctx.needs(0) ? sumTo(g, sa) : nil, ctx.needs(1) ? sumTo(g.negatedRaw(), sb) : nil]
        }
    }

    /// `a * b` (elementwise) with broadcasting.
    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try binary(.mul, a, b, "mul")
        let (da, db) = (a.detached(), b.detached())
        return record(out, "mul", [a, b], rule: .mul) { g, ctx in
            [ctx.needs(0) ? sumTo(raw(.mul, g, db), da.shape) : nil,
             ctx.needs(1) ? sumTo(raw(.mul, g, da), db.shape) : nil]
        }
    }

    /// `a / b` (elementwise) with broadcasting.
    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        let out = try binary(.div, a, b, "div")
        let (da, db) = (a.detached(), b.detached())
        return record(out, "div", [a, b], rule: .div) { g, ctx in
            let ga = ctx.needs(0) ? sumTo(raw(.div, g, db), da.shape) : nil
            var gb: Tensor?
            if ctx.needs(1) {
                // d(a/b)/db = -a / b²
                let q = raw(.div, raw(.div, raw(.mul, g, da), db), db)
                gb = sumTo(q.negatedRaw(), db.shape)
            }
            return [ga, gb]
        }
    }

    /// Elementwise maximum with broadcasting (gradient goes to the larger; ties to `a`).
    public static func maximum(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let out = try binary(.maximum, a, b, "maximum")
        let (da, db) = (a.detached(), b.detached())
        return record(out, "maximum", [a, b], rule: .maximum) { g, ctx in
            let mask = raw(.ge, da, db)
            return [ctx.needs(0) ? sumTo(raw(.mul, g, mask), da.shape) : nil,
                    ctx.needs(1) ? sumTo(raw(.mul, g, raw(.sub, Tensor.scalar(1), mask)), db.shape) : nil]
        }
    }

    /// Elementwise minimum with broadcasting (gradient goes to the smaller; ties to `a`).
    public static func minimum(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let out = try binary(.minimum, a, b, "minimum")
        let (da, db) = (a.detached(), b.detached())
        return record(out, "minimum", [a, b], rule: .minimum) { g, ctx in
            let mask = raw(.le, da, db)
            return [ctx.needs(0) ? sumTo(raw(.mul, g, mask), da.shape) : nil,
                    ctx.needs(1) ? sumTo(raw(.mul, g, raw(.sub, Tensor.scalar(1), mask)), db.shape) : nil]
        }
    }

    /// `a ** b` elementwise with broadcasting (`a` > 0 where `b` needs a gradient).
    public static func pow(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let out = try binary(.pow, a, b, "pow")
        let (da, db, dout) = (a.detached(), b.detached(), out.detached())
        return record(out, "pow", [a, b], rule: .pow) { g, ctx in
            var ga: Tensor?, gb: Tensor?
            if ctx.needs(0) {
                let bm1 = raw(.sub, db, Tensor.scalar(1))
                ga = sumTo(raw(.mul, g, raw(.mul, db, raw(.pow, da, bm1))), da.shape)
            }
            if ctx.needs(1) {
                let la = da.unaryRaw(.log)
                gb = sumTo(raw(.mul, g, raw(.mul, dout, la)), db.shape)
            }
            return [ga, gb]
        }
    }

    public static func + (a: Tensor, b: Float) throws -> Tensor { try a + Tensor.scalar(b) }
    public static func - (a: Tensor, b: Float) throws -> Tensor { try a - Tensor.scalar(b) }
    public static func * (a: Tensor, b: Float) throws -> Tensor { try a * Tensor.scalar(b) }
    public static func / (a: Tensor, b: Float) throws -> Tensor { try a / Tensor.scalar(b) }
    public static func + (a: Float, b: Tensor) throws -> Tensor { try Tensor.scalar(a) + b }
    public static func - (a: Float, b: Tensor) throws -> Tensor { try Tensor.scalar(a) - b }
    public static func * (a: Float, b: Tensor) throws -> Tensor { try Tensor.scalar(a) * b }
    public static func / (a: Float, b: Tensor) throws -> Tensor { try Tensor.scalar(a) / b }

    /// `-x`.
    public static prefix func - (x: Tensor) -> Tensor { x.unary(.neg) }

    /// Elementwise comparisons returning 0/1 tensors (not differentiable).
    public func eq(_ o: Tensor) throws -> Tensor { try Tensor.binary(.eq, self, o, "eq") }
    public func ne(_ o: Tensor) throws -> Tensor { try Tensor.binary(.ne, self, o, "ne") }
    public func lt(_ o: Tensor) throws -> Tensor { try Tensor.binary(.lt, self, o, "lt") }
    public func le(_ o: Tensor) throws -> Tensor { try Tensor.binary(.le, self, o, "le") }
    public func gt(_ o: Tensor) throws -> Tensor { try Tensor.binary(.gt, self, o, "gt") }
    public func ge(_ o: Tensor) throws -> Tensor { try Tensor.binary(.ge, self, o, "ge") }

    /// `condition ? a : b` elementwise (condition non-zero selects `a`), all three broadcast.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let s1 = try broadcastShapes(condition.shape, a.shape, op: "where")
        let shape = try broadcastShapes(s1, b.shape, op: "where")
        let c = condition.expandedCopy(shape), x = a.expandedCopy(shape), y = b.expandedCopy(shape)
        let out = Tensor(uninitialized: shape)
        let n = out.count
        for i in 0..<n { out.base[i] = c.base[i] != 0 ? x.base[i] : y.base[i] }
        let (sa, sb) = (a.shape, b.shape)
        return record(out, "where", [a, b]) { g, ctx in
            let gc = g.contiguous()
            var ga: Tensor?, gb: Tensor?
            if ctx.needs(0) {
                let t = Tensor(uninitialized: shape)
                for i in 0..<n { t.base[i] = c.base[i] != 0 ? gc.base[i] : 0 }
                ga = sumTo(t, sa)
            }
            if ctx.needs(1) {
                let t = Tensor(uninitialized: shape)
                for i in 0..<n { t.base[i] = c.base[i] != 0 ? 0 : gc.base[i] }
                gb = sumTo(t, sb)
            }
            return [ga, gb]
        }
    }

    /// A contiguous copy of this tensor broadcast to `shape` (no autograd).
    func expandedCopy(_ shape: [Int]) -> Tensor {
        let out = Tensor(uninitialized: shape)
        Elementwise.copy(shape: shape, src: base, strides: broadcastStrides(to: shape), dst: out.base)
        return out
    }

    func negatedRaw() -> Tensor { unaryRaw(.neg) }

    /// Unary op without autograd (for backward closures).
    func unaryRaw(_ op: UnaryOp) -> Tensor {
        let x = isContiguous ? self : copy()
        let out = Tensor(uninitialized: shape)
        Elementwise.unary(op, count, x.base, out.base)
        return out
    }
}

/// Elementwise binary op without autograd, for backward closures (shapes are
/// consistent by construction there).
func raw(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
    try! Tensor.binary(op, a, b, "internal")
}
