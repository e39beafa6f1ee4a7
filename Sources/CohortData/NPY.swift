// NumPy .npy files (format versions 1.0, 2.0 and 3.0): the magic `\x93NUMPY`,
// two version bytes, a little-endian header length (u16 for 1.0, u32 after),
// a Python dict literal {'descr': …, 'fortran_order': …, 'shape': (…)} padded
// with spaces to a 16/64-byte boundary and ended by '\n', then the raw data.
// Little-endian bool, integer and float elements in C order are converted to
// Float; everything else is rejected with the file and the dtype named.
import CohortCore

/// An n-dimensional array read from a `.npy` file, its elements converted to `Float`.
public struct NPYArray: Sendable, Equatable {
    /// Dimension sizes; `[]` for a 0-dimensional (scalar) array.
    public let shape: [Int]
    /// The elements in row-major (C) order; `values.count == shape.reduce(1, *)`. Conversion is exact
    /// for bool, 8/16-bit integers and float32; float64 and wider integers are rounded to the nearest Float.
    public let values: [Float]
    /// The dtype as stored in the file's header, e.g. `<f4`, `<i8` or `|b1`.
    public let dtype: String

    /// Number of elements.
    public var count: Int { values.count }
}

/// Reads NumPy `.npy` files.
public enum NPY {
    /// The dtypes this reader accepts (`<` or `|` byte order; `=` is taken as little-endian).
    public static let supportedDtypes = ["|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f4", "<f8"]

    /// Reads the `.npy` file at `path`.
    /// - Throws: `CohortError.badFile(path:, _)` if the file is missing, is not a `.npy` file, has a
    ///   malformed header, an unsupported or big-endian dtype, Fortran order, or a data size other
    ///   than its header declares (saying expected and actual bytes).
    public static func read(path: String) throws -> NPYArray {
        try decode(try FileBytes.read(path), path: path)
    }

    /// Decodes the content of a `.npy` file; `path` is used in error messages.
    /// - Throws: `CohortError.badFile(path:, _)` as `read(path:)` does.
    public static func decode(_ bytes: [UInt8], path: String) throws -> NPYArray {
        func fail(_ message: String) -> CohortError { .badFile(path: path, message) }
        if bytes.count < 10 && magic.starts(with: bytes.prefix(6)) {
            throw fail("truncated .npy file: expected at least 10 bytes (magic, version, header length), got \(bytes.count)")
        }
        guard bytes.starts(with: magic) else {
            throw fail("not a .npy file: it does not start with the magic bytes \\x93NUMPY")
        }
        let major = bytes[6], lengthBytes = major == 1 ? 2 : 4
        guard (1...3).contains(major), bytes[7] == 0 else {
            throw fail("unsupported .npy format version \(major).\(bytes[7]) (supported: 1.0, 2.0, 3.0)")
        }
        let headerStart = 8 + lengthBytes
        guard bytes.count >= headerStart else {
            throw fail("truncated .npy file: expected at least \(headerStart) bytes, got \(bytes.count)")
        }
        let headerLength = bytes[8..<headerStart].reversed().reduce(0) { $0 << 8 | Int($1) }
        let dataStart = headerStart + headerLength
        guard bytes.count >= dataStart else {
            throw fail("truncated .npy file: the \(headerLength)-byte header needs \(dataStart) bytes, got \(bytes.count)")
        }
        let header = try NPYHeader(String(decoding: bytes[headerStart..<dataStart], as: UTF8.self), path: path)
        let element = try NPYElement(header.descr, path: path)
        if header.fortranOrder && header.shape.filter({ $0 > 1 }).count > 1 {
            throw fail("array of shape \(describe(header.shape)) is stored in Fortran (column-major) order; only C order "
                + "is supported (re-save it with np.save(path, np.ascontiguousarray(a)))")
        }
        guard let count = IDX.elementCount(header.shape), case let (size, false) = count.multipliedReportingOverflow(by: element.size),
              size <= Int.max - dataStart else {
            throw fail("bad .npy header: shape \(describe(header.shape)) is too large")
        }
        let actual = bytes.count - dataStart
        guard actual == size else {
            let what = actual < size ? "truncated .npy file" : ".npy file longer than its header declares"
            throw fail("\(what): expected \(dataStart + size) bytes (\(dataStart)-byte header + \(count) × "
                + "\(element.size)-byte '\(header.descr)' = \(size) data bytes), got \(bytes.count)")
        }
        let values = bytes.withUnsafeBytes { element.convert(UnsafeRawBufferPointer(rebasing: $0[dataStart...]), count: count) }
        return NPYArray(shape: header.shape, values: values, dtype: header.descr)
    }

    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// `2×3`, or `()` for a scalar.
    static func describe(_ shape: [Int]) -> String {
        shape.isEmpty ? "()" : shape.map(String.init).joined(separator: "×")
    }
}

