// Flat parameter and gradient arenas: every parameter of a model becomes a view
// into one contiguous buffer, and so does its gradient. A DDP bucket is then a
// slice of the gradient arena, an optimizer step one loop, a checkpoint a few writes.
import CohortCore
import CohortKernels
import CohortTensor

/// One parameter's place in the arenas.
public struct ArenaEntry: Sendable {
    /// Dotted parameter name.
    public let name: String
    /// Shape of the parameter.
    public let shape: [Int]
    /// First element within the arena.
    public let offset: Int
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
}

/// The parameters of a module moved into one flat buffer, with a matching gradient buffer.
public final class ParameterArena {
    /// All parameter values, contiguous, in `entries` order.
    public let values: Storage
    /// All gradients, contiguous, same layout as `values`.
    public private(set) var grads: Storage
    /// Layout: names, shapes and offsets in registration order.
    public let entries: [ArenaEntry]
    /// The parameter tensors (views into `values`), in `entries` order.
    public let tensors: [Tensor]
    /// Total number of elements.
    public var count: Int { values.count }
    /// All buffer values (BatchNorm running statistics: model state that is not
    /// trained by gradients), contiguous, in `bufferEntries` order; empty without buffers.
    public let buffers: Storage
    /// Layout of `buffers`: the module's `namedBuffers()`, offsets aligned as in `values`.
    public let bufferEntries: [ArenaEntry]

    /// Moves `module`'s parameters into fresh arenas, keeping their values. Each
    /// parameter's `grad` becomes a zeroed view into the gradient arena.
    /// Offsets are aligned to 16 floats (64 bytes) so every parameter starts on a cache line.
    public convenience init(_ module: any Module) {
        self.init(module, allocate: { count, _ in Storage(zeros: count) })
    }

    /// Like `init(_:)`, but a failed allocation of the value, gradient or buffer arena is a
    /// thrown error naming the arena, its tensors and the bytes, not the end of the process.
    /// - Throws: `CohortError.invalidArgument` when an arena cannot be allocated.
    public convenience init(allocating module: any Module) throws {
        try self.init(module, allocate: { count, name in try Storage(zeros: count, for: name) })
    }

    private init(_ module: any Module, allocate: (Int, String) throws -> Storage) rethrows {
        let named = module.namedParameters()
        let (entries, offset) = ParameterArena.layout(named)
        values = try allocate(offset, "the parameter arena (\(named.count) tensors)")
        grads = try allocate(offset, "the gradient arena (\(named.count) tensors)")
        for (e, (_, t)) in zip(entries, named) {
            t.rebind(to: values, offset: e.offset)
            t.grad = Tensor(storage: grads, shape: t.shape, offset: e.offset)
        }
        self.entries = entries
        self.tensors = named.map(\.tensor)
        // Buffers move the same way (no gradient), so a checkpoint or a collective
        // reaches all of them through one storage.
        let namedBuffers = module.namedBuffers()
        let (bufferEntries, bufferCount) = ParameterArena.layout(namedBuffers)
        buffers = try allocate(bufferCount, "the buffer arena (\(namedBuffers.count) tensors)")
        for (e, (_, t)) in zip(bufferEntries, namedBuffers) { t.rebind(to: buffers, offset: e.offset) }
        self.bufferEntries = bufferEntries
        // The tensors' old buffers went to the buffer cache; in parameter shapes they are rarely
        // asked for again, and at GPT-2 size they are half a gigabyte kept resident for nothing.
        Storage.releaseCachedBuffers()
    }

    /// Consecutive places for `tensors`, each starting on a 16-float (64-byte) boundary,
    /// and the total length.
    static func layout(_ tensors: [(name: String, tensor: Tensor)]) -> (entries: [ArenaEntry], count: Int) {
        var entries: [ArenaEntry] = []
        var offset = 0
        for (name, t) in tensors {
            entries.append(ArenaEntry(name: name, shape: t.shape, offset: offset))
            offset += (t.count + 15) / 16 * 16
        }
        return (entries, offset)
    }

    /// Moves the gradients into `storage` (at least `count` elements; for example
    /// shared memory that other ranks can average in place), copying their current
    /// values and re-pointing every parameter's `grad` at it. Read `grads` after this,
    /// never a pointer saved before.
    public func moveGradients(to storage: Storage) {
        precondition(storage.count >= count, "gradient storage of \(storage.count) elements for an arena of \(count)")
        storage.pointer.update(from: grads.pointer, count: count)
        grads = storage
        for (e, t) in zip(entries, tensors) { t.grad = Tensor(storage: storage, shape: e.shape, offset: e.offset) }
        // The old arena-sized buffer went to the buffer cache, where only an optimizer's whole-arena
        // state could reuse it; under ZeRO (shard-sized state) it would stay resident for nothing.
        Storage.releaseCachedBuffers()
    }

    /// Zeroes the whole gradient arena (one memset).
    public func zeroGrad() { grads.pointer.update(repeating: 0, count: grads.count) }

    /// SHA-256 of all parameter values in name order (the bytes of each parameter,
    /// little-endian Float32), then of all buffers, for bitwise comparisons between runs.
    public func sha256() -> String {
        var h = SHA256()
        for e in entries {
            h.update(UnsafeRawBufferPointer(start: values.pointer + e.offset, count: e.count * 4))
        }
        for e in bufferEntries {
            h.update(UnsafeRawBufferPointer(start: buffers.pointer + e.offset, count: e.count * 4))
        }
        return hexString(h.finalize())
    }

    /// Global L2 norm of all gradients.
    public func gradNorm() -> Float { Reduce.sumSquares(grads.count, grads.pointer).squareRoot() }

    /// The first parameter whose gradient holds a NaN or infinity, if any; only its elements inside
    /// `range` are looked at (a ZeRO shard; nil: all).
    public func firstNonFiniteGrad(in range: Range<Int>? = nil) -> String? {
        for e in entries {
            let part = (e.offset..<(e.offset + e.count)).clamped(to: range ?? 0..<count)
            guard !part.isEmpty, !Reduce.sum(part.count, grads.pointer + part.lowerBound).isFinite else { continue }
            for i in part where !grads.pointer[i].isFinite { return "\(e.name) (gradient element \(i - e.offset) is \(grads.pointer[i]))" }
        }
        return nil
    }
}

extension ParameterArena {
    /// The first parameter holding a NaN or infinity, if any.
    public func firstNonFiniteValue() -> String? {
        for e in entries {
            let p = values.pointer + e.offset
            for i in 0..<e.count where !p[i].isFinite { return "\(e.name) (element \(i) is \(p[i]))" }
        }
        return nil
    }
}
