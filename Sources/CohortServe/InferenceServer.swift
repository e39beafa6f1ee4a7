// `cohort serve`'s HTTP server: the Open Inference Protocol (KServe v2 / Triton HTTP) routes on
// Hummingbird, run in a ServiceGroup so SIGTERM drains in-flight requests before the process exits.
import CohortCore
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Serves one model over the Open Inference Protocol with dynamic batching, metrics and an access log.
public final class InferenceServer: Sendable {
    /// The slot holding the served model (swap it to serve a new one).
    public let slot: ModelSlot
    /// The server's settings.
    public let configuration: ServeConfiguration
    /// The server's Prometheus metrics.
    public let metrics: ServeMetrics
    private let batcher: DynamicBatcher
    private let text: TextWorkers
    private let logger: Logger
    private let state = ServerState()

    /// A server for `slot`'s model; compute threads start now, the listener in `run`.
    /// - Throws: `ServeError.badConfiguration` for an out-of-range setting.
    public init(slot: ModelSlot, configuration: ServeConfiguration, logger: Logger) throws {
        try configuration.validate()
        self.slot = slot
        self.configuration = configuration
        self.logger = logger
        metrics = ServeMetrics(maxBatch: configuration.maxBatch)
        batcher = DynamicBatcher(slot: slot, configuration: configuration, metrics: metrics)
        text = TextWorkers(threads: slot.current.isTextModel ? configuration.threads : 0, maxQueuedPrompts: configuration.maxQueuedRows,
                           metrics: metrics)
    }

