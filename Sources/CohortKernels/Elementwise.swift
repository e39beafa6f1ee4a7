// Elementwise kernels over strided buffers. The N-d loop coalesces dimensions
// and runs the innermost one as a tight (SIMD where contiguous) loop, so a
// broadcast bias add or a scalar multiply costs the same as a plain add.

/// Binary elementwise operations (arithmetic and comparisons yielding 0/1).
package enum BinaryOp: Sendable, Equatable {
    case add, sub, mul, div, maximum, minimum, pow
    case eq, ne, lt, le, gt, ge
}

/// Unary elementwise operations on contiguous buffers.
package enum UnaryOp: Sendable, Equatable {
    case neg, exp, log, sqrt, abs, tanh, sigmoid, relu, gelu, square, reciprocal, sign
}

protocol BinaryKernel {
    static func scalar(_ a: Float, _ b: Float) -> Float
    static func vector(_ a: V16, _ b: V16) -> V16
}

struct AddK: BinaryKernel { @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a + b }; @inline(__always) static func vector(_ a: V16, _ b: V16) -> V16 { a + b } }
struct SubK: BinaryKernel { @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a - b }; @inline(__always) static func vector(_ a: V16, _ b: V16) -> V16 { a - b } }
struct MulK: BinaryKernel { @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a * b }; @inline(__always) static func vector(_ a: V16, _ b: V16) -> V16 { a * b } }
struct DivK: BinaryKernel { @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a / b }; @inline(__always) static func vector(_ a: V16, _ b: V16) -> V16 { a / b } }
struct MaxK: BinaryKernel { @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a.isNaN || b.isNaN ? .nan : Swift.max(a, b) }; @inline(__always) static func vector(_ a: V16, _ b: V16) -> V16 { simdMax(a, b) } }
struct MinK: BinaryKernel { @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a.isNaN || b.isNaN ? .nan : Swift.min(a, b) }; @inline(__always) static func vector(_ a: V16, _ b: V16) -> V16 { simdMin(a, b) } }
struct PowK: BinaryKernel {
    @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { powf(a, b) }
    @inline(__always) static func vector(_ a: V16, _ b: V16) -> V16 { var r = V16(); for i in 0..<16 { r[i] = powf(a[i], b[i]) }; return r }
}
struct EqK: BinaryKernel { @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a == b ? 1 : 0 }; @inline(__always) static func vector(_ a: V16, _ b: V16) -> V16 { V16(repeating: 0).replacing(with: 1, where: a .== b) } }
struct NeK: BinaryKernel { @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a != b ? 1 : 0 }; @inline(__always) static func vector(_ a: V16, _ b: V16) -> V16 { V16(repeating: 0).replacing(with: 1, where: a .!= b) } }
struct LtK: BinaryKernel { @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a < b ? 1 : 0 }; @inline(__always) static func vector(_ a: V16, _ b: V16) -> V16 { V16(repeating: 0).replacing(with: 1, where: a .< b) } }
struct LeK: BinaryKernel { @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a <= b ? 1 : 0 }; @inline(__always) static func vector(_ a: V16, _ b: V16) -> V16 { V16(repeating: 0).replacing(with: 1, where: a .<= b) } }
struct GtK: BinaryKernel { @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a > b ? 1 : 0 }; @inline(__always) static func vector(_ a: V16, _ b: V16) -> V16 { V16(repeating: 0).replacing(with: 1, where: a .> b) } }
struct GeK: BinaryKernel { @inline(__always) static func scalar(_ a: Float, _ b: Float) -> Float { a >= b ? 1 : 0 }; @inline(__always) static func vector(_ a: V16, _ b: V16) -> V16 { V16(repeating: 0).replacing(with: 1, where: a .>= b) } }

#if canImport(Glibc)
import Glibc
#endif

