// Differentiable backward rules, one table (as in tinygrad): the gradient of each
// core op written with recorded ops, so `Autograd.gradients(createGraph: true)`
// builds a graph that can be differentiated again. The fast raw-kernel closures
// beside each forward stay the training path; these run only for higher order.
import CohortCore
import CohortKernels

/// How to differentiate an op with recorded (hence differentiable) ops. Each case
/// carries what the backward needs beyond the op's inputs (which the node keeps).
enum DerivativeRule {
    case add, sub, mul, div, pow, maximum, minimum
    case unary(UnaryOp)
    case powScalar(Float)
    case clamp(low: Float, high: Float)
    /// Sum or mean over axes: `kept` is the input shape with reduced axes set to 1.
    case sum(kept: [Int])
    case mean(kept: [Int], count: Int)
    /// reshape, squeeze, unsqueeze, contiguous: the gradient reshaped to the input's shape.
    case reshape
    case permute(inverse: [Int])
    case expand
    case slice(axis: Int, start: Int, step: Int)
    /// The backward of `slice` (a zero tensor with the gradient scattered in), itself differentiable.
    case sliceScatter(axis: Int, start: Int, step: Int)
    case concat(axis: Int)
    case matmul
    case linear
    /// Softmax and log-softmax along a (normalised) axis.
    case softmax(axis: Int)
    case logSoftmax(axis: Int)
    /// The fused cross-entropy of `[N, C]` logits: the same targets, smoothing, ignore
    /// index and divisor (counted rows for `.mean`, 1 for `.sum`) as the forward.
    case crossEntropy(targets: [Int32], smoothing: Float, ignoreIndex: Int32, denominator: Float)
    /// Layer norm over the last axis; whether weight and bias were given fixes their input slots.
    case layerNorm(eps: Float, weight: Bool, bias: Bool)
    /// GELU's derivative `Φ(x) + x·φ(x)` (the op `geluDerivative`), so GELU's rule is differentiable.
    case geluDerivative

    /// The input gradients for output gradient `g` (one per input, nil where none is
    /// needed), computed with recorded ops. Runs with recording on.
    func backward(_ g: Tensor, _ x: [Tensor], op: String) throws -> [Tensor?] {
        func needs(_ i: Int) -> Bool { x[i].requiresGrad }
        func sumTo(_ t: Tensor, _ i: Int) throws -> Tensor? { needs(i) ? try Tensor.sumToShape(t, x[i].shape) : nil }
        switch self {
        case .add: return [try sumTo(g, 0), try sumTo(g, 1)]
        case .sub: return [try sumTo(g, 0), needs(1) ? try sumTo(-g, 1) : nil]
        case .mul: return [needs(0) ? try sumTo(g * x[1], 0) : nil, needs(1) ? try sumTo(g * x[0], 1) : nil]
        case .div:
            return [needs(0) ? try sumTo(g / x[1], 0) : nil,
                    needs(1) ? try sumTo(-(try g * x[0] / (x[1] * x[1])), 1) : nil]
        case .pow:
            let (a, b) = (x[0], x[1])
            return [needs(0) ? try sumTo(g * b * Tensor.pow(a, b - 1), 0) : nil,
                    needs(1) ? try sumTo(g * Tensor.pow(a, b) * a.log(), 1) : nil]
        case .maximum, .minimum:
            // The selection mask is piecewise constant: it contributes no second derivative.
            let mask = raw(caseIsMaximum ? .ge : .le, x[0].detached(), x[1].detached())
            return [needs(0) ? try sumTo(g * mask, 0) : nil, needs(1) ? try sumTo(g * (1 - mask), 1) : nil]
        case let .unary(u): return [try Self.unaryBackward(u, g, x[0], op: op)]
        case let .powScalar(p): return [try g * x[0].pow(p - 1) * p]
        case let .clamp(low, high):
            let v = x[0].detached()
            return [try g * raw(.mul, raw(.ge, v, Tensor.scalar(low)), raw(.le, v, Tensor.scalar(high)))]
        case let .sum(kept): return [try g.reshape(kept).expand(x[0].shape).contiguous()]
        case let .mean(kept, n): return [try g.reshape(kept).expand(x[0].shape).contiguous() / Float(n)]
        case .reshape: return [try g.reshape(x[0].shape)]
        case let .permute(inverse): return [try g.permute(inverse)]
        case .expand: return [try sumTo(g, 0)]
        case let .slice(axis, start, step): return [try Tensor.sliceScatter(g, into: x[0].shape, axis: axis, start: start, step: step)]
        case let .sliceScatter(axis, start, step):
            let n = x[0].shape[axis]
            return [try g.slice(axis: axis, start, Swift.max(start, start + (n - 1) * step + 1), step: step)]
        case let .concat(axis):
            var out: [Tensor?] = [], s = 0
            for t in x {
                let n = t.shape[axis]
                out.append(t.requiresGrad ? try g.slice(axis: axis, s, s + n) : nil)
                s += n
            }
            return out
        case .matmul:
            let (a, b) = (x[0], x[1])
            return [needs(0) ? try sumTo(Tensor.matmul(g, b.transpose(-2, -1)), 0) : nil,
                    needs(1) ? try sumTo(Tensor.matmul(a.transpose(-2, -1), g), 1) : nil]
        case .linear:
            let (xc, w) = (x[0], x[1])
            let outF = w.shape[0], inF = w.shape[1], rows = xc.count / Swift.max(inF, 1)
            let g2 = try g.reshape([rows, outF])
            var r: [Tensor?] = [needs(0) ? try Tensor.matmul(g2, w).reshape(xc.shape) : nil,
                                needs(1) ? try Tensor.matmul(g2.transpose(0, 1), xc.reshape([rows, inF])) : nil]
            if x.count == 3 { r.append(needs(2) ? try g2.sum(axes: [0]) : nil) }
            return r
        case let .softmax(axis):
            let y = try x[0].softmax(axis: axis)
            return [try y * (g - (g * y).sum(axes: [axis], keepDims: true))]
        case let .logSoftmax(axis):
            return [try g - x[0].softmax(axis: axis) * g.sum(axes: [axis], keepDims: true)]
        case let .crossEntropy(targets, smoothing, ignoreIndex, denominator):
            return [try Self.crossEntropyBackward(g, x[0], targets: targets, smoothing: smoothing,
                                                  ignoreIndex: ignoreIndex, denominator: denominator)]
        case let .layerNorm(eps, weight, bias):
            return try Self.layerNormBackward(g, x, eps: eps, weight: weight, bias: bias)
        case .geluDerivative:
            // d/dx [Φ(x) + xφ(x)] = φ(x)·(2 − x²), with φ(x) = e^{−x²/2}/√(2π).
            let x2 = x[0].square()
            return [try g * (x2 * -0.5).exp() * 0.39894228040143268 * (2 - x2)]
        }
    }

