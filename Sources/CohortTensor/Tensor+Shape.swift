// Shape operations. Reshape, transpose, permute, squeeze, unsqueeze, expand
// and slice are views (no copy); concat, stack and index ops copy.
import CohortCore
import CohortKernels

extension Tensor {
    func normalizeAxis(_ axis: Int, rank r: Int? = nil, op: String) throws -> Int {
        let n = r ?? rank
        let a = axis < 0 ? axis + n : axis
        guard a >= 0 && a < Swift.max(n, 1) else {
            throw CohortError.invalidArgument("\(op): axis \(axis) out of range for shape \(describeShape(shape))")
        }
        return a
    }

    /// Reshape sharing storage when contiguous (internal, no autograd; element counts must match).
    func reshapedView(_ target: [Int]) -> Tensor {
        let src = isContiguous ? self : copy()
        return Tensor(storage: src.storage, shape: target, offset: src.offset)
    }

    /// The same elements with a new shape; one dimension may be `-1`. A view when contiguous.
    public func reshape(_ newShape: [Int]) throws -> Tensor {
        var target = newShape
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        if let i = newShape.firstIndex(of: -1) {
            guard newShape.filter({ $0 == -1 }).count == 1, known > 0, count % known == 0 else {
                throw CohortError.shapeMismatch(op: "reshape", "cannot reshape \(describeShape(shape)) to \(describeShape(newShape))")
            }
            target[i] = count / known
        }
        guard target.reduce(1, *) == count, target.allSatisfy({ $0 >= 0 }) else {
            throw CohortError.shapeMismatch(op: "reshape", "cannot reshape \(describeShape(shape)) (\(count) elements) to \(describeShape(newShape))")
        }
        let src = contiguous()
        let out = Tensor(storage: src.storage, shape: target, offset: src.offset)
        let inShape = shape
        return record(out, "reshape", [src], rule: .reshape) { g, _ in [g.reshapedView(inShape)] }
    }

    /// Alias of `reshape`.
    public func view(_ newShape: [Int]) throws -> Tensor { try reshape(newShape) }

    /// Flattens dimensions `start...` into one.
    public func flatten(from start: Int = 1) throws -> Tensor {
        let s = try normalizeAxis(start, op: "flatten")
        return try reshape(Array(shape[..<s]) + [shape[s...].reduce(1, *)])
    }

    /// Reorders dimensions: output dimension `i` is input dimension `dims[i]`. A view.
    public func permute(_ dims: [Int]) throws -> Tensor {
        let d = try dims.map { try normalizeAxis($0, op: "permute") }
        guard d.count == rank, Set(d).count == rank else {
            throw CohortError.invalidArgument("permute: \(dims) is not a permutation of the \(rank) dimensions of \(describeShape(shape))")
        }
        let out = Tensor(storage: storage, shape: d.map { shape[$0] }, strides: d.map { strides[$0] }, offset: offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, v) in d.enumerated() { inverse[v] = i }
        return record(out, "permute", [self], rule: .permute(inverse: inverse)) { g, _ in
            [Tensor(storage: g.storage, shape: inverse.map { g.shape[$0] }, strides: inverse.map { g.strides[$0] }, offset: g.offset)]
        }
    }

    /// Swaps two dimensions (default: the last two). A view.
    public func transpose(_ a: Int = -2, _ b: Int = -1) throws -> Tensor {
        let x = try normalizeAxis(a, op: "transpose"), y = try normalizeAxis(b, op: "transpose")
        var p = Array(0..<rank)
        p.swapAt(x, y)
        return try permute(p)
    }

    /// Inserts a dimension of size 1 at `axis`. A view.
    public func unsqueeze(_ axis: Int) throws -> Tensor {
        let a = try normalizeAxis(axis, rank: rank + 1, op: "unsqueeze")
        var s = shape, st = strides
        s.insert(1, at: a)
        st.insert(a < rank ? strides[a] * shape[a] : 1, at: a)
        let out = Tensor(storage: storage, shape: s, strides: st, offset: offset)
        let inShape = shape
        return record(out, "unsqueeze", [self], rule: .reshape) { g, _ in [g.reshapedView(inShape)] }
    }

    /// Removes size-1 dimensions (only `axis` if given). A view.
    public func squeeze(_ axis: Int? = nil) throws -> Tensor {
        var keep: [Int]
        if let axis {
            let a = try normalizeAxis(axis, op: "squeeze")
            keep = Array(0..<rank)
            if shape[a] == 1 { keep.remove(at: a) }
        } else {
            keep = (0..<rank).filter { shape[$0] != 1 }
        }
        let out = Tensor(storage: storage, shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, offset: offset)
        let inShape = shape
        return record(out, "squeeze", [self], rule: .reshape) { g, _ in [g.reshapedView(inShape)] }
    }

