// IDX files (the MNIST format): a big-endian header — two zero bytes, a type
// byte, a dimension count, one u32 per dimension — then the data, raw or gzip-
// compressed. Header sizes are checked against the bytes actually present before
// anything large is allocated, so a hostile header cannot exhaust memory.
import CohortCore

/// An n-dimensional array of unsigned bytes, as stored in an IDX file.
public struct IDXArray: Sendable, Equatable {
    /// Dimension sizes from the header; `shape[0]` is the number of items.
    public let shape: [Int]
    /// The elements in row-major order; `bytes.count == shape.reduce(1, *)`.
    public let bytes: [UInt8]

    /// Wraps `bytes` as an array of `shape` (1…255 dimensions, each 0…2³²−1).
    /// - Throws: `CohortError.invalidArgument` if the shape is invalid or `bytes` does not fill it.
    public init(shape: [Int], bytes: [UInt8]) throws {
        guard (1...255).contains(shape.count), shape.allSatisfy({ $0 >= 0 && $0 <= Int(UInt32.max) }) else {
            throw CohortError.invalidArgument("IDXArray: shape \(describeShape(shape)) needs 1…255 dimensions of 0…\(UInt32.max)")
        }
        guard let n = IDX.elementCount(shape), n == bytes.count else {
            throw CohortError.invalidArgument("IDXArray: \(bytes.count) bytes do not fill shape \(describeShape(shape))")
        }
        self.shape = shape
        self.bytes = bytes
    }

    init(validatedShape shape: [Int], bytes: [UInt8]) {
        self.shape = shape
        self.bytes = bytes
    }

    /// Number of items (the first dimension).
    public var count: Int { shape[0] }
    /// Shape of one item (the dimensions after the first), e.g. `[28, 28]` for MNIST images.
    public var itemShape: [Int] { Array(shape.dropFirst()) }
}

/// Reads and writes IDX files holding unsigned bytes (type code `0x08`).
public enum IDX {
    /// The IDX type code for unsigned bytes, the only type this reader accepts.
    public static let unsignedByteType: UInt8 = 0x08

    /// Reads the IDX file at `path`, gzip-compressed (detected by the bytes `1f 8b`) or raw.
    /// - Parameter dimensions: the number of dimensions the caller expects (3 for MNIST images,
    ///   1 for labels), checked in the magic number before the header's sizes are trusted; nil: any.
    /// - Throws: `CohortError.badFile(path:, _)` if the file is missing, truncated, has a bad
    ///   magic number (or one declaring other than `dimensions`) or an unsupported data type,
    ///   or holds a corrupt gzip stream.
    public static func read(path: String, dimensions: Int? = nil) throws -> IDXArray {
        try decode(try FileBytes.read(path), path: path, dimensions: dimensions)
    }

    /// Decodes the content of an IDX file (gzip-compressed or raw); `path` is used in errors.
    /// - Throws: `CohortError.badFile(path:, _)` as `read(path:dimensions:)` does.
    public static func decode(_ fileBytes: [UInt8], path: String, dimensions: Int? = nil) throws -> IDXArray {
        Gzip.isGzip(fileBytes) ? try decodeGzip(fileBytes, path: path, dimensions: dimensions)
            : try decodeRaw(fileBytes, path: path, dimensions: dimensions)
    }

    /// The raw (uncompressed) IDX encoding of `array`.
    public static func encode(_ array: IDXArray) -> [UInt8] {
        var out = header(array.shape)
        out.reserveCapacity(out.count + array.bytes.count)
        out.append(contentsOf: array.bytes)
        return out
    }

    /// The IDX header of an unsigned-byte array of `shape` (1…255 dimensions of 0…2³²−1).
    public static func header(_ shape: [Int]) -> [UInt8] {
        var out: [UInt8] = [0, 0, unsignedByteType, UInt8(shape.count)]
        for d in shape { appendBigEndian(UInt32(d), to: &out) }
        return out
    }

