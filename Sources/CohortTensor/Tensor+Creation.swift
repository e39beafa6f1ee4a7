// Ways to make tensors: constants, ranges, arrays, and seeded random draws.
import CohortCore
import CohortKernels

extension Tensor {
    /// A tensor of `shape` filled with `value`.
    public static func full(_ shape: [Int], _ value: Float, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.base.update(repeating: value, count: t.count)
        t.requiresGrad = requiresGrad
        return t
    }

    /// Zeros of `shape`.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor { full(shape, 0, requiresGrad: requiresGrad) }

    /// Ones of `shape`.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor { full(shape, 1, requiresGrad: requiresGrad) }

    /// A scalar (rank-0) tensor.
    public static func scalar(_ value: Float) -> Tensor { full([], value) }

    /// Copies `values` into a tensor of `shape` (default: 1-D).
    /// - Throws: if `values.count` does not match the shape's element count.
    public convenience init(_ values: [Float], shape: [Int]? = nil, requiresGrad: Bool = false) throws {
        let s = shape ?? [values.count]
        guard s.reduce(1, *) == values.count, s.allSatisfy({ $0 >= 0 }) else {
            throw CohortError.shapeMismatch(op: "Tensor(_:shape:)", "\(values.count) values do not fill shape \(describeShape(s))")
        }
        self.init(uninitialized: s)
        values.withUnsafeBufferPointer { if let p = $0.baseAddress { base.update(from: p, count: values.count) } }
        self.requiresGrad = requiresGrad
    }

    /// `start, start+step, …` up to (excluding) `end`.
    public static func arange(_ start: Float, _ end: Float, step: Float = 1) throws -> Tensor {
        guard step != 0, (end - start) / step >= 0 else {
            throw CohortError.invalidArgument("arange(\(start), \(end), step: \(step)): empty or infinite range")
        }
        let n = Int(((end - start) / step).rounded(.up))
        let t = Tensor(uninitialized: [n])
        for i in 0..<n { t.base[i] = start + Float(i) * step }
        return t
    }

    /// `count` evenly spaced values from `start` to `end` inclusive.
    public static func linspace(_ start: Float, _ end: Float, count: Int) throws -> Tensor {
        guard count >= 1 else { throw CohortError.invalidArgument("linspace: count must be ≥ 1, got \(count)") }
        let t = Tensor(uninitialized: [count])
        let step = count > 1 ? (end - start) / Float(count - 1) : 0
        for i in 0..<count { t.base[i] = start + Float(i) * step }
        if count > 1 { t.base[count - 1] = end }
        return t
    }

    /// Uniform draws in `[low, high)` from `generator`.
    public static func rand(_ shape: [Int], low: Float = 0, high: Float = 1, generator: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitialized: shape)
        generator.fillUniform(t.base, t.count, low: low, high: high)
        return t
    }

    /// Normal draws with `mean` and `std` from `generator`.
    public static func randn(_ shape: [Int], mean: Float = 0, std: Float = 1, generator: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitialized: shape)
        generator.fillNormal(t.base, t.count, mean: mean, std: std)
        return t
    }

    /// A tensor with the same shape filled with `value`.
    public func fullLike(_ value: Float) -> Tensor { Tensor.full(shape, value) }

    /// Overwrites every element with `value` in place (no autograd).
    public func fill(_ value: Float) {
        if isContiguous { base.update(repeating: value, count: count); return }
        let src = Tensor.full(shape, value)
        Elementwise.scatterCopy(shape: shape, src: src.base, dst: base, strides: strides, accumulate: false)
    }

    /// Copies `other`'s values into this tensor in place (shapes must match; no autograd).
    public func assign(_ other: Tensor) throws {
        guard other.shape == shape else {
            throw CohortError.shapeMismatch(op: "assign", "destination \(describeShape(shape)) vs source \(describeShape(other.shape))")
        }
        let src = other.contiguous()
        Elementwise.scatterCopy(shape: shape, src: src.base, dst: base, strides: strides, accumulate: false)
    }

    /// Re-points this tensor at `count` elements of `storage` from `offset` (contiguous),
    /// keeping its values; used to move parameters into flat arenas.
    public func rebind(to storage: Storage, offset: Int, copyValues: Bool = true) {
        let dst = storage.pointer + offset
        if copyValues { Elementwise.copy(shape: shape, src: base, strides: strides, dst: dst) }
        self.storage = storage
        self.offset = offset
        self.strides = Tensor.contiguousStrides(shape)
    }
}