protocol UnaryKernel { static func vector(_ x: V16) -> V16 }
struct NegK: UnaryKernel { @inline(__always) static func vector(_ x: V16) -> V16 { -x } }
struct ExpK: UnaryKernel { @inline(__always) static func vector(_ x: V16) -> V16 { simdExp(x) } }
struct SqrtK: UnaryKernel { @inline(__always) static func vector(_ x: V16) -> V16 { x.squareRoot() } }
struct AbsK: UnaryKernel { @inline(__always) static func vector(_ x: V16) -> V16 { simdAbs(x) } }
struct TanhK: UnaryKernel { @inline(__always) static func vector(_ x: V16) -> V16 { simdTanh(x) } }
struct SigmoidK: UnaryKernel { @inline(__always) static func vector(_ x: V16) -> V16 { simdSigmoid(x) } }
struct ReluK: UnaryKernel { @inline(__always) static func vector(_ x: V16) -> V16 { x.replacing(with: 0, where: x .< V16(repeating: 0)) } }
struct GeluK: UnaryKernel { @inline(__always) static func vector(_ x: V16) -> V16 { 0.5 * x * (1 + simdErf(x * 0.70710678118654752)) } }
struct SquareK: UnaryKernel { @inline(__always) static func vector(_ x: V16) -> V16 { x * x } }
struct ReciprocalK: UnaryKernel { @inline(__always) static func vector(_ x: V16) -> V16 { 1 / x } }
struct SignK: UnaryKernel {
    @inline(__always) static func vector(_ x: V16) -> V16 {
        V16(repeating: 0).replacing(with: 1, where: x .> V16(repeating: 0)).replacing(with: -1, where: x .< V16(repeating: 0))
    }
}

/// Dimensions after merging neighbours that are contiguous for every operand.
struct Coalesced {
    var shape: [Int]
    var strides: [[Int]]

    init(shape: [Int], strides: [[Int]]) {
        var s: [Int] = []
        var st: [[Int]] = Array(repeating: [], count: strides.count)
        for d in 0..<shape.count where shape[d] != 1 {
            if let last = s.indices.last,
               (0..<strides.count).allSatisfy({ st[$0][last] == strides[$0][d] * shape[d] }) {
                s[last] *= shape[d]
                for o in 0..<strides.count { st[o][last] = strides[o][d] }
            } else {
                s.append(shape[d])
                for o in 0..<strides.count { st[o].append(strides[o][d]) }
            }
        }
        if s.isEmpty { s = [1]; for o in 0..<strides.count { st[o] = [0] } }
        self.shape = s
        self.strides = st
    }
}

/// Calls `body(offsets)` for every position of all but the last coalesced dimension.
@inline(__always)
func forEachOuter(_ c: Coalesced, _ body: ([Int]) -> Void) {
    let nd = c.shape.count
    let nops = c.strides.count
    var offsets = [Int](repeating: 0, count: nops)
    if nd == 1 { body(offsets); return }
    var index = [Int](repeating: 0, count: nd - 1)
    while true {
        body(offsets)
        var d = nd - 2
        while d >= 0 {
            index[d] += 1
            for o in 0..<nops { offsets[o] += c.strides[o][d] }
            if index[d] < c.shape[d] { break }
            for o in 0..<nops { offsets[o] -= c.strides[o][d] * c.shape[d] }
            index[d] = 0
            d -= 1
        }
        if d < 0 { return }
    }
}

@inline(__always)
func binaryRow<K: BinaryKernel>(_: K.Type, _ n: Int, _ a: UnsafePointer<Float>, _ sa: Int,
                                _ b: UnsafePointer<Float>, _ sb: Int, _ o: UnsafeMutablePointer<Float>) {
    var i = 0
    if sa == 1 && sb == 1 {
        while i + 16 <= n { storeF16(K.vector(loadF16(a + i), loadF16(b + i)), o + i); i += 16 }
        while i < n { o[i] = K.scalar(a[i], b[i]); i += 1 }
    } else if sa == 1 && sb == 0 {
        let bv = b.pointee, b16 = V16(repeating: bv)
        while i + 16 <= n { storeF16(K.vector(loadF16(a + i), b16), o + i); i += 16 }
        while i < n { o[i] = K.scalar(a[i], bv); i += 1 }
    } else if sa == 0 && sb == 1 {
        let av = a.pointee, a16 = V16(repeating: av)
        while i + 16 <= n { storeF16(K.vector(a16, loadF16(b + i)), o + i); i += 16 }
        while i < n { o[i] = K.scalar(av, b[i]); i += 1 }
    } else {
        while i < n { o[i] = K.scalar(a[i * sa], b[i * sb]); i += 1 }
    }
}

