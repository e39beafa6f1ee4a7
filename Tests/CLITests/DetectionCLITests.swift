// Object detection end to end on a small data set made from MNIST: `cohort data
// make-detection` is deterministic from its seed; `cohort train --task detect` at two
// ranks logs mAP; a deterministic run killed mid-way resumes, and one restarted by
// `cohort launch` after an injected rank failure, both end with the uninterrupted run's
// weights; `cohort predict` draws boxes; mistakes name their flag or file.
import Foundation
import Testing

@Suite(.serialized) struct DetectionCLITests {
    func sha(_ summary: String) throws -> String { try CLI.readJSON(summary)["weights_sha256"] as? String ?? "" }

    /// A 48 × 48 data set: 128 train, 32 val, 32 test scenes.
    func make(_ dir: String, seed: Int = 0) throws -> CLIResult {
        try CLI.run(["data", "make-detection", "--mnist", CLI.mnist, "--out", dir, "--train", "128", "--val", "32", "--test", "32",
                     "--canvas", "48", "--seed", "\(seed)"], timeout: 120)
    }

    func base(_ data: String) -> [String] {
        ["train", "--task", "detect", "--model", "detector", "--data", data, "--hidden", "8", "--global-batch", "16", "--lr", "0.003", "--log-every", "1000"]
    }

    @Test func makeDetectionIsDeterministicAndRefusesToOverwrite() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try make(dir + "/a"), b = try make(dir + "/b"), c = try make(dir + "/c", seed: 1)
        #expect(a.status == 0 && b.status == 0 && c.status == 0, "\(a.output)")
        #expect(a.output.contains("128 images of 48×48"), "\(a.output)")
        for file in ["train/annotations.json", "test/annotations.json", "val/images/000031.png"] {
            let x = FileManager.default.contents(atPath: dir + "/a/" + file), y = FileManager.default.contents(atPath: dir + "/b/" + file)
            #expect(x != nil && x == y, "\(file)")
        }
        #expect(FileManager.default.contents(atPath: dir + "/a/train/annotations.json") != FileManager.default.contents(atPath: dir + "/c/train/annotations.json"))
        let again = try make(dir + "/a")
        #expect(again.status != 0 && again.stderr.contains("--out") && again.stderr.contains("--force"), "\(again.output)")
    }

    @Test func trainsResumesRestartsAndDrawsBoxes() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try make(dir + "/data").status == 0)
        let det = base(dir + "/data") + ["--deterministic", "--steps", "24", "--checkpoint-every", "8", "--val-every", "12"]
        let reference = try CLI.mpirun(2, det + ["--summary-json", dir + "/ref.json", "--checkpoint-dir", dir + "/ref"], timeout: 300)
        #expect(reference.status == 0, "\(reference.output)")
        for text in ["128 train", "6×6 grid", "val mAP@0.5", "test mAP@[.5:.95]"] { #expect(reference.output.contains(text), "'\(text)' missing: \(reference.output)") }
        let s = try CLI.readJSON(dir + "/ref.json")
        for key in ["test_map50", "test_map"] {
            let v = s[key] as? Double
            #expect(v != nil && v! >= 0 && v! <= 1, "\(key): \(String(describing: s[key]))")
        }
        let expected = try sha(dir + "/ref.json")
        // Killed (SIGKILL from the fault plan) after the step-16 checkpoint, resumed.
        let killed = try CLI.mpirun(2, det + ["--checkpoint-dir", dir + "/k", "--inject-fault", "kill@19:rank=1"], timeout: 300)
        #expect(killed.status != 0 && FileManager.default.fileExists(atPath: dir + "/k/step-00000016"), "\(killed.output)")
        let resumed = try CLI.mpirun(2, det + ["--checkpoint-dir", dir + "/k", "--resume", "auto", "--summary-json", dir + "/k.json"], timeout: 300)
        #expect(resumed.status == 0 && resumed.output.contains("step-00000016"), "\(resumed.output)")
        #expect(try sha(dir + "/k.json") == expected)
        // cohort launch: rank 1 killed at step 19 of the first attempt; the restart resumes from step 16.
        let launched = try CLI.run(["launch", "--np", "2", "--max-restarts", "2", "--inject-fault", "kill@19:rank=1", "--"]
                                   + det.dropFirst() + ["--checkpoint-dir", dir + "/l", "--summary-json", dir + "/l.json"], timeout: 300)
        #expect(launched.status == 0 && launched.output.contains("step-00000016"), "\(launched.output)")
        #expect(try sha(dir + "/l.json") == expected)
        // Predict: JSON lines of boxes, and the images with their boxes drawn.
        let predict = try CLI.mpirun(2, ["predict", "--checkpoint", dir + "/ref", "--input", dir + "/data/test", "--draw", dir + "/drawn",
                                         "--min-score", "0", "--output", dir + "/boxes.jsonl"], timeout: 120)
        #expect(predict.status == 0, "\(predict.output)")
        let lines = ((try? String(contentsOfFile: dir + "/boxes.jsonl", encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(lines.count == 32 && lines[0].contains("000000.png") && lines[31].contains("000031.png") && lines[0].contains("\"box\":["), "\(lines.prefix(2))")
        let drawn = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/drawn")) ?? []
        #expect(drawn.count == 32, "\(drawn.count) drawn")
        // A detector is not a classifier: export refuses it by name.
        let export = try CLI.run(["ckpt", "export", dir + "/ref", "--format", "onnx", "--output", dir + "/m.onnx"], timeout: 60)
        #expect(export.status != 0 && !export.stderr.contains("Fatal error"), "\(export.output)")
    }

    @Test func mistakesNameTheirFlagOrFile() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try make(dir + "/data").status == 0)
        let data = dir + "/data"
        let cases: [([String], [String])] = [
            (base(data).map { $0 == "detector" ? "cnn" : $0 }, ["--task detect takes --model detector"]),
            (["train", "--model", "detector", "--data", data], ["--model detector needs --task detect"]),
            (base(dir), ["annotations.json", "make-detection"]),
            (base(data) + ["--val-split", "0.1"], ["--val-split", "\(data)/val"]),
            (base(data).map { $0 == "8" ? "7" : $0 }, ["--hidden", "even"]),
            (base(data) + ["--label-smoothing", "0.1"], ["--label-smoothing"]),
        ]
        for (args, expected) in cases {
            let r = try CLI.run(args + ["--steps", "2"], timeout: 60)
            #expect(r.status != 0, "\(args): \(r.output)")
            for text in expected { #expect(r.stderr.contains(text), "\(args): '\(text)' not in \(r.stderr)") }
            #expect(!r.stderr.contains("Fatal error"))
        }
    }
}