    /// Writes `array` to `path` as an IDX file, gzip-compressed if `compressed`.
    /// - Throws: `CohortError.badFile(path:, _)` if the file cannot be written.
    public static func write(_ array: IDXArray, to path: String, compressed: Bool = false) throws {
        let raw = encode(array)
        try FileBytes.write(compressed ? Gzip.compress(raw) : raw, to: path)
    }

    // MARK: - Decoding

    private static func decodeRaw(_ bytes: [UInt8], path: String, dimensions: Int?) throws -> IDXArray {
        guard bytes.count >= 4 else {
            throw CohortError.badFile(path: path, "truncated IDX file: expected at least a 4-byte header, got \(bytes.count) bytes")
        }
        let ndims = try checkMagic(Array(bytes[0..<4]), path: path, dimensions: dimensions)
        let headerSize = 4 + 4 * ndims
        guard bytes.count >= headerSize else {
            throw CohortError.badFile(path: path, "truncated IDX file: the header declares \(ndims) dimensions, "
                + "so it needs \(headerSize) bytes, got \(bytes.count)")
        }
        let shape = readDims(Array(bytes[4..<headerSize]))
        let (dataSize, expected) = try sizes(shape, headerSize: headerSize, path: path)
        guard bytes.count == expected else {
            let what = bytes.count < expected ? "truncated IDX file" : "IDX file longer than its header declares"
            throw CohortError.badFile(path: path, "\(what): expected \(expected) bytes "
                + "(\(layout(headerSize, shape, dataSize))), got \(bytes.count)")
        }
        return IDXArray(validatedShape: shape, bytes: Array(bytes[headerSize...]))
    }

    private static func decodeGzip(_ compressed: [UInt8], path: String, dimensions: Int?) throws -> IDXArray {
        let inflater = try GzipInflater(compressed, path: path)
        var head: [UInt8] = []
        _ = try inflater.read(4, into: &head)
        guard head.count == 4 else {
            throw CohortError.badFile(path: path, "truncated gzip IDX file: expected at least a 4-byte header, "
                + "got \(head.count) decompressed bytes")
        }
        // A corrupt stream can garble the header; then the gzip error is the better message.
        let (shape, headerSize, dataSize, expected) = try verifyingStreamOnError(inflater) {
            let ndims = try checkMagic(head, path: path, dimensions: dimensions)
            let headerSize = 4 + 4 * ndims
            _ = try inflater.read(headerSize - 4, into: &head)
            guard head.count == headerSize else {
                throw CohortError.badFile(path: path, "truncated gzip IDX file: the header declares \(ndims) dimensions, "
                    + "so it needs \(headerSize) bytes, got \(head.count) decompressed bytes")
            }
            let shape = readDims(Array(head[4...]))
            let (dataSize, expected) = try sizes(shape, headerSize: headerSize, path: path)
            return (shape, headerSize, dataSize, expected)
        }
        // Deflate expands at most 1032:1, so the compressed size bounds what can really arrive;
        // beyond this reservation the buffer only grows as data is actually decompressed.
        let (bound, overflow) = compressed.count.multipliedReportingOverflow(by: 1032)
        var data: [UInt8] = []
        data.reserveCapacity(overflow ? dataSize : min(dataSize, bound))
        let status = try inflater.read(dataSize, into: &data)
        let layoutText = layout(headerSize, shape, dataSize)
        guard data.count == dataSize else {
            let got = headerSize + data.count
            let why = status == .truncated ? "truncated gzip file (the compressed stream is cut off)" : "gzip IDX data too short"
            throw CohortError.badFile(path: path, "\(why): expected \(expected) decompressed bytes (\(layoutText)), got \(got)")
        }
        var extra: [UInt8] = []
        switch try inflater.read(1, into: &extra) {
        case .end: break
        case .truncated:
            throw CohortError.badFile(path: path, "truncated gzip file: all \(expected) bytes decompressed, "
                + "but the gzip trailer (CRC-32 and length) is missing")
        case .more:
            try inflater.drain()
            throw CohortError.badFile(path: path, "gzip IDX file longer than its header declares: "
                + "expected \(expected) decompressed bytes (\(layoutText)), got more")
        }
        return IDXArray(validatedShape: shape, bytes: data)
    }

