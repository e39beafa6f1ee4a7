// Whole-file reads and writes through POSIX calls, so dataset readers need no
// Foundation and every failure becomes a `CohortError.badFile` naming the path
// and the system's reason (strerror).
import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// Internal file helpers; errors name the path and `strerror(errno)`.
enum FileBytes {
    /// Whether `path` exists and is a directory.
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether `path` exists and is a regular file (or a link to one).
    static func isFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// The whole content of the regular file at `path`.
    /// - Throws: `CohortError.badFile` if it is missing, a directory or unreadable.
    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CohortError.badFile(path: path, "cannot open: \(reason())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CohortError.badFile(path: path, "cannot stat: \(reason())") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw CohortError.badFile(path: path, "not a regular file") }
        let size = Int(st.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buf in
            while done < size {
                let n = Glibc.read(fd, buf.baseAddress! + done, size - done)
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw CohortError.badFile(path: path, "read failed after \(done) bytes: \(reason())") }
                if n == 0 { break }   // the file shrank while we read it
                done += n
            }
        }
        if done < size { bytes.removeLast(size - done) }
        return bytes
    }

    /// Replaces the file at `path` with `bytes` (mode 0644).
    /// - Throws: `CohortError.badFile` if it cannot be created or written.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CohortError.badFile(path: path, "cannot create: \(reason())") }
        var done = 0
        let ok: Bool = bytes.withUnsafeBytes { buf in
            while done < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + done, buf.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        let err = reason()
        guard close(fd) == 0, ok else {
            throw CohortError.badFile(path: path, "write failed after \(done) of \(bytes.count) bytes: \(err)")
        }
    }

    private static func reason() -> String { String(cString: strerror(errno)) }
}
