// `cohort train --task forecast` end to end: a short two-rank run on the CO₂ series
// prints the model's test scores beside the naive, seasonal-naive and linear-AR
// baselines; a deterministic run killed mid-way resumes (at another world size) and
// one restarted by `cohort launch` after an injected rank failure both end with the
// uninterrupted run's weights; flag mistakes name the flag; predict/eval refuse clearly.
import Foundation
import Testing

@Suite(.serialized) struct ForecastCLITests {
    static let co2 = CLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/timeseries/co2.csv").path
    let base = ["--task", "forecast", "--data", co2, "--column", "co2_ppm", "--context", "26", "--horizon", "4", "--season", "52",
                "--model", "lstm", "--hidden", "16", "--layers", "1", "--embedding", "8", "--global-batch", "32", "--log-every", "1000"]

    func sha(_ summary: String) throws -> String { try CLI.readJSON(summary)["weights_sha256"] as? String ?? "" }

    @Test func twoRanksPrintTheModelBesideEveryBaseline() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("s.json").path
        let r = try CLI.mpirun(2, ["train"] + base + ["--steps", "40", "--lr", "0.01", "--val-every", "20", "--summary-json", summary], timeout: 120)
        #expect(r.status == 0, "\(r.output)")
        for text in ["16 × 2 ranks", "59 missing, interpolated linearly", "val RMSE", "naive", "seasonal-naive (52)", "linear AR (26)", "MASE"] {
            #expect(r.output.contains(text), "'\(text)' missing: \(r.output)")
        }
        let s = try CLI.readJSON(summary)
        for key in ["test_mae", "test_rmse", "test_mase", "test_naive_rmse", "test_snaive_rmse", "test_ar_rmse"] {
            let v = s[key] as? Double
            #expect(v != nil && v!.isFinite && v! > 0, "\(key): \(String(describing: s[key]))")
        }
    }

    @Test func killedAndRestartedRunsEndWithTheSameWeights() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let det = base + ["--deterministic", "--steps", "40", "--checkpoint-every", "10"]
        let reference = try CLI.run(["train"] + det + ["--summary-json", dir + "/ref.json"], timeout: 120)
        #expect(reference.status == 0, "\(reference.output)")
        let expected = try sha(dir + "/ref.json")
        // Killed (SIGKILL from the fault plan) after the step-20 checkpoint, resumed at two ranks.
        let killed = try CLI.run(["train"] + det + ["--checkpoint-dir", dir + "/k", "--inject-fault", "kill@25"], timeout: 120)
        #expect(killed.status != 0 && FileManager.default.fileExists(atPath: dir + "/k/step-00000020"), "\(killed.output)")
        let resumed = try CLI.mpirun(2, ["train"] + det + ["--checkpoint-dir", dir + "/k", "--resume", "auto", "--summary-json", dir + "/k.json"], timeout: 120)
        #expect(resumed.status == 0 && resumed.output.contains("step-00000020"), "\(resumed.output)")
        #expect(try sha(dir + "/k.json") == expected)
        let a = try CLI.readJSON(dir + "/ref.json"), b = try CLI.readJSON(dir + "/k.json")
        #expect(a["test_rmse"] as? Double == b["test_rmse"] as? Double, "\(a) vs \(b)")
        // cohort launch: rank 1 killed at step 25 of the first attempt, the restart resumes from step 20.
        let launched = try CLI.run(["launch", "--np", "2", "--max-restarts", "2", "--inject-fault", "kill@25:rank=1", "--"]
                                   + det + ["--checkpoint-dir", dir + "/l", "--summary-json", dir + "/l.json"], timeout: 300)
        #expect(launched.status == 0 && launched.output.contains("step-00000020"), "\(launched.output)")
        let events = (try? String(contentsOfFile: dir + "/l/launch-events.jsonl", encoding: .utf8)) ?? ""
        #expect(events.components(separatedBy: "\"event\":\"mpirun\"").count - 1 == 2, "one restart: \(events)")
        #expect(try sha(dir + "/l.json") == expected)
        // A forecast checkpoint: predict and eval refuse it clearly.
        let csv = dir + "/in.csv"
        try "x\n1\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let predict = try CLI.run(["predict", "--checkpoint", dir + "/k", "--input", csv], timeout: 60)
        #expect(predict.status != 0 && predict.stderr.contains("forecasting model"), "\(predict.output)")
        let eval = try CLI.run(["eval", "--checkpoint", dir + "/k", "--data", Self.co2], timeout: 60)
        #expect(eval.status != 0 && eval.stderr.contains("forecast model"), "\(eval.output)")
    }

    @Test func mistakesNameTheirFlag() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let short = dir + "/short.csv"
        try ("t,y\n" + (1...30).map { "\($0),\($0 % 7)" }.joined(separator: "\n") + "\n").write(toFile: short, atomically: true, encoding: .utf8)
        let cases: [([String], [String])] = [
            (base.map { $0 == "co2_ppm" ? "co2" : $0 }, ["--column", "no column named 'co2'", "'co2_ppm'"]),
            (base.map { $0 == Self.co2 ? short : $0 }.map { $0 == "co2_ppm" ? "y" : $0 }, ["--context", "too short"]),
            (base.map { $0 == "4" ? "0" : $0 }, ["--horizon", "≥ 1"]),
            (base + ["--split", "0.7,0.2,0.2"], ["--split"]),
            (base.map { $0 == "lstm" ? "cnn" : $0 }, ["--model", "lstm, gru, gpt"]),
            (["--data", Self.co2, "--column", "co2_ppm"], ["--column applies to --task forecast"]),
            (base + ["--split", "0.7,0,0.3", "--val-every", "5"], ["--val-every needs a validation part"]),
            (base + ["--cv-fold", "1"], ["chronological split"]),
        ]
        for (args, expected) in cases {
            let r = try CLI.run(["train", "--steps", "2"] + args, timeout: 60)
            #expect(r.status != 0, "\(args): \(r.output)")
            for text in expected { #expect(r.stderr.contains(text), "\(args): '\(text)' not in \(r.stderr)") }
            #expect(!r.stderr.contains("Fatal error"))
        }
    }
}