    /// `g/d · (softmax(logits)·kept − q)`: q is each counted row's target distribution
    /// (1 − ε at the target, plus ε/C everywhere), ignored rows contribute nothing.
    static func crossEntropyBackward(_ g: Tensor, _ logits: Tensor, targets: [Int32], smoothing: Float,
                                     ignoreIndex: Int32, denominator: Float) throws -> Tensor {
        let rows = logits.shape[0], n = logits.shape[1]
        var q = [Float](repeating: 0, count: rows * n), kept = [Float](repeating: 0, count: rows)
        for r in 0..<rows where targets[r] != ignoreIndex {
            kept[r] = 1
            for j in 0..<n { q[r * n + j] = smoothing / Float(n) }
            q[r * n + Int(targets[r])] += 1 - smoothing
        }
        let p = try logits.softmax(axis: 1)
        return try (p * Tensor(kept, shape: [rows, 1]) - Tensor(q, shape: [rows, n])) * (g / denominator)
    }

    /// Layer norm's input, weight and bias gradients recomputed from x with recorded ops:
    /// x̂ = (x − μ)·r, r = (σ² + ε)^{−½}; dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝx̂)) with ĝ = g·w.
    static func layerNormBackward(_ g: Tensor, _ x: [Tensor], eps: Float, weight: Bool, bias: Bool) throws -> [Tensor?] {
        let xin = x[0], last = xin.rank - 1, n = xin.shape[last]
        let rows = n == 0 ? 0 : xin.count / n
        let iw = weight ? 1 : -1, ib = bias ? x.count - 1 : -1
        let centred = try xin - xin.mean(axes: [last], keepDims: true)
        let rstd = try (centred.square().mean(axes: [last], keepDims: true) + eps).pow(-0.5)
        let xhat = try centred * rstd
        var out: [Tensor?] = [nil]
        if xin.requiresGrad {
            let gh = iw > 0 ? try g * x[iw] : g
            let mg = try gh.mean(axes: [last], keepDims: true), mgx = try (gh * xhat).mean(axes: [last], keepDims: true)
            out[0] = try rstd * (gh - mg - xhat * mgx)
        }
        if iw > 0 { out.append(x[iw].requiresGrad ? try (g * xhat).reshape([rows, n]).sum(axes: [0]) : nil) }
        if ib > 0 { out.append(x[ib].requiresGrad ? try g.reshape([rows, n]).sum(axes: [0]) : nil) }
        return out
    }