    /// Runs `body`; if it throws, drains `inflater` first so a corrupt stream is reported instead.
    private static func verifyingStreamOnError<R>(_ inflater: GzipInflater, _ body: () throws -> R) throws -> R {
        do { return try body() } catch {
            try inflater.drain()
            throw error
        }
    }

    /// Validates the 4-byte magic (and the number of dimensions, when `dimensions` is given)
    /// and returns the number of dimensions. Runs before any size the header declares is used,
    /// so a wrong magic is reported as such, not as a file of the wrong length.
    private static func checkMagic(_ b: [UInt8], path: String, dimensions: Int?) throws -> Int {
        let magic = b.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let expected = dimensions.map { hex(UInt32(unsignedByteType) << 8 | UInt32($0)) } ?? "0x000008nn"
        guard b[0] == 0, b[1] == 0, b[3] > 0 else {
            throw CohortError.badFile(path: path, "not an IDX file: bad magic number \(hex(magic)), expected \(expected) "
                + "(two zero bytes, type 0x08, then the number of dimensions, e.g. 0x00000803 for images)")
        }
        guard b[2] == unsignedByteType else {
            throw CohortError.badFile(path: path, "unsupported IDX data type 0x\(hex2(b[2])) (\(typeName(b[2]))) "
                + "in magic number \(hex(magic)): only 0x08 (unsigned byte) is supported")
        }
        if let dimensions, Int(b[3]) != dimensions {
            throw CohortError.badFile(path: path, "not a \(dimensions)-D IDX file: magic number \(hex(magic)) declares \(b[3])-D data, "
                + "expected \(dimensions)-D (magic \(expected))")
        }
        return Int(b[3])
    }

    /// Data bytes and total file bytes for `shape`, rejecting sizes that overflow.
    private static func sizes(_ shape: [Int], headerSize: Int, path: String) throws -> (data: Int, total: Int) {
        guard let n = elementCount(shape), n <= Int.max - headerSize else {
            throw CohortError.badFile(path: path, "bad IDX header: dimensions \(describeDims(shape)) are too large")
        }
        return (n, headerSize + n)
    }

    /// Product of `shape`, or nil on overflow.
    static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    private static func readDims(_ b: [UInt8]) -> [Int] {
        stride(from: 0, to: b.count, by: 4).map { i in b[i..<i + 4].reduce(0) { $0 << 8 | Int($1) } }
    }

    private static func appendBigEndian(_ v: UInt32, to out: inout [UInt8]) {
        out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    /// E.g. `16-byte header + 10000×28×28 = 7840000 data bytes`.
    private static func layout(_ headerSize: Int, _ shape: [Int], _ dataSize: Int) -> String {
        shape.count == 1 ? "\(headerSize)-byte header + \(dataSize) data bytes"
            : "\(headerSize)-byte header + \(describeDims(shape)) = \(dataSize) data bytes"
    }

    private static func describeDims(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "×") }

    private static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    private static func hex2(_ v: UInt8) -> String { v < 16 ? "0" + String(v, radix: 16, uppercase: true) : String(v, radix: 16, uppercase: true) }

    private static func typeName(_ code: UInt8) -> String {
        switch code {
        case 0x09: return "signed byte"
        case 0x0B: return "16-bit integer"
        case 0x0C: return "32-bit integer"
        case 0x0D: return "32-bit float"
        case 0x0E: return "64-bit float"
        default: return "unknown type"
        }
    }
}
