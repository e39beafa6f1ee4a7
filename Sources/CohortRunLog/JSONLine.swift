// A parser for one line of metrics.jsonl: a flat JSON object whose values are
// numbers or null. Written by hand (not JSONSerialization) to keep the key order
// of the file and to report the column of the first bad character.
import CohortCore
import Foundation

/// Parses `{"step": 1, "wall_time": 2.5, "train_loss": 0.3, "val_loss": null}`.
struct JSONLine {
    private let bytes: [UInt8]
    private var i = 0

    /// The error text (no path or line: the caller adds those).
    struct Failure: Error { var message: String }

    init(_ text: Substring) { bytes = Array(text.utf8) }

    /// The fields in file order; `null` reads as NaN.
    mutating func fields() throws -> [(name: String, value: Double)] {
        var out: [(String, Double)] = []
        skipSpace()
        try expect(UInt8(ascii: "{"))
        skipSpace()
        if peek == UInt8(ascii: "}") { i += 1 } else {
            while true {
                skipSpace()
                let name = try string()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                out.append((name, try value(for: name)))
                skipSpace()
                if peek == UInt8(ascii: ",") { i += 1; continue }
                try expect(UInt8(ascii: "}"))
                break
            }
        }
        skipSpace()
        if i < bytes.count { throw fail("unexpected text after the closing }") }
        return out
    }

    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    private func fail(_ what: String) -> Failure { Failure(message: "column \(i + 1): \(what)") }

    private mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A { i += 1 }
    }

    private mutating func expect(_ c: UInt8) throws {
        guard peek == c else {
            throw fail(peek == nil ? "line ends early, expected '\(Character(Unicode.Scalar(c)))'" : "expected '\(Character(Unicode.Scalar(c)))'")
        }
        i += 1
    }

    private mutating func value(for name: String) throws -> Double {
        guard let c = peek else { throw fail("line ends early, expected a value for \"\(name)\"") }
        if c == UInt8(ascii: "n") {
            guard bytes[i...].starts(with: Array("null".utf8)) else { throw fail("\"\(name)\" is not a number") }
            i += 4
            return .nan
        }
        let start = i
        while let d = peek, (d >= 0x30 && d <= 0x39) || d == UInt8(ascii: "-") || d == UInt8(ascii: "+") || d == UInt8(ascii: ".")
            || d == UInt8(ascii: "e") || d == UInt8(ascii: "E") { i += 1 }
        guard i > start, let v = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else {
            i = start
            throw fail("\"\(name)\" is not a number")
        }
        return v
    }

    private mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        var out: [UInt8] = []
        while let c = peek {
            i += 1
            switch c {
            case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let e = peek else { break }
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    guard i + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(code) else { throw fail("bad \\u escape") }
                    i += 4
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: out.append(e)
                }
            default: out.append(c)
            }
        }
        throw fail("unterminated string")
    }
}

/// JSON text for metric names and values (the writer's side of `JSONLine`).
enum JSONText {
    /// A JSON string literal.
    static func string(_ s: String) -> String { jsonStringLiteral(s) }

    /// The shortest text that reads back as `v`; `null` for NaN and infinities (JSON has neither).
    static func number(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }
}
