// One writer per checkpoint directory: the process that writes checkpoints holds an
// exclusive flock(2) on `DIR/.cohort.lock` for its whole run, and the file names the
// holder (host, PID, start, job, command) for a second writer's error. The kernel drops
// a flock when its holder dies, so a lock file that still names someone but can be
// locked was left by a dead process: stale, and taken over (docs/checkpoint-format.md).
import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a checkpoint directory, held until `release()` (or deinit).
public final class CheckpointLock {
    /// The lock file inside the checkpoint directory.
    public static let fileName = ".cohort.lock"
    /// Seconds a process waits for an earlier process of the same job (a restart's old rank 0).
    public static let sameJobWait = 30.0

    /// Who holds, or held, a lock, as its lock file records it.
    public struct Holder: Sendable, Equatable, CustomStringConvertible {
        public var host = "?", pid = "?", started = "?", job = "", command = ""
        /// `PID 1234 on host h (started 2026-12-05T08:30:53Z; cohort train …)`.
        public var description: String {
            "PID \(pid) on host \(host) (started \(started)" + (command.isEmpty ? "" : "; \(command)") + ")"
        }

        /// Parses `key=value` lines; unknown keys are ignored, values are cleaned of control characters.
        init(record: String) {
            for line in record.split(separator: "\n") {
                guard let eq = line.firstIndex(of: "=") else { continue }
                var value = String.UnicodeScalarView()
                value.append(contentsOf: line[line.index(after: eq)...].unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(300))
                switch line[..<eq] {
                case "host": host = String(value)
                case "pid": pid = String(value)
                case "started": started = String(value)
                case "job": job = String(value)
                case "command": command = String(value)
                default: break
                }
            }
        }

        /// This process.
        static func current(job: String) -> Holder {
            var h = Holder(record: "")
            var name = [CChar](repeating: 0, count: 256)
            h.host = gethostname(&name, name.count - 1) == 0 ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
            h.pid = String(getpid())
            h.started = CheckpointLock.utcNow()
            h.job = job
            h.command = CommandLine.arguments.joined(separator: " ")
            return h
        }

        var record: String {
            "cohort checkpoint lock\nhost=\(host)\npid=\(pid)\nstarted=\(started)\njob=\(job)\ncommand=\(command.replacingNewlines)\n"
        }
    }

    /// The checkpoint directory.
    public let directory: String
    /// The process that held the lock before and died holding it (a stale lock taken over), if any.
    public let previousHolder: Holder?
    private var fd: Int32

    private init(directory: String, fd: Int32, previousHolder: Holder?) {
        self.directory = directory
        self.fd = fd
        self.previousHolder = previousHolder
    }

    deinit { release() }

    /// Takes the lock of `directory` (created if missing) without blocking, and records this
    /// process in it. A holder of the same non-empty `job` (an earlier attempt of a restarted
    /// job, still exiting) is waited for up to `waitForSameJob` seconds; `waiting` is told once.
    /// - Throws: `CheckpointError.inUse` naming the live holder; `CohortError.badFile` when the lock
    ///   file cannot be opened or the file system does not support flock; `CheckpointError.io`
    ///   when the directory cannot be created.
    public static func acquire(directory: String, job: String = "", waitForSameJob: Double = 0,
                               waiting: (Holder) -> Void = { _ in }) throws -> CheckpointLock {
        try FileIO.makeDirectory(directory)
        let path = directory + "/" + fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            // A full, read-only or forbidden directory is an environment error (exit 2, not retried).
            let code = errno
            let error = FileIO.failure("cannot open the checkpoint directory's lock file", path: path, code: code)
            if case .storage = error { throw error }
            throw CohortError.badFile(path: path, "cannot open the checkpoint directory's lock file: \(String(cString: strerror(code)))")
        }
        let deadline = monotonicSeconds() + waitForSameJob
        var told = false, unknownTries = 0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else {
                close(fd)
                throw CohortError.badFile(path: path, "cannot lock (flock: \(String(cString: strerror(code)))); this file system does not "
                                          + "support the lock that keeps two runs from writing one checkpoint directory (docs/checkpoint-format.md)")
            }
            let holder = Holder(record: readRecord(fd))
            // No record: the holder is between its flock and its record, or between emptying it and
            // unlocking (a clean release). Try the lock again for a moment before naming nobody.
            if holder.pid == "?" && unknownTries < 20 {
                unknownTries += 1
                usleep(100_000)
                continue
            }
            guard !job.isEmpty, holder.job == job, monotonicSeconds() < deadline else {
                close(fd)
                throw CheckpointError.inUse(directory: directory, holder: holder.description)
            }
            if !told { waiting(holder); told = true }
            usleep(100_000)
        }
        let old = readRecord(fd)
        let previous = old.isEmpty ? nil : Holder(record: old)
        let mine = Array(Holder.current(job: job).record.utf8)
        // The record is informational (the flock is what excludes), so a failed write is not fatal.
        if ftruncate(fd, 0) == 0 { _ = mine.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } }
        return CheckpointLock(directory: directory, fd: fd, previousHolder: previous)
    }

    /// Empties the record (a clean exit leaves no stale holder) and releases the lock. Idempotent.
    public func release() {
        guard fd >= 0 else { return }
        _ = ftruncate(fd, 0)
        _ = flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    /// The lock file's content (at most 64 KiB).
    private static func readRecord(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : ""
    }

    private static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Now as `2026-12-05T08:30:53Z`.
    fileprivate static func utcNow() -> String {
        var t = time(nil)
        var parts = tm()
        gmtime_r(&t, &parts)
        var out = [CChar](repeating: 0, count: 32)
        let n = strftime(&out, out.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: out.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

private extension String {
    var replacingNewlines: String { String(unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : Character($0) }) }
}
