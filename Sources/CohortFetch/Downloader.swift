// Fetches a file into a directory safely: bytes go to `NAME.part`, an interrupted
// transfer resumes with a Range request, and only a file whose SHA-256 matches is
// renamed to `NAME` (rename(2), atomic). A mismatching download is moved to
// `NAME.bad` so the next run starts clean and the bytes can still be inspected.
import Foundation

/// What `Downloader` reports while it works; `bytes` events arrive on a background queue.
public enum DownloadEvent: Sendable {
    /// `file` is already in place with the right digest; nothing fetched.
    case present(file: String)
    /// A present file has the wrong digest (`actual`) and will be fetched again.
    case replacing(file: String, actual: String)
    /// A GET of `url` begins at byte `offset` (non-zero: resuming a `.part` file).
    case started(file: String, url: String, offset: Int64)
    /// `received` bytes of the file are on disk, of `total` when known.
    case bytes(file: String, received: Int64, total: Int64?)
    /// A transfer broke off at `received` bytes; attempt `attempt` follows after a pause.
    case retrying(file: String, received: Int64, attempt: Int, reason: String)
    /// The server ignored the Range request (answered 200): the file is fetched from the start.
    case restarted(file: String)
    /// The file was verified and moved into place.
    case finished(file: String, outcome: DownloadOutcome)
}

/// How a file came to be in place.
public struct DownloadOutcome: Sendable, Equatable {
    /// Bytes transferred over the network in this run (0 when it was already present).
    public var bytesTransferred: Int64
    /// Wall-clock seconds spent, including verification.
    public var seconds: Double
    /// Byte offset the first request resumed from (0 for a fresh download).
    public var resumedFrom: Int64
    /// True when the file was already present and verified, so nothing was fetched.
    public var alreadyPresent: Bool
}

/// Downloads files with resume, verification and atomic placement.
public struct Downloader: Sendable {
    /// Total attempts per file, counting the first (a broken transfer is resumed up to `attempts - 1` times).
    public var attempts: Int
    /// Seconds without data before a request is abandoned.
    public var timeout: TimeInterval
    /// Pause before attempt n+1 is `retryDelay * n` seconds.
    public var retryDelay: TimeInterval
    /// Receives progress; called from the calling thread and from URLSession's queue.
    public var report: @Sendable (DownloadEvent) -> Void

    /// A downloader making `attempts` tries per file with `timeout` seconds of allowed silence.
    public init(attempts: Int = 4, timeout: TimeInterval = 60, retryDelay: TimeInterval = 1,
                report: @escaping @Sendable (DownloadEvent) -> Void = { _ in }) {
        self.attempts = max(1, attempts)
        self.timeout = timeout
        self.retryDelay = retryDelay
        self.report = report
    }

    /// Makes sure `directory/file.name` holds `file` (checked by SHA-256), fetching it from `url`
    /// if needed. A present file with the right digest is kept unless `force` is set.
    /// - Returns: how the file got there.
    /// - Throws: `FetchError.httpStatus` (naming the URL and status), `.transfer` when retries
    ///   are exhausted, `.checksumMismatch` (naming the file, both digests and the URL; the bytes
    ///   are left in `NAME.bad`), `.badResponse`, or `.io` for a local file error.
    @discardableResult
    public func fetch(_ file: RemoteFile, from url: String, into directory: String, force: Bool = false) throws -> DownloadOutcome {
        guard let remote = URL(string: url), let scheme = remote.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw FetchError.badResponse(url: url, "not an http:// or https:// URL")
        }
        let started = Date()
        let target = directory + "/" + file.name, part = target + ".part", bad = target + ".bad"
        if force {
            try remove(part)
        } else if FileDigest.size(of: target) != nil {
            let actual = try FileDigest.sha256(of: target)
            if actual == file.sha256 {
                report(.present(file: file.name))
                return DownloadOutcome(bytesTransferred: 0, seconds: Date().timeIntervalSince(started), resumedFrom: 0, alreadyPresent: true)
            }
            report(.replacing(file: file.name, actual: actual))
        }
        var transferred: Int64 = 0
        var resumedFrom: Int64?
        var attempt = 1
        var mayRestartStale = true   // a stale .part from another run gets one clean retry
        while true {
            var offset = FileDigest.size(of: part) ?? 0
            if offset > file.size { try remove(part); offset = 0 }
            if resumedFrom == nil { resumedFrom = offset }
            if offset == file.size {
                // Complete from an earlier run: verify without asking the server.
                if try verify(part, file) { break }
                try remove(part)
                continue
            }
            report(.started(file: file.name, url: url, offset: offset))
            let name = file.name, report = self.report
            let result = httpTransfer(url: remote, to: part, offset: offset, timeout: timeout) { received, total in
                report(.bytes(file: name, received: received, total: total))
            }
            transferred += result.received
            if result.ioFailure { throw FetchError.io(path: part, result.failure ?? "write failed") }
            if let status = result.status, status == 416, offset > 0 {
                // Our .part reaches past the server's end: it cannot be from this file.
                try remove(part)
                continue
            }
            if let status = result.status, status != 200 && status != 206 {
                throw FetchError.httpStatus(url: url, status: status)
            }
            if result.status == 200 && offset > 0 { report(.restarted(file: file.name)) }
            var failure = result.failure
            if failure == nil, let total = result.total, result.fileSize != total {
                failure = "the connection closed after \(result.fileSize) of \(total) bytes"
            }
            if let failure {
                guard attempt < attempts else { throw FetchError.transfer(url: url, attempts: attempt, message: failure) }
                attempt += 1
                report(.retrying(file: file.name, received: FileDigest.size(of: part) ?? 0, attempt: attempt, reason: failure))
                Thread.sleep(forTimeInterval: retryDelay * Double(attempt - 1))
                continue
            }
            if try verify(part, file) { break }
            if offset > 0 && result.status == 206 && mayRestartStale {
                // The bytes kept from before may belong to an older copy: fetch once more from zero.
                mayRestartStale = false
                try remove(part)
                report(.restarted(file: file.name))
                continue
            }
            let actual = try FileDigest.sha256(of: part)
            try remove(bad)
            let kept = rename(part, bad) == 0 ? bad : nil
            if kept == nil { try remove(part) }
            throw FetchError.checksumMismatch(file: target, url: url, expected: file.sha256, actual: actual, keptAs: kept)
        }
        guard rename(part, target) == 0 else {
            throw FetchError.io(path: target, "cannot rename \(part) into place: \(String(cString: strerror(errno)))")
        }
        syncDirectory(directory)
        let outcome = DownloadOutcome(bytesTransferred: transferred, seconds: Date().timeIntervalSince(started),
                                      resumedFrom: resumedFrom ?? 0, alreadyPresent: false)
        report(.finished(file: file.name, outcome: outcome))
        return outcome
    }

    private func verify(_ path: String, _ file: RemoteFile) throws -> Bool {
        guard FileDigest.size(of: path) == file.size else { return false }
        return try FileDigest.sha256(of: path) == file.sha256
    }

    /// Makes the rename durable; a failure here only weakens crash safety, so it is ignored.
    private func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        _ = close(fd)
    }

    private func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw FetchError.io(path: path, "cannot remove: \(String(cString: strerror(errno)))")
        }
    }
}
