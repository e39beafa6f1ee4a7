// Dynamic batching, overload and model swaps, each over real HTTP: concurrent requests share
// forwards (the batch histogram shows it), a full queue is 503 + Retry-After, a swap under load
// fails no request, and a drain completes what is in flight.
import CohortServe
import Foundation
import Logging
import Testing

@Suite("Serve batching", .serialized)
struct ServeBatchingTests {
    /// Sends `n` single-row requests at once; returns the answers in order.
    static func concurrent(_ n: Int, _ url: String, row: @escaping @Sendable (Int) -> [Float]) async throws -> [HTTPAnswer] {
        try await withThrowingTaskGroup(of: (Int, HTTPAnswer).self) { group in
            for i in 0..<n {
                group.addTask { (i, try await HTTP.post(url, json: inferBody([row(i)]))) }
            }
            var out = [HTTPAnswer?](repeating: nil, count: n)
            for try await (i, a) in group { out[i] = a }
            return out.map { $0! }
        }
    }

    @Test func concurrentRequestsAreCoalesced() async throws {
        let model = AffineModel(delay: 0.02)
        let s = try await RunningServer.start(model) { $0.maxBatch = 16; $0.maxDelayMilliseconds = 50 }
        let answers = try await Self.concurrent(32, s.base + "/v2/models/affine/infer") { [Float($0), 1, 2, 3] }
        for (i, a) in answers.enumerated() {
            #expect(a.status == 200)
            #expect(outputData(a) == model.forward([Float(i), 1, 2, 3]))
        }
        let sizes = model.batchSizes
        #expect(sizes.reduce(0, +) == 32)
        #expect(sizes.max()! > 1 && sizes.max()! <= 16, "batches \(sizes)")
        #expect(sizes.count < 32, "batches \(sizes)")
        let metrics = try await HTTP.get(s.base + "/metrics").text
        #expect(metrics.contains("cohort_serve_batch_size_rows_count \(sizes.count)"), "\(metrics)")
        #expect(metrics.contains("cohort_serve_batch_size_rows_sum 32"), "\(metrics)")
        #expect(metrics.contains("cohort_serve_queue_depth_rows 0"))
        #expect(metrics.contains("cohort_serve_requests_total{endpoint=\"infer\",status=\"200\"} 32"))
        #expect(metrics.contains("cohort_serve_request_duration_seconds_bucket"))
        try await s.stop()
    }

    @Test func fullQueueIs503WithRetryAfter() async throws {
        let model = AffineModel(delay: 0.5)   // long enough for all 8 to arrive on a loaded machine
        let s = try await RunningServer.start(model) { $0.maxBatch = 1; $0.maxRowsPerRequest = 1; $0.maxQueuedRows = 2 }
        let answers = try await Self.concurrent(8, s.base + "/v2/models/affine/infer") { _ in [1, 2, 3, 4] }
        let refused = answers.filter { $0.status == 503 }
        let served = answers.filter { $0.status == 200 }
        #expect(refused.count + served.count == 8)
        #expect(!refused.isEmpty && served.count >= 3, "statuses \(answers.map(\.status))")
        for r in refused {
            #expect(r.headers["retry-after"] == "1")
            #expect((r.json["error"] as? String)?.contains("rows queued (limit 2)") == true, "\(r.text)")
        }
        for a in served { #expect(outputData(a) == model.forward([1, 2, 3, 4])) }
        try await s.stop()
    }

    @Test func watchSwapUnderLoadFailsNoRequest() async throws {
        let v1 = AffineModel(version: "1", delay: 0.002), v2 = AffineModel(version: "2", scale: -2, delay: 0.002)
        let s = try await RunningServer.start(v1) { $0.maxBatch = 8; $0.maxDelayMilliseconds = 1; $0.threads = 2 }
        let swapAt = Date().addingTimeInterval(0.5)
        let watcher = ModelWatcher(slot: s.server.slot, metrics: s.server.metrics, interval: 0.05, logger: Logger(label: "test")) {
            Date() >= swapAt && s.server.slot.current.version == "1" ? v2 : nil
        }
        var versions: [String: Int] = [:]
        var failures = 0
        let until = Date().addingTimeInterval(1.5)
        while Date() < until {
            let answers = try await Self.concurrent(16, s.base + "/v2/models/affine/infer") { [Float($0), 0.5, -1, 2] }
            for (i, a) in answers.enumerated() {
                guard a.status == 200, let version = a.json["model_version"] as? String else { failures += 1; continue }
                versions[version, default: 0] += 1
                let expected = (version == "1" ? v1 : v2).forward([Float(i), 0.5, -1, 2])
                if outputData(a) != expected { failures += 1 }
            }
        }
        watcher.stop()
        #expect(failures == 0)
        #expect(versions["1", default: 0] > 0 && versions["2", default: 0] > 0, "\(versions)")
        #expect(s.server.slot.swaps == 1)
        #expect(try await HTTP.get(s.base + "/metrics").text.contains("cohort_serve_model_swaps_total 1"))
        try await s.stop()
    }

    @Test func swapToAnotherSignatureIsRefused() throws {
        struct Wide: ServableModel {
            let name = "affine", version = "9"
            let input = TensorSignature(name: "input", datatype: .fp32, shape: [5])
            let output = TensorSignature(name: "logits", datatype: .fp32, shape: [3])
            func infer(rows: [Float], count: Int) throws -> [Float] { [] }
        }
        let slot = ModelSlot(AffineModel())
        #expect(throws: ServeError.self) { try slot.replace(with: Wide()) }
        #expect(slot.current.version == "1")
    }

    @Test func shutdownDrainsInFlightRequests() async throws {
        let model = AffineModel(delay: 0.4)
        let s = try await RunningServer.start(model) { $0.maxBatch = 2; $0.maxDelayMilliseconds = 0 }
        let url = s.base + "/v2/models/affine/infer"
        async let answers = Self.concurrent(6, url) { [Float($0), 0, 0, 0] }
        try await Task.sleep(for: .milliseconds(300))   // all 6 arrived; the first batch is computing
        await s.server.shutdown()
        #expect(s.server.isDraining)
        let done = try await answers
        #expect(done.map(\.status) == Array(repeating: 200, count: 6))
        for (i, a) in done.enumerated() { #expect(outputData(a) == model.forward([Float(i), 0, 0, 0])) }
        try await s.task.value
        #expect(model.batchSizes.reduce(0, +) == 6)
    }
}