    private var caseIsMaximum: Bool { if case .maximum = self { return true } else { return false } }

    /// d/dx of each unary op times `g`, with recorded ops (activation masks are constants).
    static func unaryBackward(_ u: UnaryOp, _ g: Tensor, _ x: Tensor, op: String) throws -> Tensor {
        switch u {
        case .exp: return try g * x.exp()
        case .log: return try g / x
        case .sqrt: return try g / (x.sqrt() * 2)
        case .square: return try g * x * 2
        case .tanh: let t = x.tanh(); return try g * (1 - t * t)
        case .sigmoid: let s = x.sigmoid(); return try g * s * (1 - s)
        case .relu: return try g * raw(.gt, x.detached(), Tensor.scalar(0))
        case .abs: return try g * x.detached().unaryRaw(.sign)
        case .neg: return -g
        case .reciprocal: let r = x.reciprocal(); return -(try g * r * r)
        case .sign: return Tensor.zeros(x.shape)
        case .gelu: return try g * x.geluDerivative()
        }
    }
}

extension Tensor {
    /// The error for an op without a differentiable backward met with `createGraph: true`.
    static func doubleBackwardUnsupported(_ op: String) -> CohortError {
        .invalidArgument("double backward is not supported for \(op): Autograd.gradients(createGraph: true) reached it; "
            + "supported ops: + - * / (broadcasting), neg, exp, log, sqrt, square, pow, tanh, sigmoid, relu, abs, reciprocal, "
            + "clamp, maximum, minimum, sum, mean, reshape, (un)squeeze, permute/transpose, expand, slice, concat, matmul, linear, "
            + "gelu, softmax, logSoftmax, crossEntropy, layerNorm")
    }

    /// GELU's derivative `Φ(x) + x·φ(x)` elementwise (the same erf approximation as the
    /// forward), recorded so that GELU's differentiable rule can be differentiated again.
    func geluDerivative() -> Tensor {
        let x = contiguous()
        let out = Tensor(uninitialized: shape), ones = Tensor.ones(shape)
        Elementwise.activationBackward(.gelu, count, grad: ones.base, saved: x.base, out.base)
        let dx = x.detached()
        return record(out, "geluDerivative", [x], rule: .geluDerivative) { g, _ in
            let x2 = raw(.mul, dx, dx)
            let pdf = raw(.mul, raw(.mul, x2, Tensor.scalar(-0.5)).unaryRaw(.exp), Tensor.scalar(0.39894228040143268))
            return [raw(.mul, g, raw(.mul, pdf, raw(.sub, Tensor.scalar(2), x2)))]
        }
    }

    /// Sums `g` (a broadcast shape) back to `shape`, with recorded ops.
    static func sumToShape(_ g: Tensor, _ shape: [Int]) throws -> Tensor {
        if g.shape == shape { return g }
        let lead = g.shape.count - shape.count
        var axes: [Int] = Array(0..<lead)
        for i in 0..<shape.count where shape[i] == 1 && g.shape[lead + i] != 1 { axes.append(lead + i) }
        return axes.isEmpty ? try g.reshape(shape) : try g.sum(axes: axes).reshape(shape)
    }

    /// Zeros of `shape` with `g` written at `start, start + step, …` along `axis`: the
    /// backward of `slice`, recorded so that it can itself be differentiated.
    static func sliceScatter(_ g: Tensor, into shape: [Int], axis a: Int, start s: Int, step: Int) throws -> Tensor {
        let full = Tensor.zeros(shape)
        var st = full.strides
        st[a] *= step
        let gc = g.isContiguous ? g : g.copy()
        Elementwise.scatterCopy(shape: gc.shape, src: gc.base, dst: full.base + s * full.strides[a], strides: st, accumulate: false)
        let n = g.shape[a]
        let end = Swift.max(s, s + (n - 1) * step + 1)
        return record(full, "sliceBackward", [g], rule: .sliceScatter(axis: a, start: s, step: step)) { gg, _ in
            [try gg.detached().slice(axis: a, s, end, step: step).contiguous()]
        }
    }
}
