// `cohort export` on a checkpoint `cohort train` wrote (iris, standardized features):
// the ONNX file with the normalization in metadata_props and the one with it in the graph
// both give the checkpoint's own outputs in ONNX Runtime (within 1e-4, batch 64 and 1);
// so does the --int8-weights file on the dequantized weights; npz/safetensors delegate to `ckpt export`; bad flags are errors naming the flag.
import CohortCheckpoint
import CohortNN
import CohortRuntime
import CohortTensor
import Foundation
import Testing

@Suite(.serialized) struct ExportCommandTests {
    static let iris = ONNXReference.repo.deletingLastPathComponent().appendingPathComponent("shared/data/iris/iris.csv").path
    /// The release `cohort` binary (COHORT_BIN, set by `make test`; else .build/release/cohort).
    static var binary: String {
        ProcessInfo.processInfo.environment["COHORT_BIN"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ONNXReference.repo.appendingPathComponent(".build/release/cohort").path
    }

    static func cohort(_ args: [String], in dir: URL) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        p.currentDirectoryURL = dir
        let log = dir.appendingPathComponent("cohort.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let h = try FileHandle(forWritingTo: log)
        p.standardOutput = h
        p.standardError = h
        try p.run()
        p.waitUntilExit()
        try h.close()
        return (p.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    @Test func exportedCheckpointMatchesItsOwnOutputs() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "no cohort binary at \(Self.binary)")
        let dir = try ONNXReference.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = try Self.cohort(["train", "--data", Self.iris, "--batch-size", "32", "--steps", "30", "--hidden", "16,8",
                                     "--checkpoint-every", "30", "--checkpoint-dir", "ck", "--log-every", "1000"], in: dir)
        try #require(train.status == 0, "\(train.output)")
        let plain = try Self.cohort(["export", "ck", "--format", "onnx", "--out", "plain.onnx"], in: dir)
        let inGraph = try Self.cohort(["export", "ck", "--out", "norm.onnx", "--normalize-in-graph"], in: dir)
        #expect(plain.status == 0 && plain.output.contains("wrote plain.onnx"), "\(plain.output)")
        #expect(inGraph.status == 0, "\(inGraph.output)")

        // The checkpoint's own forward, rebuilt here, on standardized rows.
        let c = try Checkpoint(path: dir.appendingPathComponent("ck/step-00000030").path)
        let settings = Dictionary(c.manifest.model.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        var g = RandomGenerator(seed: 0)
        let model = try ModelZoo.build(ModelSpec(name: "mlp", settings: settings), shape: ModelShape(inputs: 4, outputs: 3, sequence: false),
                                       generator: &g)
        try TrainingCheckpoint.restore(c, arena: ParameterArena(model), optimizer: nil)
        model.eval()
        let record = try #require(c.manifest.metadata.first { $0.key == "inference.normalization" }?.value)
        let norm = try #require(try JSONSerialization.jsonObject(with: Data(record.utf8)) as? [String: Any])
        let mean = try #require(norm["mean"] as? [Double]), std = try #require(norm["std"] as? [Double])
        var rg = RandomGenerator(seed: 5)
        let raw = (0..<(64 * 4)).map { _ in Float(rg.nextDouble() * 8) }
        let standardized = raw.enumerated().map { Float((Double($0.element) - mean[$0.offset % 4]) / std[$0.offset % 4]) }
        let y = try withNoGrad { try model(Tensor(standardized, shape: [64, 4])) }

        let a = try ONNXReference.check(model: dir.appendingPathComponent("plain.onnx").path, inputs: standardized, inputShape: [64, 4],
                                        expected: y.scalars, expectedShape: y.shape)
        #expect((a.batchN ?? .infinity) <= 1e-4 && (a.batch1 ?? .infinity) <= 1e-4, "\(a.json)")
        #expect(a.metadata["inference.normalization"] == record && a.metadata["export.normalization_in_graph"] == "false", "\(a.metadata)")
        #expect(a.metadata["model"] == "mlp" && a.metadata["model.hidden"] == "16,8" && a.metadata["inference.class_names"] != nil, "\(a.metadata)")
        let b = try ONNXReference.check(model: dir.appendingPathComponent("norm.onnx").path, inputs: raw, inputShape: [64, 4],
                                        expected: y.scalars, expectedShape: y.shape)
        #expect((b.batchN ?? .infinity) <= 1e-4 && (b.batch1 ?? .infinity) <= 1e-4, "\(b.json)")
        #expect(b.metadata["export.normalization_in_graph"] == "true", "\(b.metadata)")

        // --int8-weights: the same model on its dequantized weights.
        let q = try Self.cohort(["export", "ck", "--out", "int8.onnx", "--int8-weights"], in: dir)
        #expect(q.status == 0, "\(q.output)")
        try Int8ExportTests.fakeQuantize(model)
        let yq = try withNoGrad { try model(Tensor(standardized, shape: [64, 4])) }
        let c8 = try ONNXReference.check(model: dir.appendingPathComponent("int8.onnx").path, inputs: standardized, inputShape: [64, 4],
                                         expected: yq.scalars, expectedShape: yq.shape, optimization: "basic")
        #expect((c8.batchN ?? .infinity) <= 1e-4 && (c8.batch1 ?? .infinity) <= 1e-4, "\(c8.json)")
        #expect(c8.metadata["export.weights"]?.hasPrefix("int8") == true, "\(c8.metadata)")

        let st = try Self.cohort(["export", "ck", "--format", "safetensors", "--out", "w.safetensors"], in: dir)
        #expect(st.status == 0 && FileManager.default.fileExists(atPath: dir.appendingPathComponent("w.safetensors").path), "\(st.output)")
        let bad = try Self.cohort(["export", "ck", "--format", "tflite"], in: dir)
        #expect(bad.status == 2 && bad.output.contains("--format"), "\(bad.output)")
        let wrong = try Self.cohort(["export", "ck", "--format", "npz", "--normalize-in-graph"], in: dir)
        #expect(wrong.status == 2 && wrong.output.contains("--normalize-in-graph"), "\(wrong.output)")
    }
}
