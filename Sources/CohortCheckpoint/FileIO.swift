// Durable file primitives on POSIX descriptors: full writes, positional reads,
// fsync of files and directories. Foundation's atomic write does not fsync the
// directory, which is what makes a rename durable.
#if canImport(Glibc)
import Glibc
#endif

enum FileIO {
    static func errorText() -> String { String(cString: strerror(errno)) }

    /// Opens `path` for writing (created, truncated).
    static func create(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CheckpointError.io(path: path, "cannot create: \(errorText())") }
        return fd
    }

    /// Writes all `count` bytes, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ p: UnsafeRawPointer, _ count: Int, path: String) throws {
        var done = 0
        while done < count {
            let n = write(fd, p + done, min(count - done, 1 << 30))
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.io(path: path, "write failed: \(errorText())")
            }
            done += n
        }
    }

    /// Reads exactly `count` bytes at `offset`.
    static func readExactly(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ count: Int, offset: UInt64, path: String) throws {
        var done = 0
        while done < count {
            let n = pread(fd, p + done, min(count - done, 1 << 30), off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw CheckpointError.io(path: path, "read failed: \(errorText())")
            }
            if n == 0 { throw CheckpointError.corrupt(path: path, "file ends early: wanted \(count) bytes at offset \(offset), got \(done)") }
            done += n
        }
    }

    static func fsyncFile(_ fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else { throw CheckpointError.io(path: path, "fsync failed: \(errorText())") }
    }

    /// fsync of a directory, so renames and creations inside it are durable.
    static func fsyncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError.io(path: path, "cannot open directory: \(errorText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw CheckpointError.io(path: path, "fsync of directory failed: \(errorText())") }
    }

    /// Size of a regular file, or nil if it does not exist / is not a file.
    static func fileSize(_ path: String) -> UInt64? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return UInt64(st.st_size)
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func makeDirectory(_ path: String) throws {
        if isDirectory(path) { return }
        // Create parents first.
        let parent = NSStringLike(s: path).deletingLastPathComponent
        if !parent.isEmpty && parent != path && !isDirectory(parent) { try makeDirectory(parent) }
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw CheckpointError.io(path: path, "cannot create directory: \(errorText())")
        }
    }

    /// Removes a directory tree (best effort).
    static func removeTree(_ path: String) {
        guard let d = opendir(path) else { unlink(path); return }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(d)
        for n in names {
            let p = path + "/" + n
            if isDirectory(p) { removeTree(p) } else { unlink(p) }
        }
        rmdir(path)
    }

    /// Takes an exclusive lock on `directory/.lock` (blocking), for one writer at a time.
    static func lockDirectory(_ directory: String) throws -> Int32 {
        let path = directory + "/.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CheckpointError.io(path: path, "cannot open the lock file: \(errorText())") }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            close(fd)
            throw CheckpointError.io(path: path, "cannot lock: \(errorText())")
        }
        return fd
    }

    /// Releases a lock from `lockDirectory`.
    static func unlock(_ fd: Int32) {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }

    /// Entries of a directory (names), or [] if it cannot be read.
    static func list(_ path: String) -> [String] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}

/// Minimal path helper (avoids Foundation in the I/O core).
struct NSStringLike {
    let s: String
    var deletingLastPathComponent: String {
        guard let i = s.lastIndex(of: "/") else { return "" }
        return i == s.startIndex ? "/" : String(s[..<i])
    }
}
