// safetensors files (Hugging Face's format, what PyTorch users save state dicts in):
// an 8-byte little-endian header length N, N bytes of a JSON object — per tensor
// {"dtype", "shape", "data_offsets": [begin, end]} relative to the data that
// follows, plus an optional "__metadata__" map of strings — then the raw
// little-endian data. Everything in the header is checked before any tensor is
// read: N against the file's size and a 100 MB cap, each dtype, shape and byte
// range (no overflow, sizes matching, ranges contiguous from 0 to the end of the
// file, as the format requires), so a hostile header is a clear error and never
// a large allocation. Elements are converted to Float.
import CohortCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One tensor of a safetensors file, its elements converted to `Float`.
public struct SafetensorsTensor: Sendable, Equatable {
    public let name: String
    /// The dtype as the file names it: `F32`, `F16`, `BF16`, `F64`, `I64`, `I32`, `I16`, `I8`, `U8`, `BOOL`.
    public let dtype: String
    public let shape: [Int]
    /// Row-major elements; exact for F32, F16, BF16, BOOL and integers up to 2^24.
    public let values: [Float]
}

/// A safetensors file whose header has been read and validated; tensors are read on demand.
public struct SafetensorsFile: Sendable {
    /// A tensor's place in the file.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: String
        public let shape: [Int]
        /// Byte range within the data section (after the header).
        public let byteRange: Range<Int>
    }

    /// The largest header accepted (the reference implementation's limit).
    public static let maximumHeaderBytes = 100_000_000
    /// Bytes per element of each dtype this reader converts.
    public static let elementBytes: [String: Int] = ["F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4,
                                                     "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]

    public let path: String
    /// The `__metadata__` strings (empty when absent).
    public let metadata: [String: String]
    /// Every tensor, in the order of its data in the file.
    public let entries: [Entry]
    /// Where the data section starts in the file (8 + header length).
    let dataStart: Int

    /// Opens `path` and validates its header.
    /// - Throws: `CohortError.badFile(path:, _)` naming the problem (and the tensor, when one is at fault).
    public init(path: String) throws {
        self.path = path
        let file = try ReadOnlyFile(path)
        func fail(_ message: String) -> CohortError { .badFile(path: path, "not a valid safetensors file: " + message) }
        guard file.size >= 8 else { throw fail("\(file.size) bytes, shorter than the 8-byte header length") }
        let lengthBytes = try file.read(at: 0, count: 8)
        let length = lengthBytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(Self.maximumHeaderBytes), Int(length) <= file.size - 8 else {
            throw fail("header length \(length) bytes exceeds " + (length > UInt64(Self.maximumHeaderBytes)
                ? "the \(Self.maximumHeaderBytes)-byte limit" : "the file (\(file.size) bytes)"))
        }
        let header = try file.read(at: 8, count: Int(length))
        guard let object = try? JSONDecoder().decode([String: HeaderValue].self, from: Data(header)) else {
            throw fail("the \(length)-byte header is not a JSON object")
        }
        dataStart = 8 + Int(length)
        (metadata, entries) = try Self.parse(object, dataBytes: file.size - dataStart, fail: fail)
    }

    /// A value of the header object: a tensor's description, the metadata map, or neither.
    enum HeaderValue: Decodable {
        struct Tensor: Decodable {
            let dtype: String
            let shape: [Int]
            let data_offsets: [Int]
        }
        case tensor(Tensor)
        case strings([String: String])
        case invalid

        init(from decoder: any Decoder) throws {
            if let t = try? Tensor(from: decoder) { self = .tensor(t) }
            else if let m = try? [String: String](from: decoder) { self = .strings(m) }
            else { self = .invalid }
        }
    }

    /// The tensor called `name`.
    /// - Throws: `CohortError.badFile` when there is none, or the file cannot be read.
    public func tensor(_ name: String) throws -> SafetensorsTensor {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw CohortError.badFile(path: path, "has no tensor '\(name)'")
        }
        let bytes = try ReadOnlyFile(path).read(at: dataStart + entry.byteRange.lowerBound, count: entry.byteRange.count)
        return SafetensorsTensor(name: name, dtype: entry.dtype, shape: entry.shape, values: Self.convert(bytes, entry.dtype))
    }

    /// Every tensor, in file order.
    public func tensors() throws -> [SafetensorsTensor] {
        let file = try ReadOnlyFile(path)
        return try entries.map { e in
            let bytes = try file.read(at: dataStart + e.byteRange.lowerBound, count: e.byteRange.count)
            return SafetensorsTensor(name: e.name, dtype: e.dtype, shape: e.shape, values: Self.convert(bytes, e.dtype))
        }
    }

    /// Checks every entry of the header object; returns the metadata and the entries sorted by offset.
    static func parse(_ object: [String: HeaderValue], dataBytes: Int, fail: (String) -> CohortError) throws -> ([String: String], [Entry]) {
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard case let .strings(strings) = value else { throw fail("__metadata__ must map strings to strings") }
                metadata = strings
                continue
            }
            guard case let .tensor(info) = value else {
                throw fail("tensor '\(name)' needs dtype (a string), shape and data_offsets (whole numbers)")
            }
            let (dtype, shape, offsets) = (info.dtype, info.shape, info.data_offsets)
            guard let size = elementBytes[dtype] else {
                throw fail("tensor '\(name)' has dtype \(dtype); supported: \(elementBytes.keys.sorted().joined(separator: ", "))")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("tensor '\(name)': shape \(shape) has a negative size") }
            guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataBytes else {
                throw fail("tensor '\(name)': data_offsets \(offsets) outside the \(dataBytes) data bytes")
            }
            var bytes = size
            for d in shape {
                let (product, overflow) = bytes.multipliedReportingOverflow(by: d)
                guard !overflow, product <= dataBytes else { throw fail("tensor '\(name)': shape \(shape) of \(dtype) needs more bytes than the file has") }
                bytes = product
            }
            guard bytes == offsets[1] - offsets[0] else {
                throw fail("tensor '\(name)': shape \(shape) of \(dtype) is \(bytes) bytes but data_offsets \(offsets) span \(offsets[1] - offsets[0])")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, byteRange: offsets[0]..<offsets[1]))
        }
        entries.sort { ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name) < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name) }
        var end = 0
        for e in entries {
            guard e.byteRange.lowerBound == end else {
                throw fail(e.byteRange.lowerBound < end ? "tensor '\(e.name)' overlaps the tensor before it (bytes \(e.byteRange) start before \(end))"
                                                        : "a gap of unused bytes \(end)..<\(e.byteRange.lowerBound) before tensor '\(e.name)'")
            }
            end = e.byteRange.upperBound
        }
        guard end == dataBytes else { throw fail("\(dataBytes - end) bytes after the last tensor belong to none") }
        return (metadata, entries)
    }

    /// Little-endian elements of `dtype` as Floats.
    static func convert(_ bytes: [UInt8], _ dtype: String) -> [Float] {
        bytes.withUnsafeBytes { raw -> [Float] in
            func each<T>(_ type: T.Type, _ f: (T) -> Float) -> [Float] {
                (0..<raw.count / MemoryLayout<T>.size).map { f(raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
            }
            switch dtype {
            case "F32": return each(UInt32.self) { Float(bitPattern: UInt32(littleEndian: $0)) }
            case "F64": return each(UInt64.self) { Float(Double(bitPattern: UInt64(littleEndian: $0))) }
            case "F16": return each(UInt16.self) { Float(Float16(bitPattern: UInt16(littleEndian: $0))) }
            case "BF16": return each(UInt16.self) { Float(bitPattern: UInt32(UInt16(littleEndian: $0)) << 16) }
            case "I64": return each(Int64.self) { Float(Int64(littleEndian: $0)) }
            case "I32": return each(Int32.self) { Float(Int32(littleEndian: $0)) }
            case "I16": return each(Int16.self) { Float(Int16(littleEndian: $0)) }
            case "I8": return each(Int8.self) { Float($0) }
            case "BOOL": return each(UInt8.self) { $0 == 0 ? 0 : 1 }
            default: return each(UInt8.self) { Float($0) }   // U8 (parse accepts nothing else)
            }
        }
    }
}

/// A regular file opened for positional reads; errors name the path.
final class ReadOnlyFile {
    let path: String
    let size: Int
    private let fd: Int32

    init(_ path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CohortError.badFile(path: path, "cannot open: \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw CohortError.badFile(path: path, "not a regular file")
        }
        size = Int(st.st_size)
    }

    deinit { close(fd) }

    /// `count` bytes at `offset`; throws when the file ends first.
    func read(at offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        try bytes.withUnsafeMutableBytes { buf in
            while done < count {
                let n = pread(fd, buf.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw CohortError.badFile(path: path, "ends at byte \(offset + done) of \(offset + count) needed") }
                done += n
            }
        }
        return bytes
    }
}
