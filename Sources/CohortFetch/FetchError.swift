// What can go wrong while fetching a file. Every message names the URL or the
// file (and, for a bad digest, both digests) so a user can act on it.

/// Errors from `Downloader`.
public enum FetchError: Error, CustomStringConvertible, Equatable {
    /// The server answered with an HTTP status other than 200/206 (e.g. 404).
    case httpStatus(url: String, status: Int)
    /// The transfer failed (DNS, refused or dropped connection, timeout) and retries did not help.
    case transfer(url: String, attempts: Int, message: String)
    /// The downloaded bytes do not have the expected SHA-256; `keptAs` is where they were moved.
    case checksumMismatch(file: String, url: String, expected: String, actual: String, keptAs: String?)
    /// The server sent something a download cannot use (a bad `Content-Range`, a non-HTTP answer).
    case badResponse(url: String, String)
    /// A local file operation failed (create, write, rename) on `path`.
    case io(path: String, String)

    public var description: String {
        switch self {
        case let .httpStatus(url, status):
            return "\(url): HTTP \(status)\(Self.reason(status))"
        case let .transfer(url, attempts, message):
            return "\(url): download failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(message)"
        case let .checksumMismatch(file, url, expected, actual, keptAs):
            let kept = keptAs.map { "; the downloaded bytes were moved to \($0)" } ?? ""
            return "\(file): SHA-256 mismatch: expected \(expected), got \(actual) (from \(url))\(kept)"
        case let .badResponse(url, message):
            return "\(url): \(message)"
        case let .io(path, message):
            return "\(path): \(message)"
        }
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 401: return " (unauthorized)"
        case 403: return " (forbidden)"
        case 404: return " (not found)"
        case 416: return " (range not satisfiable)"
        case 500..<600: return " (server error)"
        default: return ""
        }
    }
}
