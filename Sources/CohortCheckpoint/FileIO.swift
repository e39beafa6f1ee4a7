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
        guard fd >= 0 else { let code = errno; throw failure("cannot create", path: path, code: code) }
        return fd
    }

    /// Writes all `count` bytes, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ p: UnsafeRawPointer, _ count: Int, path: String) throws {
        var done = 0
        while done < count {
            let n = write(fd, p + done, min(count - done, 1 << 30))
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                throw failure("write failed", path: path, code: code)
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
        guard fsync(fd) == 0 else { let code = errno; throw failure("fsync failed", path: path, code: code) }
    }

    /// fsync of a directory, so renames and creations inside it are durable.
    static func fsyncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { let code = errno; throw failure("cannot open directory", path: path, code: code) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { let code = errno; throw failure("fsync of directory failed", path: path, code: code) }
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
        try requireNotAFile(path)
        // Create parents first.
        let parent = NSStringLike(s: path).deletingLastPathComponent
        if !parent.isEmpty && parent != path && !isDirectory(parent) { try makeDirectory(parent) }
        guard mkdir(path, 0o755) == 0 else {
            let code = errno
            if code == EEXIST {
                try requireNotAFile(path)   // created by someone else meanwhile: fine if a directory
                return
            }
            throw failure("cannot create directory", path: path, code: code)
        }
    }

    /// Throws `.storage` when something other than a directory exists at `path`.
    static func requireNotAFile(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0, !isDirectory(path) else { return }
        throw CheckpointError.storage(path: path, "checkpoint directory \(path) exists and is not a directory")
    }

    /// errno values that mean the user must fix the disk or directory, with their names.
    static let storageErrors: [(code: Int32, name: String)] = [
        (ENOSPC, "ENOSPC"), (EDQUOT, "EDQUOT"), (EROFS, "EROFS"), (EACCES, "EACCES"), (EPERM, "EPERM"), (ENOTDIR, "ENOTDIR"),
    ]

    /// The error for `what` failing on `path` with errno `code`: `.storage` (naming the path,
    /// the errno text and its name) for a full, read-only or forbidden file system, else `.io`.
    static func failure(_ what: String, path: String, code: Int32) -> CheckpointError {
        let text = String(cString: strerror(code))
        if let name = storageErrors.first(where: { $0.code == code })?.name {
            return .storage(path: path, "checkpoint \(path): \(what): \(text) (\(name))")
        }
        return .io(path: path, "\(what): \(text)")
    }

    /// Checks, before a save starts, that `directory` is writable and its file system has
    /// room for files of `fileSizes` bytes (each rounded up to the file system's block).
    /// - Throws: `.storage` naming the directory, the bytes needed and available (ENOSPC),
    ///   or the read-only file system (EROFS).
    static func checkSpace(_ directory: String, fileSizes: [UInt64], purpose: String) throws {
        var fs = statvfs()
        guard statvfs(directory, &fs) == 0 else { let code = errno; throw failure("cannot query free space (statvfs)", path: directory, code: code) }
        if fs.f_flag & UInt(ST_RDONLY) != 0 {
            throw CheckpointError.storage(path: directory, "checkpoint directory \(directory) is on a read-only file system: "
                                          + "\(String(cString: strerror(EROFS))) (EROFS)")
        }
        let block = UInt64(max(fs.f_frsize > 0 ? fs.f_frsize : fs.f_bsize, 1))
        let needed = fileSizes.reduce(UInt64(0)) { $0 + ($1 + block - 1) / block * block }
        // Root may also use the blocks reserved for it (what a write by root will find).
        let available = UInt64(geteuid() == 0 ? fs.f_bfree : fs.f_bavail) * block
        guard available >= needed else {
            throw CheckpointError.storage(path: directory, "checkpoint directory \(directory): \(purpose) needs \(needed) bytes "
                                          + "(\(byteText(needed))), only \(available) bytes (\(byteText(available))) are free: "
                                          + "\(String(cString: strerror(ENOSPC))) (ENOSPC)")
        }
    }

    /// `1.5 MiB`, `312 KiB`, `12 B`.
    static func byteText(_ n: UInt64) -> String {
        for (shift, unit) in [(UInt64(30), "GiB"), (20, "MiB")] where n >= 1 << shift {
            let tenths = UInt64((Double(n) / Double(UInt64(1) << shift) * 10).rounded())
            return "\(tenths / 10).\(tenths % 10) \(unit)"
        }
        return n >= 1 << 10 ? "\((n + 512) >> 10) KiB" : "\(n) B"
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
        guard fd >= 0 else { let code = errno; throw failure("cannot open the lock file", path: path, code: code) }
        while flock(fd, LOCK_EX) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            throw failure("cannot lock", path: path, code: code)
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
