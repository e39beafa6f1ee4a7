// A small TOML reader for `cohort train --config run.toml`: the subset a flat
// options file needs (docs/cli.md, "Config files"). Everything outside it is an
// error naming line and column, never a silent misreading.
import Foundation

/// A TOML value of the supported subset.
public enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
}

/// One `key = value` line of a TOML document, in file order.
public struct TOMLEntry: Equatable, Sendable {
    /// The `[table]` the key sits under, nil at the top level.
    public var table: String?
    public var key: String
    public var value: TOMLValue
    /// 1-based line and column of the key.
    public var line: Int
    public var column: Int
}

/// A TOML syntax error at a 1-based line and column.
public struct TOMLError: Error, CustomStringConvertible, Equatable {
    public var line: Int
    public var column: Int
    public var message: String
    public var description: String { "\(line):\(column): \(message)" }
}

/// Parses the TOML subset: `key = value` pairs (bare or quoted keys), one level of
/// `[table]` headers, `#` comments, basic strings with escapes (`\b \t \n \f \r \" \\
/// \uXXXX \UXXXXXXXX`), literal strings, integers (decimal with `_`, `0x`, `0o`, `0b`),
/// floats (fraction, exponent, `inf`, `nan`), booleans and arrays of these (across
/// lines, trailing comma allowed). Not supported, each an error: dotted keys and
/// tables, arrays of tables, inline tables, multi-line strings, dates and times.
public struct TOMLParser {
    private let chars: [Character]
    private var index = 0
    private var line = 1
    private var lineStart = 0

    /// - Throws: `TOMLError` naming the line and column of the first problem.
    public static func parse(_ text: String) throws -> [TOMLEntry] {
        // Swift makes "\r\n" one Character: normalise line ends first.
        var parser = TOMLParser(chars: Array(text.replacingOccurrences(of: "\r\n", with: "\n")))
        return try parser.document()
    }

    private init(chars: [Character]) { self.chars = chars }

    private var column: Int { index - lineStart + 1 }
    private var current: Character? { index < chars.count ? chars[index] : nil }
    private func error(_ message: String) -> TOMLError { TOMLError(line: line, column: column, message: message) }

    private mutating func advance() {
        if current == "\n" { line += 1; lineStart = index + 1 }
        index += 1
    }

    private mutating func skipSpaces() { while current == " " || current == "\t" { advance() } }

    /// Spaces, then a comment, then the end of the line (or of the file).
    private mutating func endOfLine() throws {
        skipSpaces()
        if current == "#" { while let c = current, c != "\n" { advance() } }
        guard current == nil || current == "\n" else { throw error("expected the end of the line, found '\(current!)'") }
        if current == "\n" { advance() }
    }

    /// Blank lines, comments and newlines (inside arrays, and between entries).
    private mutating func skipBlank() {
        while let c = current {
            if c == " " || c == "\t" || c == "\n" { advance() }
            else if c == "#" { while let d = current, d != "\n" { advance() } }
            else { break }
        }
    }

    private mutating func document() throws -> [TOMLEntry] {
        var entries: [TOMLEntry] = []
        var table: String?
        var seenTables: Set<String> = []
        var seenKeys: [String: Int] = [:]
        while true {
            skipBlank()
            guard let c = current else { return entries }
            if c == "[" {
                let at = (line, column)
                advance()
                if current == "[" { throw error("arrays of tables ([[…]]) are not supported") }
                skipSpaces()
                let name = try key()
                skipSpaces()
                if current == "." { throw error("dotted table names are not supported: sections nest one level only") }
                guard current == "]" else { throw error("expected ']' to close the table header") }
                advance()
                guard seenTables.insert(name).inserted else {
                    throw TOMLError(line: at.0, column: at.1, message: "table [\(name)] is defined twice")
                }
                table = name
                try endOfLine()
                continue
            }
            let (keyLine, keyColumn) = (line, column)
            let name = try key()
            skipSpaces()
            if current == "." { throw error("dotted keys are not supported") }
            guard current == "=" else { throw error("expected '=' after key '\(name)'") }
            advance()
            skipSpaces()
            let v = try value()
            let qualified = (table.map { $0 + "." } ?? "") + name
            if let first = seenKeys[qualified] {
                throw TOMLError(line: keyLine, column: keyColumn, message: "key '\(name)' is defined twice (first on line \(first))")
            }
            seenKeys[qualified] = keyLine
            entries.append(TOMLEntry(table: table, key: name, value: v, line: keyLine, column: keyColumn))
            try endOfLine()
        }
    }

    private mutating func key() throws -> String {
        switch current {
        case "\"": return try basicString()
        case "'": return try literalString()
        default:
            var s = ""
            while let c = current, c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-") { s.append(c); advance() }
            guard !s.isEmpty else { throw error(current.map { "expected a key, found '\($0)'" } ?? "expected a key, found the end of the file") }
            return s
        }
    }