/// An element type of `NPY.supportedDtypes`.
enum NPYElement {
    case bool, int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64

    /// Parses a dtype string such as `<f4`.
    /// - Throws: `CohortError.badFile(path:, _)` naming the dtype if it is unsupported or big-endian.
    init(_ descr: String, path: String) throws {
        let chars = Array(descr)
        let order = chars.first.flatMap { "<>|=".contains($0) ? $0 : nil }
        let code = String(chars.dropFirst(order == nil ? 0 : 1))
        let table: [String: NPYElement] = ["b1": .bool, "i1": .int8, "u1": .uint8, "i2": .int16, "u2": .uint16,
                                           "i4": .int32, "u4": .uint32, "i8": .int64, "u8": .uint64, "f4": .float32, "f8": .float64]
        guard let element = table[code] else {
            throw CohortError.badFile(path: path, "unsupported dtype '\(descr)'\(NPYElement.kindName(code)); supported: "
                + NPY.supportedDtypes.joined(separator: ", "))
        }
        if order == ">" && element.size > 1 {
            throw CohortError.badFile(path: path, "big-endian dtype '\(descr)' is not supported; re-save the array "
                + "as little-endian, e.g. np.save(path, a.astype('<\(code)'))")
        }
        self = element
    }

    /// Bytes per element.
    var size: Int {
        switch self {
        case .bool, .int8, .uint8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    /// `count` little-endian elements from `raw` as Floats.
    func convert(_ raw: UnsafeRawBufferPointer, count: Int) -> [Float] {
        func map<T: FixedWidthInteger>(_: T.Type, _ f: (T) -> Float) -> [Float] {
            (0..<count).map { f(T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))) }
        }
        switch self {
        case .bool: return map(UInt8.self) { $0 == 0 ? 0 : 1 }
        case .int8: return map(Int8.self) { Float($0) }
        case .uint8: return map(UInt8.self) { Float($0) }
        case .int16: return map(Int16.self) { Float($0) }
        case .uint16: return map(UInt16.self) { Float($0) }
        case .int32: return map(Int32.self) { Float($0) }
        case .uint32: return map(UInt32.self) { Float($0) }
        case .int64: return map(Int64.self) { Float($0) }
        case .uint64: return map(UInt64.self) { Float($0) }
        case .float32: return map(UInt32.self) { Float(bitPattern: $0) }
        case .float64: return map(UInt64.self) { Float(Double(bitPattern: $0)) }
        }
    }

    /// ` (complex)` for `c16` etc.: what an unsupported type code is, for messages.
    private static func kindName(_ code: String) -> String {
        let kinds: [Character: String] = ["c": "complex", "U": "Unicode string", "S": "byte string", "a": "byte string",
                                          "O": "Python object", "V": "void/structured", "M": "datetime", "m": "timedelta",
                                          "f": "float of this size", "[": "structured"]
        return code.first.flatMap { kinds[$0] }.map { " (\($0))" } ?? ""
    }
}

/// The dict of a `.npy` header: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
struct NPYHeader {
    let descr: String
    let fortranOrder: Bool
    let shape: [Int]

