// `cohort train`'s training controls from the command line: --label-smoothing and --dropout,
// their ranges and the tasks and models they apply to (each mistake an error naming the
// flag), and a deterministic run with dropout stopped half-way and resumed.
import Foundation
import Testing

@Suite struct TrainingControlsCLITests {
    @Test func labelSmoothingOutOfRangeOrOnRegressionIsRefusedByName() throws {
        for value in ["-0.1", "1", "1.5"] {
            let r = try CLI.run(["train", "--label-smoothing", value, "--steps", "1"])
            #expect(r.status == 2 && r.stderr.contains("--label-smoothing must be in [0, 1)"), "\(value): \(r.output)")
        }
        let regression = try CLI.run(["train", "--task", "regression", "--data", "x.csv", "--label-smoothing", "0.1", "--steps", "1"])
        #expect(regression.status == 2 && regression.stderr.contains("--label-smoothing smooths class targets"), "\(regression.output)")
    }

    @Test func labelSmoothingTrainsClassificationAndText() throws {
        for args in [["--hidden", "32"], ["--model", "gpt", "--data", "addition", "--layers", "1", "--d-model", "32", "--global-batch", "16"]] {
            let r = try CLI.run(["train", "--label-smoothing", "0.1", "--steps", "3", "--log-every", "100"] + args)
            #expect(r.status == 0 && r.stderr.contains("done: train loss"), "\(args): \(r.output)")
        }
    }

    @Test func dropoutOutOfRangeOrOnAModelWithoutItIsRefusedByName() throws {
        for value in ["-0.1", "1"] {
            let r = try CLI.run(["train", "--dropout", value, "--steps", "1"])
            #expect(r.status == 2 && r.stderr.contains("--dropout must be in [0, 1)"), "\(value): \(r.output)")
        }
        let gpt = try CLI.run(["train", "--model", "gpt", "--data", "addition", "--dropout", "0.1", "--steps", "1"])
        #expect(gpt.status == 2 && gpt.stderr.contains("--dropout applies to --model mlp or cnn"), "\(gpt.output)")
    }

    func sha(_ summary: String) throws -> String { try CLI.readJSON(summary)["weights_sha256"] as? String ?? "" }

    /// A --deterministic run with dropout, stopped at step 10 (a checkpoint) and resumed, ends with the
    /// weights of the uninterrupted run; dropout changes them, and --dropout 0 is the run without it.
    @Test func deterministicDropoutRunResumesBitwise() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let common = ["train", "--deterministic", "--steps", "20", "--hidden", "32", "--global-batch", "32", "--log-every", "100"]
        let plateau: [String] = []
        let controls = plateau + ["--dropout", "0.1"]
        func run(_ extra: [String], _ name: String) throws -> String {
            let summary = dir.appendingPathComponent(name + ".json").path
            let r = try CLI.run(common + extra + ["--summary-json", summary])
            #expect(r.status == 0, "\(extra): \(r.output)")
            return try sha(summary)
        }
        let whole = try run(controls, "whole")
        let ckpt = dir.appendingPathComponent("ckpt").path
        let resumeArgs = controls + ["--checkpoint-dir", ckpt, "--checkpoint-every", "5", "--resume", "auto"]
        let halted = try CLI.run(common + resumeArgs + ["--halt-at", "10"])
        #expect(halted.status == 0 && FileManager.default.fileExists(atPath: ckpt + "/step-00000010"), "\(halted.output)")
        #expect(try run(resumeArgs, "resumed") == whole, "stopped at step 10 and resumed")
        let plain = try run(plateau, "plain")
        #expect(plain != whole, "dropout changes the updates")
        #expect(try run(plateau + ["--dropout", "0"], "zero") == plain, "--dropout 0 is the run without dropout")
    }
}
