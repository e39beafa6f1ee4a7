// Scalars and images for TensorBoard: RUN_DIR/events.out.tfevents.<unix-seconds>.<hostname>,
// TFRecord-framed `Event` protos: `file_version` first, then one event per step.
// Each record is one write(2), so a crash leaves at most one incomplete record,
// which TensorBoard's reader (and `TensorBoardWriter.read`) ignores.
import CohortCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes scalar and image summaries to a new TensorBoard event file (rank 0 only).
///
/// A resumed run opens a new file; TensorBoard reads a run directory's files in
/// name order and drops ("purges") earlier events whose step is at or after the
/// first step it sees go backwards, so resumed curves do not double up.
public final class TensorBoardWriter {
    /// The version string TensorBoard expects in the first record.
    public static let fileVersion = "brain.Event:2"
    /// Path of the event file.
    public let path: String
    private let fd: Int32

    /// Creates `runDirectory/events.out.tfevents.<unix-seconds>.<hostname>` (a `.1`, `.2`, … suffix if it exists)
    /// and writes the `file_version` event.
    /// - Throws: `CohortError.badFile` naming the path when it cannot be created or written.
    public init(runDirectory: String, wallTime: Double = Date().timeIntervalSince1970, hostname: String = TensorBoardWriter.hostname()) throws {
        do {
            try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        } catch {
            throw CohortError.badFile(path: runDirectory, "cannot create the run directory: \(error.localizedDescription)")
        }
        let base = (runDirectory as NSString).appendingPathComponent("events.out.tfevents.\(Int(wallTime)).\(hostname)")
        var candidate = base, suffix = 0, handle: Int32 = -1
        while true {
            handle = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if handle >= 0 || errno != EEXIST || suffix >= 1000 { break }
            suffix += 1
            candidate = "\(base).\(suffix)"
        }
        guard handle >= 0 else { throw CohortError.badFile(path: candidate, "cannot create the event file: \(String(cString: strerror(errno)))") }
        path = candidate
        fd = handle
        try write(TensorBoardEvent(wallTime: wallTime, step: 0, payload: .fileVersion(Self.fileVersion)))
    }

    deinit { close(fd) }

    /// Writes one event with the scalars of `step` (tags such as `train/loss`, in order).
    /// - Throws: `CohortError.badFile` when the write fails.
    public func add(step: Int, wallTime: Double = Date().timeIntervalSince1970, _ scalars: KeyValuePairs<String, Float>) throws {
        try add(step: step, wallTime: wallTime, scalars: scalars.map { ScalarValue(tag: $0.key, value: $0.value) })
    }

    /// Writes one event with the scalars of `step`.
    /// - Throws: `CohortError.badFile` when the write fails.
    public func add(step: Int, wallTime: Double = Date().timeIntervalSince1970, scalars: [ScalarValue]) throws {
        try write(TensorBoardEvent(wallTime: wallTime, step: Int64(step), payload: .scalars(scalars)))
    }

    /// Writes one event with an encoded image (PNG file bytes) under `tag` at `step`: TensorBoard's Images dashboard.
    /// - Throws: `CohortError.badFile` when the write fails.
    public func addImage(step: Int, wallTime: Double = Date().timeIntervalSince1970, _ image: ImageValue) throws {
        try write(TensorBoardEvent(wallTime: wallTime, step: Int64(step), payload: .images([image])))
    }

    private func write(_ event: TensorBoardEvent) throws {
        let bytes = TFRecord.frame(EventCodec.encode(event))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw CohortError.badFile(path: path, "write failed: \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    /// The events of an event file, CRCs checked (an incomplete last record is ignored).
    /// - Throws: `CohortError.badFile` for a missing file, a CRC mismatch or a record that is not an `Event`.
    public static func read(_ path: String) throws -> [TensorBoardEvent] {
        guard let data = FileManager.default.contents(atPath: path) else { throw CohortError.badFile(path: path, "cannot read") }
        return try TFRecord.records(Array(data), path: path).enumerated().map { i, record in
            guard let e = EventCodec.decode(record) else { throw CohortError.badFile(path: path, "record \(i + 1) is not an Event message") }
            return e
        }
    }

    /// This machine's host name ("localhost" if unknown); dots are kept, slashes replaced.
    public static func hostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).replacingOccurrences(of: "/", with: "_")
        return name.isEmpty ? "localhost" : name
    }
}
