// `cohort serve`: a checkpoint behind the Open Inference Protocol (KServe v2 / Triton HTTP) with
// dynamic batching, Prometheus metrics and --watch (serve the newest checkpoint of a running
// training job, swapped in without failing a request). The server itself is CohortServe.
import ArgumentParser
import CohortCheckpoint
import CohortCore
import CohortKernels
import CohortServe
import Foundation
import Logging

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a checkpoint or a quantized .cq model over HTTP (Open Inference Protocol: /v2/models/NAME/infer).",
        discussion: "Example: cohort serve --checkpoint runs/mnist --port 8000 --max-batch 64 --max-delay-ms 2")

    @Option(help: "A checkpoint directory, a run directory (its newest valid checkpoint) or a quantized .cq file.") var checkpoint: String?
    @Option(help: "A run's checkpoint directory: serve its newest valid checkpoint and swap to each newer one.") var watch: String?
    @Option(name: .customLong("watch-interval"), help: "Seconds between --watch polls.") var watchInterval = 1.0
    @Option(help: "The model's name in /v2/models/NAME (default: the model kind, e.g. mlp).") var name: String?
    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind (0: any free port, printed at start).") var port = 8000
    @Option(name: .customLong("max-batch"), help: "Most rows in one batched forward.") var maxBatch = 64
    @Option(name: .customLong("max-delay-ms"), help: "How long a request waits for others to join its batch (ms).") var maxDelayMs = 2.0
    @Option(help: "Compute threads (batches run at once; one model replica each; OpenBLAS runs 1 thread in each).") var threads = 1
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body (bytes); larger → 413.") var maxBodyBytes = 8 << 20
    @Option(name: .customLong("max-rows"), help: "Most rows in one request; more → 413.") var maxRows = 1024
    @Option(name: .customLong("max-queue"), help: "Most rows waiting for a batch; more → 503 with Retry-After.") var maxQueue = 4096
    @Option(help: "Text models: tokens added to each prompt when a request gives no parameters.max_tokens.") var tokens = 50
    @Option(name: .customLong("max-tokens"), help: "Text models: most tokens a request may ask for; more → 413.") var maxTokens = 1024
    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may send nothing before it is closed.") var idleTimeout = 30.0
    @Option(name: .customLong("read-timeout"), help: "Seconds a request may take from its headers to the end of its body.") var readTimeout = 30.0
    @Flag(name: .customLong("no-access-log"), help: "Do not log one line per request.") var noAccessLog = false
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"

    func run() throws { try exitingOnErrors { try serve() } }

    func serve() throws {
        guard (checkpoint == nil) != (watch == nil) else {
            throw CohortError.badFlag(flag: "--checkpoint", "give exactly one of --checkpoint PATH and --watch RUN_DIR")
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw CohortError.badFlag(flag: "--log-level", "'\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        guard watchInterval > 0 else { throw CohortError.badFlag(flag: "--watch-interval", "must be > 0, got \(watchInterval)") }
        var options = ServeConfiguration()
        options.host = host; options.port = port; options.maxBatch = maxBatch; options.maxDelayMilliseconds = maxDelayMs
        options.threads = threads; options.maxBodyBytes = maxBodyBytes; options.maxRowsPerRequest = maxRows
        options.maxQueuedRows = maxQueue; options.accessLog = !noAccessLog
        options.idleTimeoutSeconds = idleTimeout; options.readTimeoutSeconds = readTimeout
        options.defaultNewTokens = tokens; options.maxNewTokens = maxTokens
        do { try options.validate() } catch let ServeError.badConfiguration(flag, why) { throw CohortError.badFlag(flag: flag, why) }
        _ = try? BLASRuntime.configureThreads(requested: 1)

        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }   // stdout stays free for other output
        var logger = Logger(label: "cohort.serve")
        logger.logLevel = level
        let source = watch ?? checkpoint!
        var isDirectory: ObjCBool = false
        let isFile = FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) && !isDirectory.boolValue
        if isFile && watch != nil { throw CohortError.badFlag(flag: "--watch", "\(source) is a file; --watch takes a run's checkpoint directory") }
        // A quantized .cq file has no step: its version is 1. A checkpoint's version is its step.
        let first = isFile ? nil : try Ckpt.open(source)
        let model = try ServeInferenceModel(path: first?.path ?? source, name: name,
                                            version: first.map { String($0.manifest.step) } ?? "1", replicas: threads)
        let slot = ModelSlot(model)
        let server = try InferenceServer(slot: slot, configuration: options, logger: logger)
        var watcher: ModelWatcher?
        if let watch {
            let latest = LatestCheckpoint(directory: watch, servedStep: first?.manifest.step ?? 0)
            let served = model.name, replicas = threads
            watcher = ModelWatcher(slot: slot, metrics: server.metrics, interval: watchInterval, logger: logger) {
                guard let c = latest.newer() else { return nil }
                return try ServeInferenceModel(path: c.path, name: served, version: String(c.manifest.step), replicas: replicas)
            }
        }
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        let log = logger, bound = options.host
        let announce = "serving \(model.name) (version \(model.version), from \(model.path))"
        Task {
            do {
                try await server.run { port in
                    log.notice("\(announce) on http://\(bound):\(port)", metadata: ["port": "\(port)"])
                }
            } catch { failure.set(error) }
            done.signal()
        }
        done.wait()
        watcher?.stop()
        if let error = failure.get() { throw CohortError.badFlag(flag: "--port", "server failed: \(error)") }
    }
}

/// The newest valid checkpoint of a run directory when it is newer than the one served. A poll
/// only lists the directory; a checkpoint is read and verified once, when it first appears.
final class LatestCheckpoint: @unchecked Sendable {
    private let store: CheckpointStore
    private let lock = NSLock()
    private var servedStep: Int
    private var lastTried: String?

    init(directory: String, servedStep: Int) {
        store = CheckpointStore(directory: directory)
        self.servedStep = servedStep
    }

    /// A verified checkpoint newer than the served one, or nil; it counts as served from now on.
    func newer() -> Checkpoint? {
        lock.withLock {
            guard let newest = store.list().last, newest.step > servedStep, newest.path != lastTried else { return nil }
            lastTried = newest.path
            guard let c = store.latestValid(skipped: { p, e in Ckpt.note("--watch: skipping \(p): \(e)") }), c.manifest.step > servedStep else { return nil }
            servedStep = c.manifest.step
            return c
        }
    }
}

/// The error that ended the server task, read after it is done.
final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func set(_ e: any Error) { lock.withLock { error = e } }
    func get() -> (any Error)? { lock.withLock { error } }
}
