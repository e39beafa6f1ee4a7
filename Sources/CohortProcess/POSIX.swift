// The one file of CohortProcess that calls Glibc for processes and files: spawning
// a child in its own process group, close-on-exec pipes, signals to a whole group,
// waitpid, single and whole-buffer writes, a monotonic clock and UTC time stamps.
// Everything above it (the launcher, every command that starts a child) speaks Swift types.
import Foundation
import Glibc

/// Thin, throwing wrappers over the system calls the launcher and the commands need.
package enum POSIX {
    package static let sigterm = SIGTERM
    package static let sigkill = SIGKILL
    package static let sigcont = SIGCONT

    /// The conventional name of a signal number (`SIGKILL` for 9), or `SIG<n>`.
    package static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGHUP: return "SIGHUP"
        case SIGINT: return "SIGINT"
        case SIGQUIT: return "SIGQUIT"
        case SIGILL: return "SIGILL"
        case SIGTRAP: return "SIGTRAP"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        case SIGKILL: return "SIGKILL"
        case SIGUSR1: return "SIGUSR1"
        case SIGSEGV: return "SIGSEGV"
        case SIGUSR2: return "SIGUSR2"
        case SIGPIPE: return "SIGPIPE"
        case SIGALRM: return "SIGALRM"
        case SIGTERM: return "SIGTERM"
        case SIGCONT: return "SIGCONT"
        case SIGSTOP: return "SIGSTOP"
        case SIGXCPU: return "SIGXCPU"
        default: return "SIG\(signal)"
        }
    }

    /// Seconds on a clock that never jumps (CLOCK_MONOTONIC).
    package static func monotonicNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// `strerror` of an errno value.
    package static func errorString(_ code: Int32) -> String { String(cString: strerror(code)) }

    package static func isRoot() -> Bool { geteuid() == 0 }

    /// `2025-01-31T12:00:00.123Z`: ISO 8601, UTC, milliseconds.
    package static func iso8601UTC(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        var seconds = time_t(t.rounded(.down))
        var millis = Int(((t - Double(seconds)) * 1000).rounded(.down))
        if millis >= 1000 { seconds += 1; millis = 0 }
        var tm = Glibc.tm()
        gmtime_r(&seconds, &tm)
        func pad(_ v: Int32, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return "\(pad(tm.tm_year + 1900, 4))-\(pad(tm.tm_mon + 1, 2))-\(pad(tm.tm_mday, 2))T"
            + "\(pad(tm.tm_hour, 2)):\(pad(tm.tm_min, 2)):\(pad(tm.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    // MARK: files

    /// Opens `path` for appending (created 0644); the fd closes on exec.
    package static func openAppend(_ path: String) throws(ProcessError) -> Int32 {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system("cannot open: \(errorString(errno))") }
        return fd
    }

    /// Writes `bytes` with one write(2) call (retried only on EINTR, which writes
    /// nothing), so an O_APPEND writer never interleaves half a record.
    /// Returns an error message, or nil on success.
    package static func writeOnce(_ fd: Int32, _ bytes: [UInt8]) -> String? {
        while true {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n == bytes.count { return nil }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return errorString(errno) }
            return "short write (\(n) of \(bytes.count) bytes; disk full?)"
        }
    }

    /// Writes all of `bytes`, looping over short writes; errors are ignored
    /// (used to forward a child's output, where a closed terminal must not stop supervision).
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }

    package static func fsyncFD(_ fd: Int32) -> String? { fsync(fd) == 0 ? nil : errorString(errno) }

    package static func closeFD(_ fd: Int32) { _ = close(fd) }

    /// Held while a pipe is created and marked close-on-exec and while a child is
    /// spawned: `pipe2` is not visible to Swift, and without this a child spawned
    /// by another thread in between could inherit this pipe and keep it from
    /// reaching EOF.
    private static let spawnLock = NSLock()

    /// Opens `path` read-only or write-only (`/dev/null` for a discarded stream); the fd closes on exec.
    package static func openFile(_ path: String, writing: Bool) throws(ProcessError) -> Int32 {
        let fd = open(path, (writing ? O_WRONLY : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else { throw .system("cannot open \(path): \(errorString(errno))") }
        return fd
    }

    /// A pipe whose two ends close on exec.
    package static func makePipe() throws(ProcessError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        spawnLock.lock()
        defer { spawnLock.unlock() }
        guard pipe(&fds) == 0 else {
            throw .system("pipe failed: \(errorString(errno))")
        }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }

    /// Reads up to `buffer.count` bytes; returns 0 at EOF, -1 on error (not EINTR).
    package static func readSome(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// Waits until one of `fds` is readable (or hung up) or `timeout` seconds pass;
    /// returns the indices of the ready fds.
    package static func pollReadable(_ fds: [Int32], timeout: Double) -> [Int] {
        var entries = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let ms = Int32(max(0, min(timeout, 3600)) * 1000)
        let n = poll(&entries, nfds_t(entries.count), ms)
        guard n > 0 else { return [] }
        return entries.indices.filter { entries[$0].revents != 0 }
    }

    // MARK: processes

    /// Starts `argv` (PATH lookup when argv[0] has no `/`) as the leader of a new
    /// process group, stdin from /dev/null (or this process's own with `inheritStdin`),
    /// stdout/stderr on the given fds (1 and 2: this process's own), with exactly
    /// `environment`, default signal dispositions and an empty signal mask.
    /// Returns the pid, which is also the process group id.
    package static func spawn(argv: [String], environment: [String: String],
                              stdout: Int32, stderr: Int32, inheritStdin: Bool = false) throws(ProcessError) -> Int32 {
        guard let program = argv.first else { throw .system("cannot start an empty command") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if !inheritStdin { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        if stdout != 1 { posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
        if stderr != 2 { posix_spawn_file_actions_adddup2(&actions, stderr, 2) }

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setpgroup(&attr, 0)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attr, &mask)
        // The launcher may ignore SIGPIPE or handle SIGTERM; the child must not inherit that.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM] {
            sigaddset(&defaults, s)
        }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        // Sorted so the child's environment does not depend on Dictionary order.
        let envStrings = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        var cArgv: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = envStrings.map { strdup($0) } + [nil]
        defer {
            for p in cArgv { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        spawnLock.lock()
        let rc = posix_spawnp(&pid, program, &actions, &attr, &cArgv, &cEnv)
        spawnLock.unlock()
        guard rc == 0 else { throw .commandFailed(command: program, "cannot start: \(errorString(rc))") }
        return pid
    }

    /// `spawn` with standard output and error on two new close-on-exec pipes (stdin from
    /// /dev/null); returns the pid and the pipes' read ends, the write ends already closed.
    package static func spawnPiped(argv: [String], environment: [String: String]) throws(ProcessError)
        -> (pid: Int32, stdout: Int32, stderr: Int32) {
        let out = try makePipe()
        let err: (read: Int32, write: Int32)
        do { err = try makePipe() } catch {
            closeFD(out.read); closeFD(out.write)
            throw error
        }
        let pid: Int32
        do {
            pid = try spawn(argv: argv, environment: environment, stdout: out.write, stderr: err.write)
        } catch {
            for fd in [out.read, out.write, err.read, err.write] { closeFD(fd) }
            throw error
        }
        closeFD(out.write)
        closeFD(err.write)
        return (pid, out.read, err.read)
    }

    /// Decodes a waitpid status word (the W* macros are not imported into Swift).
    private static func decode(_ status: Int32) -> TerminationStatus {
        let low = status & 0x7f
        return low == 0 ? .exited((status >> 8) & 0xff) : .signaled(low)
    }

    /// Reaps `pid` if it has ended; nil while it runs.
    package static func reapIfExited(_ pid: Int32) -> TerminationStatus? {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return decode(status) }
            if r < 0 && errno == EINTR { continue }
            return nil
        }
    }

    /// Blocks until `pid` ends and reaps it.
    package static func reap(_ pid: Int32) -> TerminationStatus {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, 0)
            if r == pid { return decode(status) }
            if r < 0 && errno == EINTR { continue }
            // ECHILD: someone else reaped it; report what little we know.
            return .signaled(0)
        }
    }

    /// Sends `signal` to every process of group `pgid`; false when the group is gone.
    @discardableResult
    package static func signalGroup(_ pgid: Int32, _ signal: Int32) -> Bool {
        guard pgid > 1 else { return false }
        return kill(-pgid, signal) == 0
    }

    /// Sends `signal` to the single process `pid` (not its group); false when it is gone.
    @discardableResult
    package static func signalProcess(_ pid: Int32, _ signal: Int32) -> Bool {
        guard pid > 1 else { return false }
        return kill(pid, signal) == 0
    }

    /// Pids of the processes of group `pgid` that are not zombies. Zombies are
    /// skipped because an orphan's zombie may never be reaped (a container's
    /// pid 1 often does not reap), and it cannot be killed anyway.
    package static func liveMembers(ofGroup pgid: Int32) -> [Int32] {
        guard pgid > 1, kill(-pgid, 0) == 0 || errno == EPERM else { return [] }
        guard let dir = opendir("/proc") else { return [pgid] }
        defer { closedir(dir) }
        var members: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = Int32(name) else { continue }
            let fd = open("/proc/\(name)/stat", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { readSome(fd, $0) }
            close(fd)
            guard n > 0 else { continue }
            // "pid (comm) S ppid pgrp …"; comm may hold spaces and parentheses.
            let text = String(decoding: buffer[0..<n], as: UTF8.self)
            guard let close = text.lastIndex(of: ")") else { continue }
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 2, fields[0] != "Z", fields[0] != "X", Int32(fields[2]) == pgid else { continue }
            members.append(pid)
        }
        return members
    }

    package static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        usleep(UInt32(min(seconds, 1) * 1_000_000))
    }
}