    private mutating func value() throws -> TOMLValue {
        guard let c = current else { throw error("expected a value, found the end of the file") }
        switch c {
        case "\"": return .string(try basicString())
        case "'": return .string(try literalString())
        case "[": return try array()
        case "{": throw error("inline tables ({…}) are not supported")
        default:
            var word = ""
            let ends: Set<Character> = [" ", "\t", "\n", ",", "]", "#"]
            while let d = current, !ends.contains(d) { word.append(d); advance() }
            if word == "true" { return .boolean(true) }
            if word == "false" { return .boolean(false) }
            if let n = Self.number(word) { return n }
            throw TOMLError(line: line, column: column - word.count,
                            message: word.isEmpty ? "expected a value, found '\(c)'" : "unsupported value '\(word)' (expected a string, number, boolean or array)")
        }
    }

    private mutating func array() throws -> TOMLValue {
        advance()  // [
        var items: [TOMLValue] = []
        while true {
            skipBlank()
            if current == "]" { advance(); return .array(items) }
            items.append(try value())
            skipBlank()
            if current == "," { advance(); continue }
            if current == "]" { advance(); return .array(items) }
            throw error(current.map { "expected ',' or ']' in the array, found '\($0)'" } ?? "unterminated array")
        }
    }

    private mutating func basicString() throws -> String {
        if index + 2 < chars.count && chars[index + 1] == "\"" && chars[index + 2] == "\"" {
            throw error("multi-line strings (\"\"\") are not supported")
        }
        advance()  // "
        var s = ""
        while true {
            guard let c = current, c != "\n" else { throw error("unterminated string") }
            advance()
            if c == "\"" { return s }
            guard c == "\\" else { s.append(c); continue }
            guard let e = current else { throw error("unterminated string") }
            let escapeColumn = column - 1
            advance()
            switch e {
            case "b": s.append("\u{08}")
            case "t": s.append("\t")
            case "n": s.append("\n")
            case "f": s.append("\u{0C}")
            case "r": s.append("\r")
            case "\"": s.append("\"")
            case "\\": s.append("\\")
            case "u", "U":
                let count = e == "u" ? 4 : 8
                var hex = ""
                for _ in 0..<count { if let h = current, h.isHexDigit { hex.append(h); advance() } }
                guard hex.count == count, let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
                    throw TOMLError(line: line, column: escapeColumn, message: "bad unicode escape \\\(e)\(hex): expected \(count) hex digits of a valid code point")
                }
                s.unicodeScalars.append(scalar)
            default:
                throw TOMLError(line: line, column: escapeColumn, message: "unknown escape sequence \\\(e)")
            }
        }
    }

    private mutating func literalString() throws -> String {
        if index + 2 < chars.count && chars[index + 1] == "'" && chars[index + 2] == "'" {
            throw error("multi-line literal strings (''') are not supported")
        }
        advance()  // '
        var s = ""
        while true {
            guard let c = current, c != "\n" else { throw error("unterminated literal string") }
            advance()
            if c == "'" { return s }
            s.append(c)
        }
    }

    /// An integer or float in TOML's syntax, or nil.
    public static func number(_ word: String) -> TOMLValue? {
        var body = Substring(word)
        var sign = ""
        if let f = body.first, f == "+" || f == "-" { sign = f == "-" ? "-" : ""; body = body.dropFirst() }
        switch body {
        case "inf": return .float(sign == "-" ? -.infinity : .infinity)
        case "nan": return .float(.nan)
        default: break
        }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where body.hasPrefix(prefix) {
            guard sign.isEmpty && word.first != "+", let digits = underscoresRemoved(body.dropFirst(2)) else { return nil }
            return Int64(digits, radix: radix).map { .integer($0) }
        }
        guard let digits = underscoresRemoved(body), let first = digits.first, first.isNumber else { return nil }
        // Leading zeros are not allowed ("01"), except "0" itself and "0.5"/"0e1".
        if first == "0", digits.count > 1, digits[digits.index(after: digits.startIndex)].isNumber { return nil }
        if digits.allSatisfy(\.isNumber) { return Int64(sign + digits).map { .integer($0) } }
        // A float: digits, then .digits and/or an exponent; a dot needs digits on both sides.
        let pattern = #"^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$"#
        guard digits.range(of: pattern, options: .regularExpression) != nil else { return nil }
        return Double(sign + digits).map { .float($0) }
    }

    /// The digits without TOML's `_` separators, nil if an `_` is not between two digits.
    private static func underscoresRemoved(_ s: Substring) -> String? {
        let a = Array(s)
        for (i, c) in a.enumerated() where c == "_" {
            guard i > 0, i + 1 < a.count, a[i - 1].isHexDigit, a[i + 1].isHexDigit else { return nil }
        }
        return String(a.filter { $0 != "_" })
    }
}
