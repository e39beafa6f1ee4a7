// C memory for building a C structure (a protobuf-c message) from Swift: every block
// allocated through one `CAllocations` is freed together when it goes away. Used by the
// checkpoint manifest codec and the ONNX serializer.
#if canImport(Glibc)
import Glibc
#endif

/// Owns every C allocation made while building one C message; frees them all at deinit.
public final class CAllocations {
    private var blocks: [UnsafeMutableRawPointer] = []

    public init() {}
    deinit { for b in blocks { free(b) } }

    /// `count` zeroed values of `T` (at least one).
    public func alloc<T>(_: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        let raw = calloc(max(count, 1), MemoryLayout<T>.stride)!
        blocks.append(raw)
        return raw.bindMemory(to: T.self, capacity: max(count, 1))
    }

    /// A NUL-terminated copy of `s`.
    public func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        let p = strdup(s)!
        blocks.append(UnsafeMutableRawPointer(p))
        return p
    }

    /// A C array holding `values`.
    public func array<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let p = alloc(T.self, count: values.count)
        for (i, v) in values.enumerated() { (p + i).initialize(to: v) }
        return p
    }
}
