// `cohort ckpt export` writes what inference needs into the safetensors metadata and the
// npz's `__metadata__` member: only the sizes that apply to the model, input shape, dtype
// and normalization, class names, the data fingerprint. Applying the exported MNIST
// normalization in PyTorch to the raw test images reproduces Cohort's test accuracy.
import CohortData
import Foundation
import Testing

@Suite(.serialized) struct ExportMetadataTests {
    typealias RT = TorchRoundTripTests

    /// The safetensors metadata, and the npz member's JSON object, of `step` exported both ways.
    func exported(_ step: String, _ dir: String, names: [String] = []) throws -> (safetensors: [String: String], npz: [String: String]) {
        for format in ["safetensors", "npz"] {
            let r = try RT.run([RT.binary, "ckpt", "export", step, "--format", format, "--out", dir + "/m." + format] + names)
            #expect(r.status == 0, "\(r.output)")
        }
        let member = try #require(try NPZ.read(path: dir + "/m.npz")["__metadata__"])
        let object = try JSONSerialization.jsonObject(with: Data(member.values.map { UInt8($0) }))
        return (try SafetensorsFile(path: dir + "/m.safetensors").metadata, try #require(object as? [String: String]))
    }

    @Test func cnnOnMNISTRecordsNormalizationAndMatchesTorchAccuracy() throws {
        let dir = try RT.scratch("meta-cnn")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let summary = dir + "/s.json"
        let train = try RT.run([RT.binary, "train", "--model", "cnn", "--data", RT.mnist, "--steps", "30", "--global-batch", "64",
                                "--threads", "1", "--checkpoint-dir", dir + "/run", "--summary-json", summary])
        #expect(train.status == 0, "\(train.output)")
        let (meta, npz) = try exported(dir + "/run/step-00000030", dir, names: ["--names", "torch"])
        #expect(meta == npz)
        #expect(meta["model"] == "cnn" && meta["model.classes"] == "10" && meta["model.inputs"] == "784")
        #expect(meta["model.heads"] == nil && meta["model.d_model"] == nil && meta["model.hidden"] == nil, "\(meta)")
        #expect(meta["inference.input_shape"] == "[1,28,28]" && meta["inference.input_dtype"] == "float32")
        #expect(meta["inference.normalization"] == #"{"kind":"pixels","divide":255,"mean":0.1307,"std":0.3081}"#)
        #expect(meta["inference.data_name"] == "mnist" && meta["inference.data_sha256"]?.count == 64, "\(meta)")
        #expect(meta["names"] == "torch (cnn)")

        let cohort = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: summary))) as? [String: Any])
        let accuracy = try #require(cohort["test_accuracy"] as? Double)
        let torch = try RT.python(["mnist-accuracy", dir + "/m.safetensors", RT.mnist])
        #expect(torch.status == 0, "\(torch.output)")
        let torchAccuracy = try #require(Double(torch.output.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        print("cnn, 30 steps: Cohort test accuracy \(accuracy), PyTorch with the exported normalization \(torchAccuracy)")
        #expect(abs(accuracy - torchAccuracy) <= 0.0005, "Cohort \(accuracy), PyTorch \(torchAccuracy)")
    }

    @Test func csvModelRecordsStandardizerAndClassNames() throws {
        let dir = try RT.scratch("meta-csv")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var csv = "x,y,z,label\n"
        for i in 0..<60 { csv += "\(i % 7),\(Double(i) * 0.5),\(i % 3 == 0 ? 1 : 0),\(["cat", "dog", "emu"][i % 3])\n" }
        try csv.write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
        let train = try RT.run([RT.binary, "train", "--data", dir + "/t.csv", "--hidden", "8", "--steps", "2", "--global-batch", "8",
                                "--threads", "1", "--checkpoint-dir", dir + "/run"])
        #expect(train.status == 0, "\(train.output)")
        let (meta, npz) = try exported(dir + "/run/step-00000002", dir)
        #expect(meta == npz)
        #expect(meta["model"] == "mlp" && meta["model.hidden"] == "8" && meta["model.inputs"] == "3" && meta["model.layers"] == nil)
        #expect(meta["inference.input_shape"] == "[3]" && meta["inference.class_names"] == #"["cat","dog","emu"]"#, "\(meta)")
        let norm = try #require(try JSONSerialization.jsonObject(with: Data((meta["inference.normalization"] ?? "").utf8)) as? [String: Any])
        #expect(norm["kind"] as? String == "standardize")
        let mean = try #require(norm["mean"] as? [Double]), std = try #require(norm["std"] as? [Double])
        #expect(mean.count == 3 && std.count == 3 && mean[0] > 2 && mean[0] < 4 && std.allSatisfy { $0 > 0 }, "\(norm)")
        #expect(meta["inference.data_sha256"]?.count == 64)
    }

    /// `ckpt export --name-map FILE`: renamed and transposed tensors, loading back through the
    /// same file with `--init-from … --name-map FILE`.
    @Test func mapFileExportTransposesAndImportsBack() throws {
        let dir = try RT.scratch("map-file")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let train = try RT.run([RT.binary, "train", "--hidden", "8", "--steps", "1", "--global-batch", "8", "--threads", "1",
                                "--checkpoint-dir", dir + "/run"])
        #expect(train.status == 0, "\(train.output)")
        let step = dir + "/run/step-00000001", map = dir + "/map.toml"
        try "[w]\nmatch = '^(\\d+)\\.weight$'\nreplace = 'dense$1.kernel'\ntranspose = true\n".write(toFile: map, atomically: true, encoding: .utf8)
        for (args, out) in [([String](), "plain"), (["--name-map", map], "mapped")] {
            let r = try RT.run([RT.binary, "ckpt", "export", step, "--format", "safetensors", "--out", "\(dir)/\(out).safetensors"] + args)
            #expect(r.status == 0, "\(r.output)")
        }
        let plain = try SafetensorsFile(path: dir + "/plain.safetensors"), mapped = try SafetensorsFile(path: dir + "/mapped.safetensors")
        #expect(mapped.entries.map(\.name) == ["dense1.kernel", "1.bias", "dense3.kernel", "3.bias"], "\(mapped.entries.map(\.name))")
        let w = try plain.tensor("1.weight"), k = try mapped.tensor("dense1.kernel")
        #expect(w.shape == [8, 64] && k.shape == [64, 8])
        var transposed = true
        for r in 0..<8 { for c in 0..<64 where w.values[r * 64 + c] != k.values[c * 8 + r] { transposed = false } }
        #expect(transposed)
        let back = try RT.run([RT.binary, "train", "--hidden", "8", "--steps", "1", "--global-batch", "8", "--threads", "1",
                               "--init-from", dir + "/mapped.safetensors", "--name-map", map])
        #expect(back.status == 0 && back.output.contains("loaded 4 tensors"), "\(back.output)")
        let refused = try RT.run([RT.binary, "train", "--hidden", "8", "--steps", "1", "--init-from", dir + "/mapped.safetensors"])
        #expect(refused.status == 2 && refused.output.contains("unexpected: the source's dense1.kernel"), "\(refused.output)")
    }

    /// A standardizer longer than a checkpoint string (4,096 bytes) is stored in parts and
    /// exported whole.
    @Test func aWideStandardizerOutgrowsOneCheckpointString() throws {
        let dir = try RT.scratch("meta-wide")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var csv = (0..<500).map { "f\($0)" }.joined(separator: ",") + ",label\n"
        for i in 0..<40 { csv += (0..<500).map { j in "\(Double((i * 31 + j * 7) % 101) / 7)" }.joined(separator: ",") + ",\(i % 2)\n" }
        try csv.write(toFile: dir + "/w.csv", atomically: true, encoding: .utf8)
        let train = try RT.run([RT.binary, "train", "--data", dir + "/w.csv", "--hidden", "4", "--steps", "1", "--global-batch", "8",
                                "--threads", "1", "--checkpoint-dir", dir + "/run"])
        #expect(train.status == 0, "\(train.output)")
        let (meta, npz) = try exported(dir + "/run/step-00000001", dir)
        #expect(meta == npz && !meta.keys.contains { $0.contains("#") }, "\(meta.keys.sorted())")
        let text = meta["inference.normalization"] ?? ""
        #expect(text.utf8.count > 4096)
        let norm = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect((norm["mean"] as? [Double])?.count == 500 && (norm["std"] as? [Double])?.count == 500)
    }
}
