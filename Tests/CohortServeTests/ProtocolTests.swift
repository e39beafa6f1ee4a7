// The Open Inference Protocol over real HTTP on 127.0.0.1: health, metadata, infer results equal to
// the model's own forward, and malformed requests answered 400/404/413 with a JSON error naming the fault.
import CohortServe
import Foundation
import Testing

@Suite("Serve protocol", .serialized)
struct ServeProtocolTests {
    @Test func healthAndMetadata() async throws {
        let s = try await RunningServer.start(AffineModel(version: "7"))
        let live = try await HTTP.get(s.base + "/v2/health/live")
        #expect(live.status == 200)
        let ready = try await HTTP.get(s.base + "/v2/health/ready")
        #expect(ready.status == 200)
        #expect(try await HTTP.get(s.base + "/v2/models/affine/ready").status == 200)
        let meta = try await HTTP.get(s.base + "/v2/models/affine")
        #expect(meta.status == 200)
        #expect(meta.json["name"] as? String == "affine")
        #expect(meta.json["versions"] as? [String] == ["7"])
        let inputs = meta.json["inputs"] as? [[String: Any]]
        #expect(inputs?.first?["name"] as? String == "input")
        #expect(inputs?.first?["datatype"] as? String == "FP32")
        #expect(inputs?.first?["shape"] as? [Int] == [-1, 4])
        let outputs = meta.json["outputs"] as? [[String: Any]]
        #expect(outputs?.first?["shape"] as? [Int] == [-1, 3])
        let missing = try await HTTP.get(s.base + "/v2/models/nosuch")
        #expect(missing.status == 404)
        #expect((missing.json["error"] as? String)?.contains("nosuch") == true)
        try await s.stop()
    }

    @Test func inferEqualsForward() async throws {
        let model = AffineModel()
        let s = try await RunningServer.start(model)
        var g = SystemRandomNumberGenerator()
        for count in [1, 5, 32] {
            let rows = (0..<count).map { _ in (0..<4).map { _ in Float.random(in: -3...3, using: &g) } }
            let answer = try await HTTP.post(s.base + "/v2/models/affine/infer", json: inferBody(rows, id: "req-\(count)"))
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer.json["id"] as? String == "req-\(count)")
            #expect(answer.json["model_name"] as? String == "affine")
            let out = (answer.json["outputs"] as? [[String: Any]])?.first
            #expect(out?["shape"] as? [Int] == [count, 3])
            #expect(out?["datatype"] as? String == "FP32")
            #expect(outputData(answer) == rows.flatMap { model.forward($0) })
        }
        // Nested data ([[…], […]]) is the same tensor as flat data.
        let nested: [String: Any] = ["inputs": [["name": "input", "shape": [2, 4], "datatype": "FP32",
                                                 "data": [[1, 2, 3, 4], [5, 6, 7, 8]]]]]
        let answer = try await HTTP.post(s.base + "/v2/models/affine/infer", json: nested)
        #expect(outputData(answer) == model.forward([1, 2, 3, 4]) + model.forward([5, 6, 7, 8]))
        try await s.stop()
    }

    @Test func malformedRequestsAreJSON400s() async throws {
        let model = AffineModel()
        let s = try await RunningServer.start(model) { $0.maxRowsPerRequest = 8; $0.maxBodyBytes = 4096 }
        let url = s.base + "/v2/models/affine/infer"
        func input(_ fields: [String: Any]) -> [String: Any] {
            var t: [String: Any] = ["name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]]
            for (k, v) in fields { t[k] = v }
            return ["inputs": [t]]
        }
        let cases: [(Data, Int, String)] = [
            (Data("{\"inputs\": [".utf8), 400, "not valid JSON"),
            (Data("[1, 2]".utf8), 400, "JSON object"),
            (Data("{}".utf8), 400, "'inputs'"),
            (try JSONSerialization.data(withJSONObject: input(["datatype": "INT64"])), 400, "datatype is INT64"),
            (try JSONSerialization.data(withJSONObject: input(["shape": [1, 5]])), 400, "shape is [1, 5]"),
            (try JSONSerialization.data(withJSONObject: input(["shape": [2, 4]])), 400, "holds 4 values"),
            (try JSONSerialization.data(withJSONObject: input(["shape": [0, 4], "data": [Int]()])), 400, "at least 1 row"),
            (try JSONSerialization.data(withJSONObject: input(["name": "x"])), 400, "'x'"),
            (try JSONSerialization.data(withJSONObject: input(["data": [1, 2, "three", 4]])), 400, "data[2] is a string"),
            (try JSONSerialization.data(withJSONObject: input(["shape": "1,4"])), 400, "shape must be"),
            (try JSONSerialization.data(withJSONObject: input(["shape": [9, 4], "data": Array(repeating: 0, count: 36)])), 413, "at most 8"),
            (Data(("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[" + String(repeating: "1,", count: 3000) + "1]}]}").utf8),
             413, "--max-body-bytes"),
        ]
        for (body, status, fragment) in cases {
            let answer = try await HTTP.post(url, body)
            #expect(answer.status == status, "\(String(decoding: body.prefix(80), as: UTF8.self)) → \(answer.status) \(answer.text)")
            let message = answer.json["error"] as? String
            #expect(message?.contains(fragment) == true, "expected '\(fragment)' in \(answer.text)")
        }
        // The server still answers valid requests correctly.
        let ok = try await HTTP.post(url, json: inferBody([[1, 2, 3, 4]]))
        #expect(ok.status == 200)
        #expect(outputData(ok) == model.forward([1, 2, 3, 4]))
        let metrics = try await HTTP.get(s.base + "/metrics")
        #expect(metrics.text.contains("cohort_serve_requests_total{endpoint=\"infer\",status=\"400\"} 10"), "\(metrics.text)")
        try await s.stop()
    }
}