    /// Listens until SIGTERM/SIGINT or `shutdown()`: then refuses new connections, completes the
    /// requests in flight and their batches, and returns. `onRunning` gets the bound port.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let readTimeout = TimeAmount.milliseconds(Int64(configuration.readTimeoutSeconds * 1000))
        let app = Application(
            router: makeRouter(),
            server: .http1(configuration: .init(
                additionalChannelHandlers: [RequestReadDeadline(timeout: readTimeout)],
                idleTimeout: .milliseconds(Int64(configuration.idleTimeoutSeconds * 1000)))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "cohort-serve",
                                 backlog: 1024),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: app), .init(service: DrainNotice(state: state))],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        state.setGroup(group)
        try await group.run()
        batcher.stop()
        text.stop()
        logger.info("server stopped", metadata: ["in_flight": "\(state.inFlight)"])
    }

    /// Starts the same drain SIGTERM does (for tests and embedding programs).
    public func shutdown() async {
        state.setDraining()
        await state.group?.triggerGracefulShutdown()
    }

    /// Whether the server is draining (readiness answers 503 then).
    public var isDraining: Bool { state.draining }

    private func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v2/health/live") { [self] request, _ in
            handle("live", request) { Self.json(200, "{\"live\":true}") }
        }
        router.get("/v2/health/ready") { [self] request, _ in
            handle("ready", request) { state.draining ? Self.json(503, "{\"ready\":false}") : Self.json(200, "{\"ready\":true}") }
        }
        router.get("/v2") { [self] request, _ in
            handle("server_metadata", request) {
                Self.json(200, "{\"name\":\"cohort\",\"version\":\"1\",\"extensions\":[]}")
            }
        }
        router.get("/v2/models/:name") { [self] request, context in
            handle("model_metadata", request) { try metadata(context.parameters.get("name") ?? "", version: nil) }
        }
        router.get("/v2/models/:name/versions/:version") { [self] request, context in
            handle("model_metadata", request) {
                try metadata(context.parameters.get("name") ?? "", version: context.parameters.get("version"))
            }
        }
        router.get("/v2/models/:name/ready") { [self] request, context in
            handle("model_ready", request) {
                _ = try model(named: context.parameters.get("name") ?? "", version: nil)
                return state.draining ? Self.json(503, "{\"ready\":false}") : Self.json(200, "{\"ready\":true}")
            }
        }
        router.post("/v2/models/:name/infer") { [self] request, context in
            await handleAsync("infer", request) { try await infer(request, name: context.parameters.get("name") ?? "", version: nil) }
        }
        router.post("/v2/models/:name/versions/:version/infer") { [self] request, context in
            await handleAsync("infer", request) {
                try await infer(request, name: context.parameters.get("name") ?? "", version: context.parameters.get("version"))
            }
        }
        router.get("/metrics") { [self] request, _ in
            handle("metrics", request) {
                var headers = HTTPFields()
                headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
            }
        }
        return router
    }

    private func model(named name: String, version: String?) throws -> any ServableModel {
        let m = slot.current
        guard name == m.name else { throw ServeError.modelNotFound(name) }
        if let version, !version.isEmpty, version != m.version {
            throw ServeError.modelNotFound("\(name) version \(version) (serving version \(m.version))")
        }
        return m
    }

    private func metadata(_ name: String, version: String?) throws -> Response {
        let m = try model(named: name, version: version)
        func tensor(_ t: TensorSignature) -> String {
            "{\"name\":\(jsonStringLiteral(t.name)),\"datatype\":\"\(t.datatype.rawValue)\",\"shape\":["
                + ([-1] + t.shape).map(String.init).joined(separator: ",") + "]}"
        }
        return Self.json(200, "{\"name\":\(jsonStringLiteral(m.name)),\"versions\":[\(jsonStringLiteral(m.version))],"
                         + "\"platform\":\"cohort\",\"inputs\":[\(tensor(m.input))],\"outputs\":[\(tensor(m.output))]}")
    }

    private func infer(_ request: Request, name: String, version: String?) async throws -> Response {
        let m = try model(named: name, version: version)
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: configuration.maxBodyBytes) } catch {
            if let e = error as? any HTTPResponseError, e.status == .contentTooLarge {
                throw ServeError.tooLarge("request body is larger than \(configuration.maxBodyBytes) bytes (--max-body-bytes)")
            }
            throw ServeError.badRequest("could not read the request body: \(error)")
        }
        if m.isTextModel { return try await inferText(Array(body.readableBytesView), model: m) }
        // Announced once its body is in: a batch may wait for a request being parsed, never for a
        // slow client's bytes.
        batcher.announce()
        var queued = false
        defer { if !queued { batcher.withdraw() } }
        let decoded = try InferenceRequest(json: Array(body.readableBytesView), input: m.input, output: m.output,
                                           maxRows: configuration.maxRowsPerRequest)
        queued = true
        let result = try await batcher.infer(rows: decoded.rows, count: decoded.count)
        return Self.json(200, InferenceResponse.json(model: result.model, id: decoded.id, outputs: result.outputs, count: decoded.count))
    }

    private func inferText(_ body: [UInt8], model m: any ServableModel) async throws -> Response {
        let decoded = try TextInferenceRequest(json: body, input: m.input, output: m.output, maxRows: configuration.maxRowsPerRequest,
                                               defaultTokens: configuration.defaultNewTokens, tokenLimit: configuration.maxNewTokens)
        let texts = try await text.generate(decoded.prompts, maxTokens: decoded.maxTokens, model: m)
        return Self.json(200, InferenceResponse.text(model: m, id: decoded.id, texts: texts))
    }

    private func handle(_ endpoint: String, _ request: Request, _ body: () throws -> Response) -> Response {
        let start = ContinuousClock.now
        let response: Response
        do { response = try body() } catch { response = errorResponse(error) }
        finish(endpoint, request, response, start)
        return response
    }

    private func handleAsync(_ endpoint: String, _ request: Request, _ body: () async throws -> Response) async -> Response {
        let start = ContinuousClock.now
        state.enter(metrics)
        defer { state.leave(metrics) }
        let response: Response
        do { response = try await body() } catch { response = errorResponse(error) }
        finish(endpoint, request, response, start)
        return response
    }

    private func finish(_ endpoint: String, _ request: Request, _ response: Response, _ start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let status = Int(response.status.code)
        metrics.record(endpoint: endpoint, status: status, duration: elapsed)
        if configuration.accessLog || status >= 500 {
            logger.log(level: status >= 500 ? .warning : .info, "request", metadata: [
                "method": "\(request.method)", "path": "\(request.uri.path)", "status": "\(status)",
                "duration_us": "\(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)",
            ])
        }
    }

    private func errorResponse(_ error: any Error) -> Response {
        let e = (error as? ServeError) ?? .inference("\(error)")
        var response = Self.json(e.status, InferenceResponse.error(e.description))
        if e.status == 503 { response.headers[.retryAfter] = String(configuration.retryAfterSeconds) }
        return response
    }

    private static func json(_ status: Int, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Mutable server state shared by handlers: the drain flag, in-flight count and the service group.
final class ServerState: @unchecked Sendable {
    private let lock = NSLock()
    private var _draining = false
    private var _inFlight = 0
    private var _group: ServiceGroup?

    var draining: Bool { lock.withLock { _draining } }
    var inFlight: Int { lock.withLock { _inFlight } }
    var group: ServiceGroup? { lock.withLock { _group } }
    func setDraining() { lock.withLock { _draining = true } }
    func setGroup(_ g: ServiceGroup) { lock.withLock { _group = g } }
    func enter(_ metrics: ServeMetrics) { metrics.inFlight.set(Double(lock.withLock { _inFlight += 1; return _inFlight })) }
    func leave(_ metrics: ServeMetrics) { metrics.inFlight.set(Double(lock.withLock { _inFlight -= 1; return _inFlight })) }
}

/// The last service of the group, so the first told of a graceful shutdown: marks the server draining
/// (readiness → 503) before the HTTP server stops accepting and completes what is in flight.
struct DrainNotice: Service {
    let state: ServerState
    func run() async throws {
        try? await gracefulShutdown()
        state.setDraining()
    }
}
