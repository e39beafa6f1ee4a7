// One HTTP GET streamed into a file through URLSession (FoundationNetworking on
// Linux): appends after a 206 that continues the file, truncates and starts over
// after a 200. The only file of CohortFetch that touches URLSession.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// How one GET ended.
struct TransferResult {
    /// HTTP status, or nil when no response arrived (DNS failure, refused connection).
    var status: Int?
    /// Bytes of the body written to the file by this request.
    var received: Int64 = 0
    /// File size when the transfer ended (offset it started at, plus `received`, after a 206).
    var fileSize: Int64 = 0
    /// The total size of the resource when the server said (Content-Length or Content-Range).
    var total: Int64?
    /// A transport error, or a local one (write failure, bad Content-Range), if the body is incomplete.
    var failure: String?
    /// Set when the failure was a local I/O error on the output file (never retried).
    var ioFailure = false
}

/// Performs a GET of `url` into `path`. With `offset > 0` it asks for `Range: bytes=offset-`
/// and, on a 206 starting there, appends; on a 200 it rewrites the file from the start.
/// Other statuses leave the file untouched. `progress(fileSize, total)` is called from
/// URLSession's delegate queue as bytes arrive.
func httpTransfer(url: URL, to path: String, offset: Int64, timeout: TimeInterval,
                  progress: @escaping @Sendable (Int64, Int64?) -> Void) -> TransferResult {
    var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
    request.setValue("cohort-data-download", forHTTPHeaderField: "User-Agent")
    // The bytes on disk must be the resource itself: no transparent decompression, and
    // Range offsets then count the same bytes as the file.
    request.setValue("identity", forHTTPHeaderField: "Accept-Encoding")
    if offset > 0 { request.setValue("bytes=\(offset)-", forHTTPHeaderField: "Range") }
    let delegate = TransferDelegate(path: path, offset: offset, progress: progress)
    let queue = OperationQueue()
    queue.maxConcurrentOperationCount = 1
    let session = URLSession(configuration: .ephemeral, delegate: delegate, delegateQueue: queue)
    session.dataTask(with: request).resume()
    delegate.done.wait()
    session.finishTasksAndInvalidate()
    return delegate.result
}

/// Receives one task's callbacks. All mutable state is touched only on the session's
/// serial delegate queue, and read by the caller after `done` is signalled — hence
/// `@unchecked Sendable`.
private final class TransferDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let path: String
    let offset: Int64
    let progress: @Sendable (Int64, Int64?) -> Void
    let done = DispatchSemaphore(value: 0)
    var result = TransferResult()
    private var output: FileHandle?

    init(path: String, offset: Int64, progress: @escaping @Sendable (Int64, Int64?) -> Void) {
        self.path = path
        self.offset = offset
        self.progress = progress
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        guard let http = response as? HTTPURLResponse else {
            result.failure = "not an HTTP response"
            return completionHandler(.cancel)
        }
        result.status = http.statusCode
        // With a Content-Encoding the advertised length is of the encoded bytes, not of the file.
        let encoding = http.value(forHTTPHeaderField: "Content-Encoding")?.lowercased() ?? "identity"
        let length: Int64? = response.expectedContentLength >= 0 && encoding == "identity" ? response.expectedContentLength : nil
        var start: Int64
        switch http.statusCode {
        case 200:
            start = 0
            result.total = length
        case 206:
            guard let range = (http.value(forHTTPHeaderField: "Content-Range")).flatMap(ContentRange.init), range.start == offset else {
                result.failure = "206 answer whose Content-Range (\(http.value(forHTTPHeaderField: "Content-Range") ?? "none")) does not start at byte \(offset)"
                return completionHandler(.cancel)
            }
            start = offset
            result.total = encoding == "identity" ? range.total : nil
        default:
            return completionHandler(.cancel)
        }
        do {
            if start == 0 && !FileManager.default.createFile(atPath: path, contents: nil) {   // truncates
                throw FetchError.io(path: path, "cannot create")
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: UInt64(start))
            try handle.seekToEnd()
            output = handle
        } catch {
            result.failure = "cannot write: \(error)"
            result.ioFailure = true
            return completionHandler(.cancel)
        }
        result.fileSize = start
        progress(start, result.total)
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let output, result.failure == nil else { return }
        do {
            try output.write(contentsOf: data)
        } catch {
            result.failure = "cannot write: \(error.localizedDescription)"
            result.ioFailure = true
            dataTask.cancel()
            return
        }
        result.received += Int64(data.count)
        result.fileSize += Int64(data.count)
        progress(result.fileSize, result.total)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if let output {
            do { try output.synchronize(); try output.close() } catch {
                if result.failure == nil { result.failure = "cannot write: \(error.localizedDescription)"; result.ioFailure = true }
            }
        }
        output = nil
        if let error, result.failure == nil, result.status.map({ $0 == 200 || $0 == 206 }) ?? true {
            result.failure = error.localizedDescription
        }
        done.signal()
    }
}

/// `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`).
private struct ContentRange {
    var start: Int64
    var total: Int64?

    init?(_ header: String) {
        let parts = header.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bytes" else { return nil }
        let rangeAndTotal = parts[1].split(separator: "/", maxSplits: 1)
        guard rangeAndTotal.count == 2, let dash = rangeAndTotal[0].firstIndex(of: "-"),
              let start = Int64(rangeAndTotal[0][..<dash]) else { return nil }
        self.start = start
        self.total = Int64(rangeAndTotal[1])
    }
}
