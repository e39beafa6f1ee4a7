// New inputs for a model, read from files into raw rows (before normalization):
// CSV tables (a header is optional; the training CSV's label column is dropped),
// NumPy `.npy` arrays of shape [N, …], IDX image files (MNIST format), and text
// prompts, one per line. Every error names the file, and where it applies the
// line or row and the expected against the actual feature count.
import CohortCore
import CohortData
import Foundation

/// The kinds of input file `cohort predict` reads.
public enum InputFormat: String, CaseIterable, Sendable {
    case csv, npy, idx, text

    /// The format a file name suggests: `.csv`, `.npy`, IDX names (`…-idx3-ubyte[.gz]`, `.idx`), else text.
    public static func guess(path: String) -> InputFormat {
        let name = (path as NSString).lastPathComponent.lowercased()
        if name.hasSuffix(".csv") { return .csv }
        if name.hasSuffix(".npy") { return .npy }
        if name.contains("idx") || name.contains("ubyte") { return .idx }
        return .text
    }
}

/// Raw rows read from a file: `count` samples of `features` values each, row-major.
public struct InputRows: Sendable {
    public var values: [Float]
    public var count: Int
}

/// Readers of model inputs, checked against the model's metadata.
public enum InferenceInput {
    /// Rows of a CSV file. With a header naming every recorded feature column, those columns are
    /// taken by name (others, such as the label column, are ignored); otherwise a row must hold
    /// exactly the model's feature count, or one more (the training CSV's last column, the
    /// default label column, is then dropped). A header is recognised by a non-numeric field in the first line.
    /// - Throws: `CohortError.badFile(path:, …)` naming the line (and column) of a ragged row, a
    ///   non-numeric value, a missing feature column, or a column count that fits neither rule.
    public static func csv(path: String, metadata: InferenceMetadata) throws -> InputRows {
        let d = metadata.featureCount
        let raw = try CSVTable.read(path: path, hasHeader: false)
        let first = raw.rows[0]
        let hasHeader = first.contains { Float($0.trimmingCharacters(in: .whitespaces)) == nil }
        let rows = hasHeader ? Array(raw.rows.dropFirst()) : raw.rows
        let lines = hasHeader ? Array(raw.lineNumbers.dropFirst()) : raw.lineNumbers
        guard !rows.isEmpty else { throw CohortError.badFile(path: path, "only a header (line \(raw.lineNumbers[0])), no rows to predict") }
        let width = first.count
        let columns: [Int]
        if hasHeader, let names = metadata.featureNames, names.allSatisfy({ first.contains($0) }) {
            columns = names.map { n in first.firstIndex(of: n)! }
        } else if hasHeader, let names = metadata.featureNames, width != d && width != d + 1 {
            let missing = names.filter { !first.contains($0) }
            throw CohortError.badFile(path: path, "line \(raw.lineNumbers[0]) (the header): no column named "
                + missing.map { "'\($0)'" }.joined(separator: ", ") + "; the model takes the \(d) features " + names.joined(separator: ", "))
        } else if width == d {
            columns = Array(0..<d)
        } else if width == d + 1 {
            columns = Array(0..<d)   // the training CSV's last column: the default label column
        } else {
            throw CohortError.badFile(path: path, "line \(raw.lineNumbers[0]): \(width) columns, but the model takes \(d) features "
                + "(a row holds \(d) values, or \(d + 1) with the training CSV's label column last)")
        }
        var values: [Float] = []
        values.reserveCapacity(rows.count * d)
        for (row, line) in zip(rows, lines) {
            for c in columns {
                let text = row[c].trimmingCharacters(in: .whitespaces)
                guard let v = Float(text), v.isFinite else {
                    let name = hasHeader ? " '\(first[c])'" : ""
                    throw CohortError.badFile(path: path, "line \(line), column \(c + 1)\(name): \(text.isEmpty ? "empty value" : "non-numeric value \(text.debugDescription)")")
                }
                values.append(v)
            }
        }
        return InputRows(values: values, count: rows.count)
    }

    /// Rows of a `.npy` array of shape `[N, …]` whose trailing dimensions hold the model's feature count
    /// (`[N, 4]`, `[N, 784]` or `[N, 1, 28, 28]`); float32, float64 or integer data.
    /// - Throws: `CohortError.badFile(path:, …)` for an unreadable file or a shape that does not fit.
    public static func npy(path: String, metadata: InferenceMetadata) throws -> InputRows {
        let a = try NPY.read(path: path)
        let d = metadata.featureCount
        guard a.shape.count >= 2 || (a.shape.count == 1 && d == 1) else {
            throw CohortError.badFile(path: path, "shape \(a.shape): expected [N, …] with \(d) values per row (shape \([-1] + metadata.inputShape))")
        }
        let n = a.shape.first ?? 0
        let per = a.shape.dropFirst().reduce(1, *)
        guard per == d else {
            throw CohortError.badFile(path: path, "shape \(a.shape) has \(per) values per row, but the model takes \(d) (shape \(["N"] + metadata.inputShape.map(String.init)))")
        }
        if let bad = a.values.firstIndex(where: { !$0.isFinite }) {
            throw CohortError.badFile(path: path, "row \(bad / max(d, 1)): non-finite value \(a.values[bad])")
        }
        return InputRows(values: a.values, count: n)
    }

    /// Images of an IDX file (unsigned bytes, gzip-compressed or raw) as pixel values 0…255.
    /// - Throws: `CohortError.badFile(path:, …)` for a damaged file or images of another size.
    public static func idx(path: String, metadata: InferenceMetadata) throws -> InputRows {
        let a = try IDX.read(path: path)
        let d = metadata.featureCount
        let per = a.itemShape.reduce(1, *)
        guard a.shape.count >= 2, per == d else {
            throw CohortError.badFile(path: path, "items of shape \(a.itemShape) have \(per) values, but the model takes \(d) (shape \(metadata.inputShape))")
        }
        return InputRows(values: a.bytes.map { Float($0) }, count: a.count)
    }

    /// Text prompts, one per line (the final line break is optional; `\r\n` endings are accepted).
    /// - Throws: `CohortError.badFile(path:, …)` for an unreadable or non-UTF-8 file, or an empty line.
    public static func prompts(path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CohortError.badFile(path: path, "cannot read the file") }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CohortError.badFile(path: path, "not UTF-8 text")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        if lines.last == "" { lines.removeLast() }
        if let empty = lines.firstIndex(of: "") { throw CohortError.badFile(path: path, "line \(empty + 1): empty prompt") }
        guard !lines.isEmpty else { throw CohortError.badFile(path: path, "no prompts (the file is empty)") }
        return lines
    }
}
