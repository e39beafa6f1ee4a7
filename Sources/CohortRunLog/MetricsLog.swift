// RUN_DIR/metrics.jsonl: one JSON object per line, written with one write(2)
// per record (no user-space buffer), so a crash loses at most the line being
// written. The reader skips such a torn last line; a bad line elsewhere is an
// error naming file and line. Format: docs/run-logs.md.
import CohortCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One line of `metrics.jsonl`: a step, its wall-clock time and named metric values.
public struct MetricRecord: Sendable, Equatable {
    /// One named value; NaN when the file holds `null` (JSON has no NaN or infinity).
    public struct Metric: Sendable, Equatable {
        public var name: String
        public var value: Double
        public init(name: String, value: Double) { self.name = name; self.value = value }
        public static func == (a: Metric, b: Metric) -> Bool {
            a.name == b.name && (a.value == b.value || (a.value.isNaN && b.value.isNaN))
        }
    }

    /// Training step the values belong to.
    public var step: Int
    /// Seconds since 1970 when the line was written.
    public var wallTime: Double
    /// The metrics in file order (never `step` or `wall_time`).
    public var metrics: [Metric]

    public init(step: Int, wallTime: Double, metrics: [Metric]) {
        self.step = step; self.wallTime = wallTime; self.metrics = metrics
    }

    /// The value of metric `name`, or nil when this line does not have it.
    public subscript(name: String) -> Double? { metrics.first { $0.name == name }?.value }

    /// The JSON line for this record, without the newline.
    public var jsonLine: String {
        var s = "{\"step\": \(step), \"wall_time\": \(JSONText.number(wallTime))"
        for m in metrics { s += ", \(JSONText.string(m.name)): \(JSONText.number(m.value))" }
        return s + "}"
    }
}

/// Appends `MetricRecord`s to `RUN_DIR/metrics.jsonl` (rank 0 only: one writer per file).
///
/// Opening an existing log first cuts a torn last line left by a crash, and with
/// `resumingAt:` drops the lines of steps after the checkpoint being resumed, so
/// the log continues without duplicates.
public final class MetricsLog {
    /// The file name inside a run directory.
    public static let fileName = "metrics.jsonl"
    /// Path of the log file.
    public let path: String
    private let fd: Int32

    /// Opens (creating the directory and file if needed) `runDirectory/metrics.jsonl` for appending.
    /// - Parameter resumingAt: when resuming from the checkpoint of this step, lines with a larger step are removed.
    /// - Throws: `CohortError.badFile` naming the path when it cannot be created, read or repaired.
    public init(runDirectory: String, resumingAt step: Int? = nil) throws {
        path = (runDirectory as NSString).appendingPathComponent(Self.fileName)
        do {
            try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        } catch {
            throw CohortError.badFile(path: runDirectory, "cannot create the run directory: \(error.localizedDescription)")
        }
        try Self.repair(path, keepingThrough: step)
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CohortError.badFile(path: path, "cannot open for appending: \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// Appends one line; metric names must not be `step` or `wall_time`.
    /// - Throws: `CohortError.invalidArgument` for a reserved or empty name, `CohortError.badFile` when the write fails.
    public func append(_ record: MetricRecord) throws {
        for m in record.metrics where m.name.isEmpty || m.name == "step" || m.name == "wall_time" {
            throw CohortError.invalidArgument("metrics log: '\(m.name)' cannot be a metric name (reserved or empty)")
        }
        try writeAll(Array((record.jsonLine + "\n").utf8))
    }

    /// Appends `step`, the current time and `metrics` (in this order) as one line.
    public func append(step: Int, wallTime: Double = Date().timeIntervalSince1970, _ metrics: KeyValuePairs<String, Double>) throws {
        try append(MetricRecord(step: step, wallTime: wallTime, metrics: metrics.map { .init(name: $0.key, value: $0.value) }))
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CohortError.badFile(path: path, "write failed: \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    // MARK: reading

    /// Reads every record of a metrics log.
    ///
    /// Blank lines are skipped; a last line without a newline that does not parse
    /// (torn by a crash) is skipped too.
    /// - Throws: `CohortError.badFile` with `path:line` for a missing file or a malformed line.
    public static func read(_ path: String) throws -> [MetricRecord] {
        try lines(path).records
    }

    /// The records with the original text of their lines, and whether a torn tail was skipped.
    static func lines(_ path: String) throws -> (records: [MetricRecord], texts: [Substring], torn: Bool) {
        guard FileManager.default.fileExists(atPath: path) else { throw CohortError.badFile(path: path, "no such file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw CohortError.badFile(path: path, "cannot read") }
        let text = String(decoding: data, as: UTF8.self)
        let endsWithNewline = text.hasSuffix("\n")
        let parts = text.split(separator: "\n", omittingEmptySubsequences: false)
        var records: [MetricRecord] = [], texts: [Substring] = [], torn = false
        for (index, line) in parts.enumerated() where !line.allSatisfy(\.isWhitespace) {
            do {
                records.append(try parse(line))
                texts.append(line)
            } catch let e as JSONLine.Failure {
                if index == parts.count - 1 && !endsWithNewline { torn = true; break }
                throw CohortError.badFile(path: "\(path):\(index + 1)", e.message)
            }
        }
        return (records, texts, torn)
    }

    /// Parses one line (no newline).
    static func parse(_ line: Substring) throws -> MetricRecord {
        var parser = JSONLine(line)
        let fields = try parser.fields()
        var step: Int?, wallTime: Double?, metrics: [MetricRecord.Metric] = []
        for (name, value) in fields {
            switch name {
            case "step":
                guard let s = Int(exactly: value) else { throw JSONLine.Failure(message: "\"step\" must be an integer, not \(value)") }
                step = s
            case "wall_time": wallTime = value
            default: metrics.append(.init(name: name, value: value))
            }
        }
        guard let step else { throw JSONLine.Failure(message: "no \"step\" field") }
        guard let wallTime else { throw JSONLine.Failure(message: "no \"wall_time\" field") }
        return MetricRecord(step: step, wallTime: wallTime, metrics: metrics)
    }

    /// Rewrites the log without a torn tail and without steps after `step` (temporary file + rename).
    private static func repair(_ path: String, keepingThrough step: Int?) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        let (records, texts, torn) = try lines(path)
        let keep = step.map { s in records.indices.filter { records[$0].step <= s } } ?? Array(records.indices)
        guard torn || keep.count != records.count else { return }
        let body = keep.map { texts[$0] + "\n" }.joined()
        let tmp = path + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(body.utf8)),
              rename(tmp, path) == 0 else {
            throw CohortError.badFile(path: path, "cannot rewrite the log to continue it: \(String(cString: strerror(errno)))")
        }
    }
}
