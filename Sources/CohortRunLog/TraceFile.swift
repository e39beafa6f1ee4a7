// A rank's timeline as a Chrome trace-event file (the "JSON Object Format":
// {"traceEvents":[…],"displayTimeUnit":"ms","otherData":{…}}), as `cohort train
// --trace FILE` writes it per rank: complete events ("ph":"X", ts/dur in µs on the
// wall clock's axis, pid = rank, tid = thread) and metadata events naming the
// process "rank N" and its threads. docs/trace.md describes the file and the clocks.
import CohortCore
import Foundation

/// Writing a rank's trace file, and the file names of a job's ranks.
public enum TraceFile {
    /// Marks a Cohort trace in `otherData` (read by `cohort trace merge`).
    public static let format = "cohort-trace-1"

    /// Rank `rank`'s file for `path`: `.rankN` inserted before the extension
    /// (`trace.json` → `trace.rank0.json`), or appended when the name has none (`trace` → `trace.rank0`).
    public static func rankPath(_ path: String, rank: Int) -> String {
        let url = URL(fileURLWithPath: path)
        let name = url.lastPathComponent
        let directory = String(path.dropLast(name.count))
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return directory + name[..<dot] + ".rank\(rank)" + name[dot...]
        }
        return directory + name + ".rank\(rank)"
    }

    /// Creates (empties) `path` before a run, so an unwritable path fails at once, not after training.
    /// - Throws: `CohortError.badFile` naming the file and the system's reason.
    public static func checkWritable(_ path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data()) else {
            let reason = String(cString: strerror(errno))
            throw CohortError.badFile(path: path, "cannot write the trace file (\(reason))")
        }
    }

    /// What identifies a rank's file within its job.
    public struct Identity: Sendable {
        public var rank: Int, worldSize: Int
        /// The same on every rank of one run (rank 0's random id, broadcast), so merge can tell files of different runs apart.
        public var runID: String
        /// This rank's wall clock (µs since the Unix epoch) right after a barrier every rank left together:
        /// `cohort trace merge --align barrier` lines these up. Nil: not measured.
        public var barrierWallMicroseconds: Int64?
        public init(rank: Int, worldSize: Int, runID: String, barrierWallMicroseconds: Int64? = nil) {
            (self.rank, self.worldSize, self.runID, self.barrierWallMicroseconds) = (rank, worldSize, runID, barrierWallMicroseconds)
        }
    }

    /// µs since the Unix epoch of a monotonic instant of `recorder`, floored (floor keeps nesting exact).
    public static func wallMicroseconds(_ monotonic: UInt64, _ recorder: TraceRecorder) -> Int64 {
        let ns = Int64(bitPattern: recorder.epochOriginNanoseconds) + (Int64(bitPattern: monotonic) - Int64(bitPattern: recorder.monotonicOrigin))
        return ns >= 0 ? ns / 1000 : (ns - 999) / 1000
    }

    /// Writes `recorder`'s events as `identity.rank`'s trace at `path` (atomically). Returns the
    /// events dropped because a thread's buffer was full (0: none).
    /// - Throws: `CohortError.badFile` naming the file when it cannot be written.
    @discardableResult
    public static func write(_ recorder: TraceRecorder, identity: Identity, to path: String) throws -> Int {
        let names = recorder.nameTable
        let pid = identity.rank
        var out = "{\"traceEvents\":[\n"
        out += "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":\(pid),\"tid\":0,\"args\":{\"name\":\"rank \(pid)\"}},\n"
        out += "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":\(pid),\"tid\":0,\"args\":{\"sort_index\":\(pid)}}"
        var dropped = 0
        for thread in recorder.threads() {
            dropped += thread.dropped
            out += ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":\(pid),\"tid\":\(thread.tid),\"args\":{\"name\":\(jsonStringLiteral(thread.name))}}"
            out += ",\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":\(pid),\"tid\":\(thread.tid),\"args\":{\"sort_index\":\(thread.tid)}}"
            // Parents before children: by start, then the longer first.
            let events = thread.events.sorted { $0.start != $1.start ? $0.start < $1.start : $0.end > $1.end }
            for e in events {
                let info = names[Int(e.name)]
                let ts = wallMicroseconds(e.start, recorder), end = wallMicroseconds(max(e.end, e.start), recorder)
                out += ",\n{\"ph\":\"X\",\"name\":\(jsonStringLiteral(info.name)),\"cat\":\"\(info.category)\",\"pid\":\(pid),\"tid\":\(thread.tid),\"ts\":\(ts),\"dur\":\(end - ts)"
                if let key = info.argument { out += ",\"args\":{\"\(key)\":\(e.argument)}" }
                out += "}"
            }
        }
        out += "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"format\":\"\(format)\",\"rank\":\(identity.rank),\"world_size\":\(identity.worldSize)"
        out += ",\"run_id\":\(jsonStringLiteral(identity.runID)),\"clock\":\"unix_epoch_us\",\"dropped_events\":\(dropped)"
        if let b = identity.barrierWallMicroseconds { out += ",\"barrier_wall_us\":\(b)" }
        out += "}}\n"
        do { try Data(out.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw CohortError.badFile(path: path, "cannot write the trace file (\(error.localizedDescription))")
        }
        return dropped
    }
}
