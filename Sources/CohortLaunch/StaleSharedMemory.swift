// Open MPI's shared-memory files left behind on this node by jobs that were killed
// (SIGKILL to mpirun or its ranks skips MPI_Finalize): vader's 4 MiB-per-rank
// segments and shmem backing files in /dev/shm, and session directories under
// $TMPDIR/ompi.<host>.<uid>/pid.<mpirun pid>. Only files nothing alive still uses go.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finds and removes Open MPI's leftovers of dead jobs on this node. A file or directory is
/// removed only when all of these hold: it is owned by this user; its name matches Open
/// MPI 4.1's patterns and this host's name; no live process maps it or has it open (a scan
/// of `/proc/*/maps` and `/proc/*/fd`); the PID in its name (creator or mpirun) is dead, as
/// is the mpirun whose session directory names its job; and it is older than `minimumAge`.
public struct StaleSharedMemory: Sendable {
    /// What one sweep removed (path, bytes) and kept (path, reason).
    public struct Sweep: Sendable {
        public var removed: [(path: String, bytes: Int)] = []
        public var kept: [(path: String, reason: String)] = []
        public var bytesRemoved: Int { removed.reduce(0) { $0 + $1.bytes } }
    }

    /// Where Open MPI puts shared-memory segments (its `btl_vader_backing_directory` default).
    public var shmDirectory = "/dev/shm"
    /// Where session directories live (Open MPI uses `$TMPDIR`, else /tmp).
    public var sessionRoots: [String]
    /// Host names that count as this node in file names (full and short).
    public var hostNames: [String]
    /// Files modified less than this many seconds ago are never touched: a job may be
    /// between creating a segment and mapping it.
    public var minimumAge: Double = 5

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        var roots = ["/tmp"]
        if let t = environment["TMPDIR"], !t.isEmpty, t != "/tmp" { roots.insert(t, at: 0) }
        sessionRoots = roots
        let host = ProcessInfo.processInfo.hostName
        var names = [host]
        if let short = host.split(separator: ".").first.map(String.init), short != host { names.append(short) }
        var buf = [CChar](repeating: 0, count: 256)
        if gethostname(&buf, 255) == 0 {
            let h = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !h.isEmpty && !names.contains(h) { names.append(h) }
            if let s = h.split(separator: ".").first.map(String.init), !names.contains(s) { names.append(s) }
        }
        hostNames = names
    }

    /// A leftover candidate: its path, the PIDs that must all be dead, and the Open MPI job
    /// family (upper 16 bits of the job id) it belongs to, when the name says.
    struct Candidate: Equatable {
        var path: String
        var pids: [Int32]
        var jobFamily: UInt32?
        var isDirectory: Bool
    }

    /// Candidates by name: `vader_segment.<host>.<uid>.<jobid hex>.<rank>`, `osc_sm.<host>.<jobid hex>.…`,
    /// `open_mpi_shmem_mmap.<pid>_…` in `shmDirectory`; `ompi.<host>.<uid>/pid.<pid>` in the session roots.
    func candidates(uid: UInt32 = geteuid()) -> [Candidate] {
        var out: [Candidate] = []
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: shmDirectory))?.sorted() ?? [] {
            let path = shmDirectory + "/" + name
            if let rest = Self.dropPrefix("vader_segment.", name), let tail = hostTail(rest) {
                // <uid>.<jobid>.<rank>
                let f = tail.split(separator: ".")
                guard f.count == 3, UInt32(f[0]) == uid, let job = UInt32(f[1], radix: 16) else { continue }
                out.append(Candidate(path: path, pids: [], jobFamily: job >> 16, isDirectory: false))
            } else if let rest = Self.dropPrefix("osc_sm.", name), let tail = hostTail(rest) {
                guard let job = tail.split(separator: ".").first.flatMap({ UInt32($0, radix: 16) }) else { continue }
                out.append(Candidate(path: path, pids: [], jobFamily: job >> 16, isDirectory: false))
            } else if let rest = Self.dropPrefix("open_mpi_shmem_mmap.", name) {
                guard let pid = rest.split(separator: "_").first.flatMap({ Int32($0) }) else { continue }
                out.append(Candidate(path: path, pids: [pid], jobFamily: nil, isDirectory: false))
            }
        }
        for root in sessionRoots {
            for host in hostNames {
                let top = "\(root)/ompi.\(host).\(uid)"
                for name in (try? fm.contentsOfDirectory(atPath: top))?.sorted() ?? [] {
                    guard let pid = Self.dropPrefix("pid.", name).flatMap({ Int32($0) }) else { continue }
                    out.append(Candidate(path: top + "/" + name, pids: [pid], jobFamily: nil, isDirectory: true))
                }
            }
        }
        return out
    }

    /// Removes the leftovers of dead jobs; never throws (a file it cannot remove is reported as kept).
    public func sweep(now: Date = Date()) -> Sweep {
        let uid = geteuid()
        let found = candidates(uid: uid)
        var result = Sweep()
        guard !found.isEmpty else { return result }
        let inUse = Self.pathsInUse()
        let liveFamilies = liveSessionFamilies(uid: uid)
        for c in found {
            var st = stat()
            guard lstat(c.path, &st) == 0 else { continue }
            let reason: String?
            if st.st_uid != uid {
                reason = "owned by uid \(st.st_uid)"
            } else if now.timeIntervalSince1970 - Double(st.st_mtim.tv_sec) < minimumAge {
                reason = "modified less than \(Int(minimumAge)) s ago"
            } else if let pid = c.pids.first(where: Self.isAlive) {
                reason = "process \(pid) is alive"
            } else if let family = c.jobFamily, let pid = liveFamilies[family] {
                reason = "its job's mpirun (pid \(pid)) is alive"
            } else if let user = inUse.first(where: { $0.path == c.path || (c.isDirectory && $0.path.hasPrefix(c.path + "/")) }) {
                reason = "in use by process \(user.pid)"
            } else {
                reason = nil
            }
            if let reason { result.kept.append((c.path, reason)); continue }
            let bytes = c.isDirectory ? Self.treeBytes(c.path) : Int(st.st_size)
            do {
                try FileManager.default.removeItem(atPath: c.path)
                result.removed.append((c.path, bytes))
            } catch {
                result.kept.append((c.path, "cannot remove: \(error.localizedDescription)"))
            }
        }
        return result
    }

    /// `rest` after `host.` for one of this node's names, else nil.
    func hostTail(_ rest: Substring) -> Substring? {
        for host in hostNames where rest.hasPrefix(host + ".") { return rest.dropFirst(host.count + 1) }
        return nil
    }

    static func dropPrefix(_ prefix: String, _ s: String) -> Substring? {
        s.hasPrefix(prefix) ? s.dropFirst(prefix.count) : nil
    }

    /// The process exists (kill(pid, 0) succeeds or fails only for lack of permission) and is
    /// not a zombie (a killed mpirun nobody has reaped yet uses nothing any more).
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")"), stat.index(close, offsetBy: 2) < stat.endIndex else { return true }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    /// Job family → pid of a live mpirun, from each session directory's `contact.txt`
    /// (`<jobid>.<vpid>;<uri>` then the pid).
    func liveSessionFamilies(uid: UInt32) -> [UInt32: Int32] {
        var out: [UInt32: Int32] = [:]
        for root in sessionRoots {
            for host in hostNames {
                let top = "\(root)/ompi.\(host).\(uid)"
                for name in (try? FileManager.default.contentsOfDirectory(atPath: top)) ?? [] {
                    guard let pid = Self.dropPrefix("pid.", name).flatMap({ Int32($0) }), Self.isAlive(pid),
                          let text = try? String(contentsOfFile: "\(top)/\(name)/contact.txt", encoding: .utf8),
                          let job = text.split(separator: ".").first.flatMap({ UInt32($0) }) else { continue }
                    out[job >> 16] = pid
                }
            }
        }
        return out
    }

    /// Every file some live process maps or holds open (`(deleted)` suffixes stripped).
    static func pathsInUse(proc: String = "/proc") -> [(path: String, pid: Int32)] {
        var out: [(String, Int32)] = []
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: proc)) ?? [] {
            guard let pid = Int32(entry) else { continue }
            if let maps = try? String(contentsOfFile: "\(proc)/\(entry)/maps", encoding: .utf8) {
                for line in maps.split(separator: "\n") {
                    guard let slash = line.firstIndex(of: "/") else { continue }
                    var path = String(line[slash...])
                    if path.hasSuffix(" (deleted)") { path.removeLast(" (deleted)".count) }
                    out.append((path, pid))
                }
            }
            for fd in (try? fm.contentsOfDirectory(atPath: "\(proc)/\(entry)/fd")) ?? [] {
                if let target = try? fm.destinationOfSymbolicLink(atPath: "\(proc)/\(entry)/fd/\(fd)"), target.hasPrefix("/") {
                    out.append((target, pid))
                }
            }
        }
        return out
    }

    static func treeBytes(_ path: String) -> Int {
        var total = 0
        if let e = FileManager.default.enumerator(atPath: path) {
            for case let name as String in e {
                var st = stat()
                if lstat(path + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG { total += Int(st.st_size) }
            }
        }
        return total
    }
}

extension Coordinator {
    /// Before each attempt: removes this node's Open MPI leftovers of killed jobs (earlier
    /// launches, or ranks of the previous attempt) and logs `stale_shm_removed`.
    func sweepStaleSharedMemory() throws {
        let sweep = StaleSharedMemory().sweep()
        guard !sweep.removed.isEmpty else { return }
        try log.log(event: "stale_shm_removed", fields: ["paths": .strings(sweep.removed.map(\.path)), "bytes": .int(sweep.bytesRemoved)])
        say("removed \(sweep.removed.count) stale Open MPI shared-memory file\(sweep.removed.count == 1 ? "" : "s") "
            + "(\(sweep.bytesRemoved / 1024) KiB) left by killed jobs on this node")
    }
}