    /// Parses `text` (a Python dict literal with the three keys).
    /// - Throws: `CohortError.badFile(path:, _)` quoting the header if it is malformed or lacks a key.
    init(_ text: String, path: String) throws {
        var parser = PythonLiteralParser(text: Array(text.unicodeScalars))
        let shown = text.trimmingSuffix { $0 == " " || $0 == "\n" }
        func fail(_ why: String) -> CohortError { .badFile(path: path, "bad .npy header \(shown): \(why)") }
        guard case let .dict(entries)? = try? parser.parseAll() else { throw fail("expected a Python dict literal") }
        let dict = Dictionary(entries, uniquingKeysWith: { a, _ in a })
        switch dict["descr"] {
        case let .string(s)?: descr = s
        case let .other(raw)?: throw CohortError.badFile(path: path, "unsupported dtype \(raw) (structured dtypes are not supported)")
        default: throw fail("'descr' must be a dtype string such as '<f4'")
        }
        guard case let .bool(f)? = dict["fortran_order"] else { throw fail("'fortran_order' must be True or False") }
        guard case let .tuple(dims)? = dict["shape"] else { throw fail("'shape' must be a tuple of sizes") }
        shape = try dims.map {
            guard case let .int(n) = $0, n >= 0 else { throw fail("'shape' must hold sizes ≥ 0") }
            return n
        }
        fortranOrder = f
    }
}

/// Just enough Python literal syntax for `.npy` headers: dicts, tuples, lists, strings, ints, True/False/None.
private struct PythonLiteralParser {
    enum Value { case dict([(String, Value)]), tuple([Value]), string(String), int(Int), bool(Bool), other(String) }
    struct Failure: Error {}

    let text: [Unicode.Scalar]
    var i = 0

    mutating func parseAll() throws -> Value {
        let v = try value()
        skipSpace()
        guard i == text.count else { throw Failure() }
        return v
    }

    private mutating func skipSpace() { while i < text.count, text[i].properties.isWhitespace { i += 1 } }

    private mutating func value() throws -> Value {
        skipSpace()
        guard i < text.count else { throw Failure() }
        let start = i
        switch text[i] {
        case "{":
            let items = try sequence(close: "}") { p -> (String, Value) in
                guard case let .string(key) = try p.value() else { throw Failure() }
                p.skipSpace()
                guard p.i < p.text.count, p.text[p.i] == ":" else { throw Failure() }
                p.i += 1
                return (key, try p.value())
            }
            return .dict(items)
        case "(": return .tuple(try sequence(close: ")") { try $0.value() })
        case "[":
            _ = try sequence(close: "]") { try $0.value() }
            return .other(String(String.UnicodeScalarView(text[start..<i])))
        case "'", "\"":
            let q = text[i]
            i += 1
            while i < text.count, text[i] != q { i += 1 }
            guard i < text.count else { throw Failure() }
            i += 1
            return .string(String(String.UnicodeScalarView(text[start + 1..<i - 1])))
        default:
            while i < text.count, text[i].properties.isAlphabetic || ("0"..."9").contains(text[i]) || text[i] == "-" { i += 1 }
            var word = String(String.UnicodeScalarView(text[start..<i]))
            if word == "True" || word == "False" { return .bool(word == "True") }
            if word.hasSuffix("L") { word.removeLast() }   // Python 2 longs: (3L, 4L)
            guard let n = Int(word) else { throw Failure() }
            return .int(n)
        }
    }

    /// Comma-separated items up to `close` (a trailing comma allowed), starting at the opening bracket.
    private mutating func sequence<T>(close: Unicode.Scalar, _ item: (inout PythonLiteralParser) throws -> T) throws -> [T] {
        i += 1
        var items: [T] = []
        while true {
            skipSpace()
            guard i < text.count else { throw Failure() }
            if text[i] == close { i += 1; return items }
            items.append(try item(&self))
            skipSpace()
            guard i < text.count else { throw Failure() }
            if text[i] == "," { i += 1 } else if text[i] != close { throw Failure() }
        }
    }
}

private extension String {
    func trimmingSuffix(_ drop: (Character) -> Bool) -> String {
        var s = Substring(self)
        while let c = s.last, drop(c) { s.removeLast() }
        return String(s)
    }
}
