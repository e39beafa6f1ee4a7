// The settings of `cohort serve`: address, batching window, compute threads and the limits
// that turn overload and oversized requests into 413/503 answers instead of unbounded memory.

/// Everything the server needs besides the model.
public struct ServeConfiguration: Sendable {
    /// Address to bind (`127.0.0.1` by default; `0.0.0.0` in a container).
    public var host = "127.0.0.1"
    /// Port to bind; 0 picks a free one (reported through `onRunning`).
    public var port = 8000
    /// Most rows one batched forward takes (`--max-batch`).
    public var maxBatch = 64
    /// How long the first queued request waits for others to join its batch, in milliseconds (`--max-delay-ms`).
    public var maxDelayMilliseconds = 2.0
    /// Threads running batches at once (`--threads`).
    public var threads = 1
    /// Largest request body in bytes (`--max-body-bytes`): larger → 413.
    public var maxBodyBytes = 8 << 20
    /// Most rows in one request (`--max-rows`): more → 413.
    public var maxRowsPerRequest = 1024
    /// Most rows waiting for a batch (`--max-queue`): more → 503 with Retry-After.
    public var maxQueuedRows = 4096
    /// Seconds a client is told to wait after a 503 (the Retry-After header).
    public var retryAfterSeconds = 1
    /// Seconds a connection may send nothing before it is closed (`--idle-timeout`): stalled, slowloris-style
    /// clients cannot hold connections (or a drain) forever.
    public var idleTimeoutSeconds = 30.0
    /// Tokens a text model adds to each prompt when a request gives no `parameters.max_tokens` (`--tokens`).
    public var defaultNewTokens = 50
    /// Most tokens a request may ask a text model for (`--max-tokens`): more → 413.
    public var maxNewTokens = 1024
    /// Seconds from a request's headers to the end of its body (`--read-timeout`): a client that trickles
    /// its body (activity that resets the idle timeout) is disconnected after this.
    public var readTimeoutSeconds = 30.0
    /// Log one line per request (`--access-log`/`--no-access-log`).
    public var accessLog = true

    /// The defaults above.
    public init() {}

    /// Checks every value is in range.
    /// - Throws: `ServeError.badConfiguration` naming the flag.
    public func validate() throws {
        func need(_ ok: Bool, _ flag: String, _ why: String) throws {
            if !ok { throw ServeError.badConfiguration(flag: flag, why) }
        }
        try need((0...65535).contains(port), "--port", "\(port) is not a port number (0–65535)")
        try need(maxBatch >= 1, "--max-batch", "must be at least 1, got \(maxBatch)")
        try need(maxDelayMilliseconds >= 0 && maxDelayMilliseconds.isFinite, "--max-delay-ms", "must be ≥ 0, got \(maxDelayMilliseconds)")
        try need(threads >= 1, "--threads", "must be at least 1, got \(threads)")
        try need(maxBodyBytes >= 1024, "--max-body-bytes", "must be at least 1024, got \(maxBodyBytes)")
        try need(maxRowsPerRequest >= 1, "--max-rows", "must be at least 1, got \(maxRowsPerRequest)")
        try need(idleTimeoutSeconds > 0 && idleTimeoutSeconds.isFinite, "--idle-timeout", "must be > 0, got \(idleTimeoutSeconds)")
        try need(maxNewTokens >= 0, "--max-tokens", "must be ≥ 0, got \(maxNewTokens)")
        try need((0...maxNewTokens).contains(defaultNewTokens), "--tokens", "must be between 0 and --max-tokens (\(maxNewTokens)), got \(defaultNewTokens)")
        try need(readTimeoutSeconds > 0 && readTimeoutSeconds.isFinite, "--read-timeout", "must be > 0, got \(readTimeoutSeconds)")
        try need(maxQueuedRows >= maxRowsPerRequest, "--max-queue", "must be ≥ --max-rows (\(maxRowsPerRequest)), got \(maxQueuedRows)")
    }
}