    /// Broadcasts to `target` without copying (stride 0 on expanded dimensions).
    public func expand(_ target: [Int]) throws -> Tensor {
        let s = try broadcastShapes(shape, target, op: "expand")
        guard s == target else {
            throw CohortError.shapeMismatch(op: "expand", "cannot expand \(describeShape(shape)) to \(describeShape(target))")
        }
        let out = Tensor(storage: storage, shape: target, strides: broadcastStrides(to: target), offset: offset)
        let inShape = shape
        return record(out, "expand", [self], rule: .expand) { g, _ in [Tensor.sumTo(g, inShape)] }
    }

    /// Elements `start..<end` (every `step`-th) along `axis`. A view.
    public func slice(axis: Int, _ start: Int, _ end: Int, step: Int = 1) throws -> Tensor {
        let a = try normalizeAxis(axis, op: "slice")
        let n = shape[a]
        let s = start < 0 ? start + n : start, e = end < 0 ? end + n : Swift.min(end, n)
        guard step >= 1, s >= 0, s <= e, e <= n else {
            throw CohortError.invalidArgument("slice: range \(start)..<\(end) step \(step) invalid for axis \(axis) of shape \(describeShape(shape))")
        }
        var outShape = shape, outStrides = strides
        outShape[a] = (e - s + step - 1) / step
        outStrides[a] = strides[a] * step
        let out = Tensor(storage: storage, shape: outShape, strides: outStrides, offset: offset + s * strides[a])
        let inShape = shape
        return record(out, "slice", [self], rule: .slice(axis: a, start: s, step: step)) { g, _ in
            let full = Tensor.zeros(inShape)
            var st = full.strides
            st[a] *= step
            let gc = g.contiguous()
            Elementwise.scatterCopy(shape: gc.shape, src: gc.base, dst: full.base + s * full.strides[a], strides: st, accumulate: false)
            return [full]
        }
    }

    /// Splits along `axis` into pieces of the given sizes (views).
    public func split(_ sizes: [Int], axis: Int = 0) throws -> [Tensor] {
        let a = try normalizeAxis(axis, op: "split")
        guard sizes.reduce(0, +) == shape[a], sizes.allSatisfy({ $0 >= 0 }) else {
            throw CohortError.invalidArgument("split: sizes \(sizes) do not add up to \(shape[a]) along axis \(axis) of \(describeShape(shape))")
        }
        var out: [Tensor] = []
        var start = 0
        for s in sizes { out.append(try slice(axis: a, start, start + s)); start += s }
        return out
    }

    /// Joins tensors along an existing axis; all other dimensions must match.
    public static func concat(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw CohortError.invalidArgument("concat: no tensors") }
        let a = try first.normalizeAxis(axis, op: "concat")
        for t in tensors {
            var s1 = t.shape, s0 = first.shape
            guard s1.count == s0.count else {
                throw CohortError.shapeMismatch(op: "concat", "\(describeShape(first.shape)) and \(describeShape(t.shape)) differ in rank")
            }
            s1[a] = 0; s0[a] = 0
            guard s1 == s0 else {
                throw CohortError.shapeMismatch(op: "concat", "\(describeShape(first.shape)) and \(describeShape(t.shape)) differ outside axis \(axis)")
            }
        }
        var outShape = first.shape
        outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let out = Tensor(uninitialized: outShape)
        var start = 0
        for t in tensors {
            let src = t.isContiguous ? t : t.copy()
            Elementwise.scatterCopy(shape: t.shape, src: src.base, dst: out.base + start * out.strides[a],
                                    strides: out.strides, accumulate: false)
            start += t.shape[a]
        }
        let sizes = tensors.map { $0.shape[a] }
        return record(out, "concat", tensors, rule: .concat(axis: a)) { g, ctx in
            var res: [Tensor?] = []
            var s = 0
            for (i, n) in sizes.enumerated() {
                res.append(ctx.needs(i) ? try! g.detached().slice(axis: a, s, s + n).contiguous() : nil)
                s += n
            }
            return res
        }
    }

    /// Stacks equally shaped tensors along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) throws -> Tensor {
        guard let first = tensors.first else { throw CohortError.invalidArgument("stack: no tensors") }
        for t in tensors where t.shape != first.shape {
            throw CohortError.shapeMismatch(op: "stack", "\(describeShape(first.shape)) vs \(describeShape(t.shape))")
        }
        return try concat(tensors.map { try $0.unsqueeze(axis) }, axis: axis)
    }
}
