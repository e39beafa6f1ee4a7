// CSV files, RFC 4180 read leniently: a header row, then records of fields split
// by a one-byte delimiter; a quoted field may hold delimiters, line breaks and
// `""` (one quote); lines end in LF, CRLF or CR; the final line break is optional;
// blank lines and a UTF-8 byte order mark are skipped. Every error names the
// file, the 1-based line where the record starts and, where there is one, the
// column (1-based index and name).
import CohortCore

/// A CSV file read into strings: column names and records of exactly that many fields.
public struct CSVTable: Sendable, Equatable {
    /// The file the table came from; errors name it.
    public let path: String
    /// Column names: the header row, or `column1`, `column2`, … when read with `hasHeader: false`.
    public let columns: [String]
    /// The data records (not the header), each with `columns.count` fields, unquoted.
    public let rows: [[String]]
    /// The 1-based line on which each record of `rows` starts (lines count from the top of the file).
    public let lineNumbers: [Int]

    /// Number of data records.
    public var count: Int { rows.count }

    /// Reads and parses the CSV file at `path`; see `parse(_:path:delimiter:hasHeader:)`.
    /// - Throws: `CohortError.badFile(path:, _)` if the file cannot be read or is not valid CSV.
    public static func read(path: String, delimiter: Character = ",", hasHeader: Bool = true) throws -> CSVTable {
        try parse(try FileBytes.read(path), path: path, delimiter: delimiter, hasHeader: hasHeader)
    }

    /// Parses CSV text (UTF-8); `path` is only used in error messages.
    /// - Parameters:
    ///   - delimiter: the field separator, a single ASCII character other than `"`, CR and LF.
    ///   - hasHeader: whether the first record holds the column names.
    /// - Throws: `CohortError.invalidArgument` for a bad delimiter; `CohortError.badFile(path:, _)` for an
    ///   empty file, a header without data rows, a record whose field count differs from the header's,
    ///   an unterminated quoted field, or text after a closing quote.
    public static func parse(_ bytes: [UInt8], path: String, delimiter: Character = ",", hasHeader: Bool = true) throws -> CSVTable {
        guard let d = delimiter.asciiValue, d != quote, d != lf, d != cr else {
            throw CohortError.invalidArgument("CSV \(path): the delimiter must be one ASCII character other than "
                + "a quote or a line break, got \(String(delimiter).debugDescription)")
        }
        var scanner = CSVScanner(bytes: bytes, delimiter: d, path: path, hasHeader: hasHeader)
        var records = try scanner.records()
        guard let first = records.first else {
            throw CohortError.badFile(path: path, "empty file: expected a header row and data rows")
        }
        let columns = hasHeader ? first.fields : (1...first.fields.count).map { "column\($0)" }
        if hasHeader { records.removeFirst() }
        guard !records.isEmpty else {
            throw CohortError.badFile(path: path, "the file has only a header (line \(first.line)) and no data rows")
        }
        let table = CSVTable(path: path, columns: columns, rows: records.map(\.fields), lineNumbers: records.map(\.line))
        let source = hasHeader ? "the header" : "line \(first.line)"
        for (fields, line) in zip(table.rows, table.lineNumbers) where fields.count != columns.count {
            let detail = fields.count < columns.count
                ? "\(table.describeColumn(fields.count)) is missing"
                : "\(fields.count - columns.count) extra field(s) after the last \(table.describeColumn(columns.count - 1))"
            throw CohortError.badFile(path: path, "line \(line): ragged row: expected \(columns.count) fields "
                + "(as in \(source)), found \(fields.count): \(detail)")
        }
        return table
    }

    /// The index of the column called `name`.
    /// - Throws: `CohortError.badFile(path:, _)` if there is no such column (listing the columns and
    ///   suggesting the closest name) or if the name appears more than once.
    public func columnIndex(named name: String) throws -> Int {
        let matches = columns.indices.filter { columns[$0] == name }
        if matches.count > 1 {
            throw CohortError.badFile(path: path, "line 1 (the header): column name '\(name)' is ambiguous: it names columns "
                + matches.map { String($0 + 1) }.joined(separator: " and "))
        }
        if let i = matches.first { return i }
        var message = "line 1 (the header): no column named '\(name)'"
        if let guess = closestName(to: name, in: columns) { message += "; did you mean '\(guess)'?" }
        message += " The \(columns.count) columns are: " + columns.map { "'\($0)'" }.joined(separator: ", ")
        throw CohortError.badFile(path: path, message)
    }

