// `cohort serve` with a text model (a char-LSTM trained by `cohort train`): prompts in as a BYTES
// tensor, greedy continuations out, the same strings `cohort predict` writes; a prompt's fault is a
// 400 naming its index, a token count above --max-tokens a 413.
import CohortProcessTestSupport
import Foundation
import Testing

@Suite("Serve text model", .serialized)
struct TextServeTests {
    static let shakespeare = ServeCLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/tiny-shakespeare").path

    static func body(_ prompts: [String], datatype: String = "BYTES", maxTokens: Int? = nil, id: String? = nil) -> [String: Any] {
        var b: [String: Any] = ["inputs": [["name": "prompt", "shape": [prompts.count], "datatype": datatype, "data": prompts]]]
        if let maxTokens { b["parameters"] = ["max_tokens": maxTokens] }
        if let id { b["id"] = id }
        return b
    }

    @Test func promptsGetWhatPredictWrites() async throws {
        let dir = try makeScratchDirectory(prefix: "cohort-serve-text")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let trainLog = dir + "/train.log"
        let train = try ServeCLI.run(["train", "--model", "lstm", "--data", Self.shakespeare, "--hidden", "32", "--layers", "1",
                                      "--embedding", "16", "--context", "32", "--steps", "30", "--global-batch", "16", "--lr", "1e-2",
                                      "--checkpoint-dir", dir + "/run", "--checkpoint-every", "30", "--log-every", "1000"], log: trainLog)
        try #require(train.wait(timeout: 300) == 0, "cohort train: \(train.output)")
        let prompts = ["ROMEO:", "To be, or not"]
        try (prompts.joined(separator: "\n") + "\n").write(toFile: dir + "/prompts.txt", atomically: true, encoding: .utf8)
        let predict = try ServeCLI.run(["predict", "--checkpoint", dir + "/run", "--input", dir + "/prompts.txt", "--tokens", "25",
                                        "--output", dir + "/predict.jsonl"], log: dir + "/predict.log")
        try #require(predict.wait(timeout: 120) == 0, "cohort predict: \(predict.output)")
        let written = try String(contentsOfFile: dir + "/predict.jsonl", encoding: .utf8).split(separator: "\n").map { line in
            (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["continuation"] as? String ?? ""
        }

        let (child, port) = try ServeCLI.serve(["--checkpoint", dir + "/run", "--name", "bard", "--max-tokens", "100"], log: dir + "/serve.log")
        defer { if child.process.isRunning { child.process.terminate() } }
        let base = "http://127.0.0.1:\(port)/v2/models/bard"
        let meta = try await HTTP.get(base).json
        let input = (meta["inputs"] as? [[String: Any]])?.first
        #expect(input?["datatype"] as? String == "BYTES" && input?["shape"] as? [Int] == [-1], "\(meta)")
        #expect((meta["outputs"] as? [[String: Any]])?.first?["name"] as? String == "text", "\(meta)")

        let answer = try await HTTP.post(base + "/infer", json: Self.body(prompts, maxTokens: 25, id: "q1"))
        #expect(answer.status == 200, "\(answer.text)")
        let output = (answer.json["outputs"] as? [[String: Any]])?.first
        #expect(output?["datatype"] as? String == "BYTES" && output?["shape"] as? [Int] == [2] && answer.json["id"] as? String == "q1")
        let texts = output?["data"] as? [String] ?? []
        #expect(texts == written && texts.allSatisfy { $0.count == 25 }, "served \(texts), predict wrote \(written)")
        let defaultLength = try await HTTP.post(base + "/infer", json: Self.body(["ROMEO:"]))
        #expect(((defaultLength.json["outputs"] as? [[String: Any]])?.first?["data"] as? [String])?.first?.count == 50, "\(defaultLength.text)")

        let unknown = try await HTTP.post(base + "/infer", json: Self.body(["ROMEO:", "the ~ sign"]))
        #expect(unknown.status == 400 && unknown.text.contains("data[1]"), "\(unknown.text)")
        let empty = try await HTTP.post(base + "/infer", json: Self.body(["ROMEO:", ""]))
        #expect(empty.status == 400 && empty.text.contains("data[1]") && empty.text.contains("empty"), "\(empty.text)")
        let wrongType = try await HTTP.post(base + "/infer", json: Self.body(["ROMEO:"], datatype: "FP32"))
        #expect(wrongType.status == 400 && wrongType.text.contains("BYTES"), "\(wrongType.text)")
        let tooMany = try await HTTP.post(base + "/infer", json: Self.body(["ROMEO:"], maxTokens: 101))
        #expect(tooMany.status == 413 && tooMany.text.contains("--max-tokens"), "\(tooMany.text)")
        let notAString = try await HTTP.post(base + "/infer", json: ["inputs": [["name": "prompt", "shape": [1], "datatype": "BYTES", "data": [3]]]])
        #expect(notAString.status == 400 && notAString.text.contains("not a string"), "\(notAString.text)")
        let still = try await HTTP.post(base + "/infer", json: Self.body(["ROMEO:"], maxTokens: 25))
        #expect(((still.json["outputs"] as? [[String: Any]])?.first?["data"] as? [String]) == [written[0]], "\(still.text)")

        kill(child.process.processIdentifier, SIGTERM)
        #expect(child.wait(timeout: 30) == 0, "\(child.output)")
    }
}
