// Post-training quantization on real data: models `cohort train` (the release binary,
// $COHORT_BIN) trains for 300 steps on MNIST and Fashion-MNIST, quantized to int8
// (dynamic; static with calibration for the CNNs, through `cohort quantize`), scored on
// the 10,000 test images against the fp32 checkpoint: accuracy drop ≤ 0.3 points and the
// .cq file ≤ 0.27 × the fp32 safetensors export. Also the kernel override of `doctor`.
import CohortCheckpoint
import CohortCore
import CohortData
import CohortNN
import CohortProcess
import CohortQuantize
import CohortRuntime
import CohortTensor
import Foundation
import Testing

@Suite(.serialized) struct QuantizedAccuracyTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let data = repo.deletingLastPathComponent().appendingPathComponent("shared/data").path
    static var binary: String {
        ProcessInfo.processInfo.environment["COHORT_BIN"].flatMap { $0.isEmpty ? nil : $0 } ?? repo.appendingPathComponent(".build/release/cohort").path
    }

    static func run(_ argv: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let r = try runWithTimeout(argv: environment.isEmpty ? argv : ["/usr/bin/env"] + environment.map { "\($0.key)=\($0.value)" } + argv, timeout: 900)
        return (r.status.processStatus, r.stdout + r.stderr)
    }

    static func scratch(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-quant-\(name)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Test accuracy of `model` on the MNIST-format test split of `directory`.
    static func accuracy(_ model: any Module, _ test: ClassificationDataset) throws -> Double {
        var correct = 0
        try withNoGrad {
            var start = 0
            while start < test.count {
                let b = try test.makeBatch(indices: Array(start..<min(start + 500, test.count)))
                let logits = try model(b.inputs).contiguous().scalars
                let classes = logits.count / b.labels.count
                for (i, label) in b.labels.enumerated() {
                    let row = logits[(i * classes)..<((i + 1) * classes)]
                    if row.firstIndex(of: row.max()!)! - i * classes == label { correct += 1 }
                }
                start += 500
            }
        }
        return Double(correct) / Double(test.count)
    }

    /// Trains `model` on `dataset` for 300 steps; quantizes it (dynamic in-process; static through the CLI for
    /// convolutional models); checks accuracy and size; returns the figures for the report.
    static func check(model: String, dataset: String) throws {
        let dir = try scratch("\(model)-\(dataset)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = data + "/" + dataset
        let train = try run([binary, "train", "--model", model, "--data", path, "--steps", "300", "--global-batch", "64",
                             "--threads", "1", "--checkpoint-dir", dir + "/run"])
        try #require(train.status == 0, "\(train.output)")
        let checkpoint = try Checkpoint(path: dir + "/run/step-00000300")
        let export = try run([binary, "ckpt", "export", checkpoint.path, "--format", "safetensors", "--out", dir + "/fp32.safetensors"])
        try #require(export.status == 0, "\(export.output)")
        let fp32Bytes = try #require(try FileManager.default.attributesOfItem(atPath: dir + "/fp32.safetensors")[.size] as? Int)

        // An fp32 export is not a quantized model: a clear error naming the file.
        do {
            _ = try QuantizedModelFile.load(path: dir + "/fp32.safetensors")
            Issue.record("an fp32 export loaded as a quantized model")
        } catch let e as CohortError {
            #expect("\(e)".contains("fp32.safetensors") && "\(e)".contains("not a quantized model"), "\(e)")
        }
        let test = try MNIST.load(directory: path, split: .test, normalize: true)
        let fp32 = try accuracy(try QuantizedModelFile.model(of: checkpoint), test)
        var lines = ["\(model) on \(dataset), 300 steps: fp32 \(String(format: "%.2f", fp32 * 100)) %"]
        var variants: [(String, [String])] = [("dynamic", ["--mode", "dynamic"])]
        if model == "cnn" { variants.append(("static", ["--mode", "static", "--calibration-data", path, "--calibration-batches", "8"])) }
        for (name, flags) in variants {
            let out = dir + "/\(name).cq"
            let q = try run([binary, "quantize", checkpoint.path, "--out", out] + flags)
            try #require(q.status == 0, "\(q.output)")
            #expect(q.output.contains("layers in int8"), "\(q.output)")
            let int8 = try accuracy(try QuantizedModelFile.load(path: out), test)
            let bytes = try #require(try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int)
            let ratio = Double(bytes) / Double(fp32Bytes)
            lines.append("int8 \(name) \(String(format: "%.2f", int8 * 100)) % (drop \(String(format: "%.2f", (fp32 - int8) * 100)) points), file \(bytes) / \(fp32Bytes) = \(String(format: "%.3f", ratio))")
            #expect(fp32 - int8 <= 0.003, "\(model) on \(dataset), \(name): fp32 \(fp32), int8 \(int8)")
            #expect(ratio <= 0.27, "\(out): \(bytes) bytes, fp32 export \(fp32Bytes)")
        }
        if model == "mlp" {   // `cohort predict` runs the .cq file: its classes agree with the checkpoint's
            let images = path + "/t10k-images-idx3-ubyte.gz"
            func classes(_ model: String, _ out: String) throws -> [Int] {
                let r = try run([binary, "predict", "--checkpoint", model, "--input", images, "--output", out])
                try #require(r.status == 0, "\(r.output)")
                return try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map {
                    try #require((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["class"] as? Int)
                }
            }
            let int8 = try classes(dir + "/dynamic.cq", dir + "/int8.jsonl"), fp32 = try classes(checkpoint.path, dir + "/fp32.jsonl")
            let agree = zip(int8, fp32).filter { $0 == $1 }.count
            lines.append("cohort predict: int8 and fp32 classes agree on \(agree) of \(fp32.count)")
            #expect(int8.count == 10_000 && Double(agree) >= 0.995 * Double(fp32.count), "\(agree) of \(fp32.count)")
        }
        // bf16 weights: half the size, computed in fp32.
        let half = try QuantizedModelFile.quantize(checkpoint, to: dir + "/bf16.cq", dtype: .bf16)
        let bf16 = try accuracy(try QuantizedModelFile.load(path: half.path), test)
        lines.append("bf16 \(String(format: "%.2f", bf16 * 100)) %, file ratio \(String(format: "%.3f", Double(half.fileBytes) / Double(fp32Bytes)))")
        #expect(fp32 - bf16 <= 0.003 && Double(half.fileBytes) <= 0.51 * Double(fp32Bytes))
        print(lines.joined(separator: "; ") + " (int8 kernel \(try Int8Kernel.selected()))")
    }

    @Test func mnistMLP() throws { try Self.check(model: "mlp", dataset: "mnist") }
    @Test func mnistCNN() throws { try Self.check(model: "cnn", dataset: "mnist") }
    @Test func fashionMNISTCNN() throws { try Self.check(model: "cnn", dataset: "fashion-mnist") }

    @Test func doctorReportsAndForcesTheKernel() throws {
        let plain = try Self.run([Self.binary, "doctor"])
        #expect(plain.output.contains("int8 kernel   \(try Int8Kernel.selected())"), "\(plain.output)")
        for kernel in Int8Kernel.supported {
            let forced = try Self.run([Self.binary, "doctor"], environment: ["COHORT_INT8_KERNEL": kernel.description])
            #expect(forced.status == 0 && forced.output.contains("int8 kernel   \(kernel) "), "\(forced.output)")
        }
        let bad = try Self.run([Self.binary, "doctor"], environment: ["COHORT_INT8_KERNEL": "sse9"])
        #expect(bad.status != 0 && bad.output.contains("COHORT_INT8_KERNEL=sse9 is not a kernel"), "\(bad.output)")
        for kernel in Int8Kernel.allCases where !kernel.isSupported {
            let lacking = try Self.run([Self.binary, "doctor"], environment: ["COHORT_INT8_KERNEL": kernel.description])
            #expect(lacking.status != 0 && lacking.output.contains("lacks"), "\(lacking.output)")
        }
    }

    @Test func quantizeFlagsAreChecked() throws {
        let dir = try Self.scratch("flags")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Self.run([Self.binary, "quantize", dir, "--out", dir + "/m.cq", "--mode", "fast"])
        #expect(r.status != 0 && r.output.contains("--mode"), "\(r.output)")
        let s = try Self.run([Self.binary, "quantize", dir, "--out", dir + "/m.cq", "--dtype", "bf16", "--mode", "static"])
        #expect(s.status != 0 && s.output.contains("--mode"), "\(s.output)")
    }
}
