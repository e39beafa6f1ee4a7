// Tensor: a Float32 view (shape, strides, storage offset) into a shared
// Storage, plus the autograd fields. Views share storage, so slicing,
// transposing and reshaping contiguous data are free.
import CohortCore
import CohortKernels

/// An n-dimensional Float32 array with reverse-mode autograd.
///
/// A tensor is a reference type, like PyTorch's: its `grad` accumulates across
/// `backward()` calls, and a parameter can be re-pointed into a flat arena.
/// Tensors are confined to the thread that made them.
public final class Tensor {
    /// The buffer this tensor views.
    public internal(set) var storage: Storage
    /// Extent of each dimension; `[]` is a scalar.
    public internal(set) var shape: [Int]
    /// Element step of each dimension (0 for broadcast dimensions).
    public internal(set) var strides: [Int]
    /// Index of element `[0, 0, …]` in `storage`.
    public internal(set) var offset: Int

    /// Whether gradients flow to this tensor. Set on leaves (parameters); derived
    /// tensors inherit it from their inputs.
    public var requiresGrad: Bool
    /// Accumulated gradient (same shape), set by `backward()`.
    public var grad: Tensor?
    /// The operation that produced this tensor, if it was recorded for autograd.
    var gradFn: GradNode?
    /// Hooks run once this leaf's gradient is final within a backward pass.
    var gradHooks: [(Tensor) -> Void] = []
    /// Optional name (parameters carry their dotted name) used in error messages.
    public var name: String?

    /// Wraps a view of `storage`.
    public init(storage: Storage, shape: [Int], strides: [Int]? = nil, offset: Int = 0, requiresGrad: Bool = false) {
        self.storage = storage
        self.shape = shape
        self.strides = strides ?? Tensor.contiguousStrides(shape)
        self.offset = offset
        self.requiresGrad = requiresGrad
    }

    /// Uninitialised contiguous tensor of `shape` (internal: callers must write every element).
    init(uninitialized shape: [Int]) {
        self.storage = Storage(count: shape.reduce(1, *))
        self.shape = shape
        self.strides = Tensor.contiguousStrides(shape)
        self.offset = 0
        self.requiresGrad = false
    }

    /// Row-major strides for `shape`.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) { s[d] = acc; acc *= shape[d] }
        return s
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Whether elements are laid out row-major without gaps.
    public var isContiguous: Bool {
        var acc = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] != 1 {
            if strides[d] != acc { return false }
            acc *= shape[d]
        }
        return true
    }
    /// Whether this tensor was produced by a recorded operation (not a leaf).
    public var isLeaf: Bool { gradFn == nil }

    /// Pointer to element `[0, 0, …]`.
    @inline(__always) var base: UnsafeMutablePointer<Float> { storage.pointer + offset }

    /// Runs `body` with a pointer to contiguous elements (copies first if this is not contiguous).
    public func withContiguousBuffer<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        if isContiguous { return try body(UnsafePointer(base)) }
        // The copy must outlive `body`: a temporary's life ends at its last use (taking the
        // pointer), and its buffer would go back to the buffer cache, where another thread's
        // new tensor could take it and write over it while `body` reads.
        let copy = contiguous()
        return try withExtendedLifetime(copy) { try body(UnsafePointer(copy.base)) }
    }

    /// Runs `body` with a mutable pointer to this tensor's elements; requires contiguity.
    public func withMutableBuffer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) throws -> R {
        guard isContiguous else { throw CohortError.invalidArgument("withMutableBuffer: tensor of shape \(describeShape(shape)) is not contiguous") }
        return try body(base)
    }

    /// The elements in row-major order.
    public var scalars: [Float] {
        withContiguousBuffer { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }

    /// The single element of a one-element tensor.
    public func item() throws -> Float {
        guard count == 1 else { throw CohortError.invalidArgument("item(): tensor has \(count) elements, shape \(describeShape(shape))") }
        return base.pointee
    }

    /// A contiguous tensor with the same values (self when already contiguous). Differentiable.
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitialized: shape)
        Elementwise.copy(shape: shape, src: base, strides: strides, dst: out.base)
        return record(out, "contiguous", [self], rule: .reshape) { g, _ in [g] }
    }

    /// A tensor sharing storage that is cut off from the graph.
    public func detached() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
    }

    /// A deep copy with its own storage (not differentiable-linked).
    public func copy() -> Tensor {
        let out = Tensor(uninitialized: shape)
        Elementwise.copy(shape: shape, src: base, strides: strides, dst: out.base)
        return out
    }

    /// Registers `hook`, called with the final gradient of this leaf during `backward()`.
    public func registerGradHook(_ hook: @escaping (Tensor) -> Void) { gradHooks.append(hook) }

    /// Sets the gradient to zero in place (keeps arena views), or drops it.
    public func zeroGrad() {
        guard let g = grad else { return }
        if g.isContiguous { g.base.update(repeating: 0, count: g.count) } else { grad = nil }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let vals = count <= 20 ? scalars.map { "\($0)" }.joined(separator: ", ") : "…"
        return "Tensor(shape: \(describeShape(shape)), [\(vals)])"
    }
}