func binaryStrided<K: BinaryKernel>(_ k: K.Type, shape: [Int], a: UnsafePointer<Float>, aStrides: [Int],
                                    b: UnsafePointer<Float>, bStrides: [Int], out: UnsafeMutablePointer<Float>) {
    var outStrides = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) { outStrides[d] = acc; acc *= shape[d] }
    if acc == 0 { return }
    let c = Coalesced(shape: shape, strides: [aStrides, bStrides, outStrides])
    let n = c.shape[c.shape.count - 1]
    let sa = c.strides[0].last!, sb = c.strides[1].last!
    forEachOuter(c) { off in binaryRow(k, n, a + off[0], sa, b + off[1], sb, out + off[2]) }
}

/// Elementwise kernels.
package enum Elementwise {
    /// `out = op(a, b)` over `shape`; `a` and `b` are read through their strides
    /// (0 for broadcast dimensions); `out` is contiguous with `shape`.
    package static func binary(_ op: BinaryOp, shape: [Int], a: UnsafePointer<Float>, aStrides: [Int],
                              b: UnsafePointer<Float>, bStrides: [Int], out: UnsafeMutablePointer<Float>) {
        switch op {
        case .add: binaryStrided(AddK.self, shape: shape, a: a, aStrides: aStrides, b: b, bStrides: bStrides, out: out)
        case .sub: binaryStrided(SubK.self, shape: shape, a: a, aStrides: aStrides, b: b, bStrides: bStrides, out: out)
        case .mul: binaryStrided(MulK.self, shape: shape, a: a, aStrides: aStrides, b: b, bStrides: bStrides, out: out)
        case .div: binaryStrided(DivK.self, shape: shape, a: a, aStrides: aStrides, b: b, bStrides: bStrides, out: out)
        case .maximum: binaryStrided(MaxK.self, shape: shape, a: a, aStrides: aStrides, b: b, bStrides: bStrides, out: out)
        case .minimum: binaryStrided(MinK.self, shape: shape, a: a, aStrides: aStrides, b: b, bStrides: bStrides, out: out)
        case .pow: binaryStrided(PowK.self, shape: shape, a: a, aStrides: aStrides, b: b, bStrides: bStrides, out: out)
        case .eq: binaryStrided(EqK.self, shape: shape, a: a, aStrides: aStrides, b: b, bStrides: bStrides, out: out)
        case .ne: binaryStrided(NeK.self, shape: shape, a: a, aStrides: aStrides, b: b, bStrides: bStrides, out: out)
        case .lt: binaryStrided(LtK.self, shape: shape, a: a, aStrides: aStrides, b: b, bStrides: bStrides, out: out)
        case .le: binaryStrided(LeK.self, shape: shape, a: a, aStrides: aStrides, b: b, bStrides: bStrides, out: out)
        case .gt: binaryStrided(GtK.self, shape: shape, a: a, aStrides: aStrides, b: b, bStrides: bStrides, out: out)
        case .ge: binaryStrided(GeK.self, shape: shape, a: a, aStrides: aStrides, b: b, bStrides: bStrides, out: out)
        }
    }

    /// Copies a strided view into a contiguous buffer of `shape`.
    package static func copy(shape: [Int], src: UnsafePointer<Float>, strides: [Int], dst: UnsafeMutablePointer<Float>) {
        var outStrides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) { outStrides[d] = acc; acc *= shape[d] }
        if acc == 0 { return }
        let c = Coalesced(shape: shape, strides: [strides, outStrides])
        let n = c.shape[c.shape.count - 1]
        let s = c.strides[0].last!
        forEachOuter(c) { off in
            let p = src + off[0], q = dst + off[1]
            if s == 1 { q.update(from: p, count: n) } else if s == 0 { q.update(repeating: p.pointee, count: n) } else { for i in 0..<n { q[i] = p[i * s] } }
        }
    }

    /// Writes a contiguous buffer into a strided destination view (`dst[view] = src`),
    /// or adds it when `accumulate` is set.
    package static func scatterCopy(shape: [Int], src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>,
                                   strides: [Int], accumulate: Bool) {
        var inStrides = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) { inStrides[d] = acc; acc *= shape[d] }
        if acc == 0 { return }
        let c = Coalesced(shape: shape, strides: [strides, inStrides])
        let n = c.shape[c.shape.count - 1]
        let s = c.strides[0].last!
        forEachOuter(c) { off in
            let q = dst + off[0], p = src + off[1]
            if accumulate { for i in 0..<n { q[i * s] += p[i] } } else { for i in 0..<n { q[i * s] = p[i] } }
        }
    }

    /// `out[i] = op(x[i])` over `n` contiguous elements (`out` may alias `x`).
    package static func unary(_ op: UnaryOp, _ n: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        switch op {
        case .neg: map(NegK.self, n, x, out)
        case .exp: map(ExpK.self, n, x, out)
        case .log: for i in 0..<n { out[i] = logf(x[i]) }
        case .sqrt: map(SqrtK.self, n, x, out)
        case .abs: map(AbsK.self, n, x, out)
        case .tanh: map(TanhK.self, n, x, out)
        case .sigmoid: map(SigmoidK.self, n, x, out)
        case .relu: map(ReluK.self, n, x, out)
        case .gelu: map(GeluK.self, n, x, out)
        case .square: map(SquareK.self, n, x, out)
        case .reciprocal: map(ReciprocalK.self, n, x, out)
        case .sign: map(SignK.self, n, x, out)
        }
    }

    /// Generic over the kernel type so each op is specialised into its own tight loop.
    static func map<K: UnaryKernel>(_: K.Type, _ n: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        var i = 0
        while i + 16 <= n { storeF16(K.vector(loadF16(x + i)), out + i); i += 16 }
        if i < n {
            var tail = V16(repeating: 0)
            for j in 0..<(n - i) { tail[j] = x[i + j] }
            let r = K.vector(tail)
            for j in 0..<(n - i) { out[i + j] = r[j] }
        }
    }

    @inline(__always)
    static func zip(_ n: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                    _ f: (V16, V16) -> V16) {
        var i = 0
        while i + 16 <= n { storeF16(f(loadF16(a + i), loadF16(b + i)), out + i); i += 16 }
        if i < n {
            var ta = V16(repeating: 0), tb = V16(repeating: 0)
            for j in 0..<(n - i) { ta[j] = a[i + j]; tb[j] = b[i + j] }
            let r = f(ta, tb)
            for j in 0..<(n - i) { out[i + j] = r[j] }
        }
    }

    /// Fused activation backward: `out = g * f'(x)` (relu, gelu) or `g * f'(y)` from the
    /// saved output `y` (tanh, sigmoid, exp).
    package static func activationBackward(_ op: UnaryOp, _ n: Int, grad g: UnsafePointer<Float>,
                                          saved s: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        switch op {
        case .relu: zip(n, g, s, out) { g, x in V16(repeating: 0).replacing(with: g, where: x .> 0) }
        case .tanh: zip(n, g, s, out) { g, y in g * (1 - y * y) }
        case .sigmoid: zip(n, g, s, out) { g, y in g * y * (1 - y) }
        case .exp: zip(n, g, s, out) { g, y in g * y }
        case .gelu: zip(n, g, s, out) { g, x in
            let cdf = 0.5 * (1 + simdErf(x * 0.70710678118654752))
            let pdf = simdExp(-0.5 * x * x) * 0.39894228040143268
            return g * (cdf + x * pdf)
        }
        default: preconditionFailure("no fused backward for \(op)")
        }
    }

    /// `y += alpha * x` over `n` contiguous elements.
    package static func axpy(_ n: Int, alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let a = V16(repeating: alpha)
        var i = 0
        while i + 16 <= n { storeF16(loadF16(y + i) + a * loadF16(x + i), y + i); i += 16 }
        while i < n { y[i] += alpha * x[i]; i += 1 }
    }

    /// `y *= alpha` over `n` contiguous elements.
    package static func scale(_ n: Int, alpha: Float, _ y: UnsafeMutablePointer<Float>) {
        let a = V16(repeating: alpha)
        var i = 0
        while i + 16 <= n { storeF16(loadF16(y + i) * a, y + i); i += 16 }
        while i < n { y[i] *= alpha; i += 1 }
    }
}