    /// `column 3 'petal_length_cm'`: the 1-based index and the name of column `index`, for messages.
    public func describeColumn(_ index: Int) -> String {
        index < columns.count ? "column \(index + 1) '\(columns[index])'" : "column \(index + 1)"
    }
}

private let quote = UInt8(ascii: "\""), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

/// The closest of `names` to `name` by case-insensitive edit distance, if it is close enough to be a likely typo.
func closestName(to name: String, in names: [String]) -> String? {
    let target = Array(name.lowercased())
    let scored = names.map { ($0, editDistance(target, Array($0.lowercased()))) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    return best.1 <= max(2, target.count / 2) ? best.0 : nil
}

/// Levenshtein distance (insertions, deletions and substitutions cost 1).
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    guard !a.isEmpty else { return b.count }
    var previous = Array(0...b.count)
    for (i, ca) in a.enumerated() {
        var current = [i + 1] + [Int](repeating: 0, count: b.count)
        for (j, cb) in b.enumerated() {
            current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

/// Splits CSV bytes into records, tracking line numbers.
private struct CSVScanner {
    let bytes: [UInt8]
    let delimiter: UInt8
    let path: String
    let hasHeader: Bool
    /// The header's fields once read, to name columns in errors.
    var names: [String] = []
    var i = 0
    var line = 1

    init(bytes: [UInt8], delimiter: UInt8, path: String, hasHeader: Bool) {
        self.bytes = bytes
        self.delimiter = delimiter
        self.path = path
        self.hasHeader = hasHeader
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }   // UTF-8 byte order mark
    }

    /// All non-blank records with the line each starts on.
    mutating func records() throws -> [(fields: [String], line: Int)] {
        var out: [(fields: [String], line: Int)] = []
        while i < bytes.count {
            if skipLineBreak() { continue }   // a blank line
            let start = line
            var fields: [String] = []
            while true {
                fields.append(try field(index: fields.count, recordLine: start))
                if i < bytes.count, bytes[i] == delimiter {
                    i += 1
                    continue
                }
                _ = skipLineBreak()
                break
            }
            if out.isEmpty && hasHeader { names = fields }
            out.append((fields, start))
        }
        return out
    }

    /// Consumes LF, CRLF or CR at `i` if present.
    private mutating func skipLineBreak() -> Bool {
        guard i < bytes.count, bytes[i] == lf || bytes[i] == cr else { return false }
        i += bytes[i] == cr && i + 1 < bytes.count && bytes[i + 1] == lf ? 2 : 1
        line += 1
        return true
    }

    private func column(_ index: Int) -> String {
        index < names.count ? "column \(index + 1) '\(names[index])'" : "column \(index + 1)"
    }

    /// One field starting at `i`, which is left at the delimiter, line break or end after it.
    private mutating func field(index: Int, recordLine: Int) throws -> String {
        let start = i
        guard i < bytes.count, bytes[i] == quote else {
            while i < bytes.count, bytes[i] != delimiter, bytes[i] != lf, bytes[i] != cr { i += 1 }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }
        let openLine = line
        var text: [UInt8] = []
        i += 1
        while true {
            guard i < bytes.count else {
                throw CohortError.badFile(path: path, "line \(openLine), \(column(index)): unterminated quoted field "
                    + "(the quote opened on line \(openLine) is never closed; a quote inside a quoted field is written \"\")")
            }
            let b = bytes[i]
            i += 1
            if b == quote {
                guard i < bytes.count, bytes[i] == quote else { break }
                i += 1
            } else if b == lf || (b == cr && !(i < bytes.count && bytes[i] == lf)) {
                line += 1
            }
            text.append(b)
        }
        if i < bytes.count, bytes[i] != delimiter, bytes[i] != lf, bytes[i] != cr {
            let shown = String(decoding: bytes[start..<min(i + 10, bytes.count)], as: UTF8.self)
            throw CohortError.badFile(path: path, "line \(recordLine), \(column(index)): text after the closing quote "
                + "in \(shown.debugDescription)…; a quote inside a quoted field is written \"\"")
        }
        return String(decoding: text, as: UTF8.self)
    }
}
