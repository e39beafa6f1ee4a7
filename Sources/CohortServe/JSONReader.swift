// A small, strict JSON reader for request bodies: one pass over the bytes, numbers parsed without
// a String per value (Clinger's exact fast path, strtod otherwise), nesting bounded so a hostile
// "[[[[…" body is a 400, not a stack overflow. Errors give the byte offset.
import Foundation

/// A parsed JSON value. Objects keep their keys in order.
public enum JSONValue: Sendable, Equatable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case number(Double)
    case string(String)
    case bool(Bool)
    case null

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.array(x), .array(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// The member `key` of an object (the first, if repeated), else nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// A short name of the value's kind, for error messages.
    public var kind: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .number: return "a number"
        case .string: return "a string"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }
}

/// Why a body is not JSON: what was expected and the byte offset.
public struct JSONReadError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, with the byte offset.
    public let description: String
}

/// Parses one JSON document from bytes.
public struct JSONReader {
    private let bytes: [UInt8]
    private var i = 0
    private let maxDepth: Int

    /// Parses `bytes` as one JSON value (nesting at most `maxDepth`), whitespace around it allowed.
    /// - Throws: `JSONReadError` naming the offset and what was expected.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 32) throws -> JSONValue {
        var r = JSONReader(bytes: bytes, maxDepth: maxDepth)
        let v = try r.value(depth: 0)
        r.skipSpace()
        guard r.i == bytes.count else { throw r.fail("unexpected data after the JSON value") }
        return v
    }

    private init(bytes: [UInt8], maxDepth: Int) { self.bytes = bytes; self.maxDepth = maxDepth }

    private func fail(_ what: String) -> JSONReadError {
        JSONReadError(description: "\(what) at byte \(i)")
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private mutating func value(depth: Int) throws -> JSONValue {
        skipSpace()
        guard i < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[i])))'")
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("unexpected end of input") }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw fail("invalid literal") }
        i += n
    }

    private mutating func object(depth: Int) throws -> JSONValue {
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        i += 1
        var members: [(String, JSONValue)] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let key = try string()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            members.append((key, try value(depth: depth)))
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end of input in an object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw fail("expected ',' or '}'")
        }
    }

    private mutating func array(depth: Int) throws -> JSONValue {
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            items.append(try value(depth: depth))
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end of input in an array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw fail("expected ',' or ']'")
        }
    }

    private mutating func string() throws -> String {
        i += 1
        let start = i
        var plain = true
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                if plain {
                    defer { i += 1 }
                    guard let s = String(validating: bytes[start..<i], as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                    return s
                }
                break
            }
            if c < 0x20 { throw fail("control character in a string") }
            if c == UInt8(ascii: "\\") { plain = false; i += 2; continue }
            i += 1
        }
        guard i < bytes.count else { throw fail("unterminated string") }
        // Escapes: let Foundation decode this one string (rare in requests).
        let literal = Data(bytes[(start - 1)...i])
        i += 1
        guard let s = (try? JSONSerialization.jsonObject(with: literal, options: [.fragmentsAllowed])) as? String else {
            throw fail("invalid escape in a string")
        }
        return s
    }

    private static let exact: [Double] = (0...22).map { pow(10, Double($0)) }

    private mutating func number() throws -> Double {
        let start = i
        var negative = false
        if bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var mantissa: UInt64 = 0, digits = 0, exponent = 0
        func isDigit(_ k: Int) -> Bool { k < bytes.count && bytes[k] >= 0x30 && bytes[k] <= 0x39 }
        guard isDigit(i) else { throw fail("invalid number") }
        if bytes[i] == UInt8(ascii: "0") && isDigit(i + 1) { throw fail("leading zero in a number") }
        while isDigit(i) {
            if digits < 19 { mantissa = mantissa * 10 + UInt64(bytes[i] - 0x30); digits += mantissa == 0 ? 0 : 1 } else { exponent += 1 }
            i += 1
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard isDigit(i) else { throw fail("invalid number") }
            while isDigit(i) {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(bytes[i] - 0x30); digits += mantissa == 0 ? 0 : 1; exponent -= 1 }
                i += 1
            }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { expNegative = bytes[i] == UInt8(ascii: "-"); i += 1 }
            guard isDigit(i) else { throw fail("invalid exponent") }
            var e = 0
            while isDigit(i) { if e < 100_000 { e = e * 10 + Int(bytes[i] - 0x30) }; i += 1 }
            exponent += expNegative ? -e : e
        }
        // Clinger's fast path: exact when the mantissa fits 53 bits and 10^|e| is exact.
        if mantissa < (1 << 53), abs(exponent) <= 22, digits <= 19 {
            let m = Double(mantissa)
            let v = exponent >= 0 ? m * Self.exact[exponent] : m / Self.exact[-exponent]
            return negative ? -v : v
        }
        var text = Array(bytes[start..<i])
        text.append(0)
        return text.withUnsafeBufferPointer { p in p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { strtod($0, nil) } }
    }
}
