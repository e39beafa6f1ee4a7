// Helpers for CohortServe's tests: a small affine model with a known forward, an in-process server
// on an ephemeral 127.0.0.1 port, and a plain HTTP client (URLSession) for real requests.
import CohortServe
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging

/// y = W x + b with fixed, version-dependent weights; optionally sleeps per batch (a slow model) and
/// records the row count of every batch it runs.
final class AffineModel: ServableModel, @unchecked Sendable {
    let name: String
    let version: String
    let input = TensorSignature(name: "input", datatype: .fp32, shape: [4])
    let output = TensorSignature(name: "logits", datatype: .fp32, shape: [3])
    let weights: [Float]
    let bias: [Float]
    let delay: Double
    private let lock = NSLock()
    private var batches: [Int] = []

    init(name: String = "affine", version: String = "1", scale: Float = 1, delay: Double = 0) {
        self.name = name
        self.version = version
        self.delay = delay
        weights = (0..<12).map { Float($0 % 5) * 0.25 * scale - 0.5 }
        bias = [0.125, -1, 2].map { $0 * scale }
    }

    /// Rows of every batch run so far, in order.
    var batchSizes: [Int] { lock.withLock { batches } }

    /// The forward of one row, computed here independently of the server.
    func forward(_ x: [Float]) -> [Float] {
        (0..<3).map { o in (0..<4).reduce(bias[o]) { $0 + weights[o * 4 + $1] * x[$1] } }
    }

    func infer(rows: [Float], count: Int) throws -> [Float] {
        lock.withLock { batches.append(count) }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        return (0..<count).flatMap { forward(Array(rows[$0 * 4..<$0 * 4 + 4])) }
    }
}

/// A server running in this process until `stop()`.
struct RunningServer {
    let server: InferenceServer
    let port: Int
    let task: Task<Void, Error>

    var base: String { "http://127.0.0.1:\(port)" }

    /// Starts a server for `model` (port 0: the kernel picks one) and waits until it listens.
    static func start(_ model: any ServableModel, configure: (inout ServeConfiguration) -> Void = { _ in }) async throws -> RunningServer {
        var cfg = ServeConfiguration()
        cfg.port = 0
        cfg.accessLog = false
        configure(&cfg)
        var logger = Logger(label: "test.serve")
        logger.logLevel = .warning
        let server = try InferenceServer(slot: ModelSlot(model), configuration: cfg, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task { try await server.run { port in continuation.yield(port) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw URLError(.cannotConnectToHost) }
        return RunningServer(server: server, port: port, task: task)
    }

    /// Drains and stops the server, waiting for `run` to return.
    func stop() async throws {
        await server.shutdown()
        try await task.value
    }
}

/// One HTTP answer.
struct HTTPAnswer: Sendable {
    var status: Int
    var body: Data
    var headers: [String: String]
    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as a JSON object (empty when it is not one).
    var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
}

enum HTTP {
    static let session: URLSession = {
        let c = URLSessionConfiguration.ephemeral
        c.httpMaximumConnectionsPerHost = 64
        c.timeoutIntervalForRequest = 60
        return URLSession(configuration: c)
    }()

    static func get(_ url: String) async throws -> HTTPAnswer { try await send(URLRequest(url: URL(string: url)!)) }

    static func post(_ url: String, _ body: Data) async throws -> HTTPAnswer {
        var r = URLRequest(url: URL(string: url)!)
        r.httpMethod = "POST"
        r.httpBody = body
        r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        return try await send(r)
    }

    static func post(_ url: String, json: Any) async throws -> HTTPAnswer {
        try await post(url, try JSONSerialization.data(withJSONObject: json))
    }

    static func send(_ r: URLRequest) async throws -> HTTPAnswer {
        let (data, response) = try await session.data(for: r)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { headers[String(describing: k).lowercased()] = String(describing: v) }
        return HTTPAnswer(status: http.statusCode, body: data, headers: headers)
    }
}

/// An infer request body for `rows` (each 4 floats) of the affine model.
func inferBody(_ rows: [[Float]], id: String? = nil) -> [String: Any] {
    var body: [String: Any] = ["inputs": [["name": "input", "shape": [rows.count, 4], "datatype": "FP32",
                                           "data": rows.flatMap { $0 }.map(Double.init)]]]
    if let id { body["id"] = id }
    return body
}

/// The flat FP32 data of a response's first output.
func outputData(_ answer: HTTPAnswer) -> [Float] {
    guard let outputs = answer.json["outputs"] as? [[String: Any]], let data = outputs.first?["data"] as? [Any] else { return [] }
    return data.map { Float(($0 as? NSNumber)?.doubleValue ?? .nan) }
}
