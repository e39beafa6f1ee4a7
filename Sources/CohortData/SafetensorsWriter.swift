// Writing a safetensors file from tensors already in memory, as raw little-endian
// bytes of any dtype the reader accepts (I8 weights and F16/BF16 halves included):
// header padded to 8 bytes, data in the given order, written to a temporary file
// that is fsynced and renamed into place. CheckpointExport streams checkpoints itself.
import CohortCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One tensor to write: its name, safetensors dtype (`F32`, `F16`, `BF16`, `I8`, …), shape and raw bytes.
public struct SafetensorsEntry: Sendable {
    public var name: String
    public var dtype: String
    public var shape: [Int]
    public var bytes: [UInt8]

    /// - Precondition: `bytes.count` is the shape's element count × the dtype's size.
    public init(name: String, dtype: String, shape: [Int], bytes: [UInt8]) {
        precondition(SafetensorsFile.elementBytes[dtype].map { $0 * shape.reduce(1, *) == bytes.count } ?? false,
                     "safetensors entry \(name): \(bytes.count) bytes do not fit \(dtype) \(shape)")
        self.name = name; self.dtype = dtype; self.shape = shape; self.bytes = bytes
    }

    /// A float32 tensor.
    public init(name: String, shape: [Int], floats: [Float]) {
        self.init(name: name, dtype: "F32", shape: shape, bytes: floats.withUnsafeBytes { Array($0) })
    }
}

/// Writes safetensors files.
public enum SafetensorsWriter {
    /// Writes `entries` (names unique, none `__metadata__`) and `metadata` to `path`; returns the file's size.
    /// - Throws: `CohortError.badFile(path:)` for a duplicate name or when the file cannot be written.
    @discardableResult
    public static func write(_ entries: [SafetensorsEntry], metadata: [(key: String, value: String)], to path: String) throws -> Int {
        var seen = Set<String>()
        for e in entries where e.name == "__metadata__" || !seen.insert(e.name).inserted {
            throw CohortError.badFile(path: path, "cannot write tensor '\(e.name)': duplicate or reserved name")
        }
        var parts = ["\"__metadata__\":{" + metadata.map { jsonStringLiteral($0.key) + ":" + jsonStringLiteral($0.value) }.joined(separator: ",") + "}"]
        var offset = 0
        for e in entries {
            parts.append(jsonStringLiteral(e.name) + ":{\"dtype\":\"\(e.dtype)\",\"shape\":[" + e.shape.map(String.init).joined(separator: ",")
                         + "],\"data_offsets\":[\(offset),\(offset + e.bytes.count)]}")
            offset += e.bytes.count
        }
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        var data = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) } + header
        data.reserveCapacity(data.count + offset)
        for e in entries { data += e.bytes }
        let tmp = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(data)) else {
            throw CohortError.badFile(path: path, "cannot write (temporary file \(tmp)): \(String(cString: strerror(errno)))")
        }
        let fd = open(tmp, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw CohortError.badFile(path: path, "cannot rename \(tmp) into place: \(String(cString: strerror(errno)))")
        }
        return data.count
    }
}
