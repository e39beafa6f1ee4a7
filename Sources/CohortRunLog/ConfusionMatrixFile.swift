// RUN_DIR/confusion.json: the held-out confusion matrix a run ends with,
// `{"labels": ["0", "1", …], "matrix": [[count, …], …]}`, rows = true class,
// columns = predicted class (docs/run-logs.md). `cohort plot` draws it.
import CohortCore
import Foundation

/// A confusion matrix with class labels, as stored in `confusion.json`.
public struct ConfusionMatrixFile: Sendable, Equatable {
    /// The file name inside a run directory.
    public static let fileName = "confusion.json"
    /// Class names, in class-index order.
    public var labels: [String]
    /// `matrix[t][p]`: held-out samples of true class `t` predicted as `p` (labels.count × labels.count).
    public var matrix: [[Int]]

    /// - Throws: `CohortError.invalidArgument` when the matrix is not square over the labels or has a negative count.
    public init(labels: [String], matrix: [[Int]]) throws {
        self.labels = labels; self.matrix = matrix
        if let problem = problem { throw CohortError.invalidArgument("confusion matrix: \(problem)") }
    }

    private init(unchecked labels: [String], _ matrix: [[Int]]) { self.labels = labels; self.matrix = matrix }

    /// What is wrong with the shape or counts, if anything.
    var problem: String? {
        if labels.isEmpty { return "\"labels\" is empty" }
        if matrix.count != labels.count { return "\"matrix\" has \(matrix.count) rows for \(labels.count) labels" }
        for (i, row) in matrix.enumerated() {
            if row.count != labels.count { return "\"matrix\" row \(i) has \(row.count) columns for \(labels.count) labels" }
            if let c = row.firstIndex(where: { $0 < 0 }) { return "\"matrix\"[\(i)][\(c)] is negative (\(row[c]))" }
        }
        return nil
    }

    /// Reads and checks a `confusion.json`.
    /// - Throws: `CohortError.badFile` naming the path and the field at fault.
    public static func read(_ path: String) throws -> ConfusionMatrixFile {
        guard let data = FileManager.default.contents(atPath: path) else { throw CohortError.badFile(path: path, "cannot read") }
        // Counts decode as Double first: Foundation reports a fractional count for an Int as "not valid JSON".
        struct Raw: Decodable { var labels: [String]; var matrix: [[Double]] }
        let raw: Raw
        do {
            raw = try JSONDecoder().decode(Raw.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw CohortError.badFile(path: path, "no \"\(key.stringValue)\" field")
        } catch let DecodingError.typeMismatch(_, context) {
            throw CohortError.badFile(path: path, "\(fieldPath(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw CohortError.badFile(path: path, "\(fieldPath(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.valueNotFound(_, context) {
            throw CohortError.badFile(path: path, "\(fieldPath(context.codingPath)) is null")
        } catch {
            throw CohortError.badFile(path: path, "not valid JSON")
        }
        var matrix: [[Int]] = []
        for (i, row) in raw.matrix.enumerated() {
            matrix.append(try row.enumerated().map { j, v in
                guard let n = Int(exactly: v) else { throw CohortError.badFile(path: path, "\"matrix\"[\(i)][\(j)] is not a whole number (\(v))") }
                return n
            })
        }
        let decoded = ConfusionMatrixFile(unchecked: raw.labels, matrix)
        if let problem = decoded.problem { throw CohortError.badFile(path: path, problem) }
        return decoded
    }

    /// Writes the file (pretty enough to read: one matrix row per line) atomically.
    /// - Throws: `CohortError.badFile` naming the path when it cannot be written.
    public func write(runDirectory: String) throws {
        let path = (runDirectory as NSString).appendingPathComponent(Self.fileName)
        let labelText = labels.map(JSONText.string).joined(separator: ", ")
        let rows = matrix.map { "    [" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ",\n")
        let text = "{\n  \"labels\": [\(labelText)],\n  \"matrix\": [\n\(rows)\n  ]\n}\n"
        do {
            try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CohortError.badFile(path: path, "cannot write: \(error.localizedDescription)")
        }
    }

    private static func fieldPath(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? "\"\($0.stringValue)\"" }.joined()
    }
}
