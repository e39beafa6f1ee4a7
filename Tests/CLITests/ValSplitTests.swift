// Honest model selection end to end (`cohort train --val-split F`): periodic validation,
// early stopping and the best checkpoint follow val_* metrics; the test split is scored
// once at the end and for the best checkpoint; the summary, the done line and
// metrics.jsonl carry both; selecting on the test split is refused; the split survives a
// resume on another number of ranks and a resume with another F is refused; tune ranks
// trials on validation and reports the winner's test score.
import Foundation
import Testing

@Suite(.serialized) struct ValSplitTests {
    let shared = CLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
    var iris: String { shared.appendingPathComponent("iris/iris.csv").path }

    func records(_ run: String) throws -> [[String: Any]] {
        try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    @Test func earlyStoppingAndTheBestCheckpointFollowValidation() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path, ckpt = dir.appendingPathComponent("ckpt").path, summary = dir.appendingPathComponent("s.json").path
        let r = try CLI.run(["train", "--data", iris, "--hidden", "16", "--steps", "120", "--global-batch", "24", "--lr", "0.05", "--lr-schedule", "constant",
                             "--val-split", "0.2", "--val-every", "4", "--early-stop", "val_log_loss", "--patience", "3", "--save-best", "val_log_loss",
                             "--checkpoint-dir", ckpt, "--log-dir", run, "--log-every", "4", "--summary-json", summary, "--seed", "2"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stderr.contains("96 train / 24 validation / 30 test samples"), "\(r.output)")
        let s = try CLI.readJSON(summary)
        for key in ["val_accuracy", "val_macro_f1", "val_log_loss", "test_accuracy", "test_macro_f1", "test_log_loss",
                    "best_step", "best_val_log_loss", "best_test_accuracy", "best_test_log_loss"] {
            #expect((s[key] as? Double) != nil, "summary lacks \(key): \(s)")
        }
        #expect(s["val_split"] as? Double == 0.2)
        let done = r.stderr.split(separator: "\n").first { $0.contains("done:") }.map(String.init) ?? ""
        #expect(done.contains("val accuracy") && done.contains("test accuracy") && done.contains("best checkpoint (step"), "\(done)")
        // The decisions, replayed from the logged validation values.
        let logged = try records(run)
        let validations = logged.compactMap { r in (r["val_log_loss"] as? Double).map { (step: r["step"] as! Int, value: $0) } }
        #expect(logged.filter { $0.keys.contains { $0.hasPrefix("test_") } }.map { $0["step"] as! Int } == [s["steps"] as! Int], "test_* logged only at the end")
        var best = Double.infinity, bestStep = 0, stale = 0, stopAt: Int?
        for v in validations where stopAt == nil {
            if v.value < best { (best, bestStep, stale) = (v.value, v.step, 0) } else { stale += 1; if stale >= 3 { stopAt = v.step } }
        }
        #expect(s["best_step"] as? Int == bestStep && abs((s["best_val_log_loss"] as? Double ?? -1) - best) < 1e-12, "\(validations) vs \(s)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: ckpt + "/best").filter { $0.hasPrefix("step-") } == [String(format: "step-%08d", bestStep)])
        if let stopAt {
            #expect(s["steps"] as? Int == stopAt && (s["finished_early"] as? String)?.contains("val_log_loss") == true, "\(validations) vs \(s)")
        } else {
            #expect(s["steps"] as? Int == 120 && s["finished_early"] == nil, "\(validations) vs \(s)")
        }
        // The best checkpoint's test metrics are those of its weights: cohort eval on it agrees.
        let e = try CLI.run(["eval", "--checkpoint", ckpt + "/best", "--data", iris, "--json"])
        #expect(e.status == 0, "\(e.output)")
        let report = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(report["samples"] as? Int == 30 && abs((report["accuracy"] as? Double ?? -1) - (s["best_test_accuracy"] as? Double ?? -2)) < 1e-12, "\(report) vs \(s)")
        #expect(abs((report["log_loss"] as? Double ?? -1) - (s["best_test_log_loss"] as? Double ?? -2)) < 1e-9, "\(report) vs \(s)")
    }

    @Test func selectingOnTheTestSplitIsRefused() throws {
        let cases: [([String], [String])] = [
            (["--val-every", "10"], ["--val-every", "--val-split"]),
            (["--val-split", "0.1", "--val-every", "10", "--early-stop", "test_accuracy"], ["--early-stop", "test split", "val_accuracy"]),
            (["--val-every", "10", "--save-best", "val_accuracy", "--checkpoint-dir", "/tmp/cohort-unused"], ["--save-best", "--val-split"]),
            (["--val-split", "1"], ["--val-split"]),
        ]
        for (flags, words) in cases {
            let r = try CLI.run(["train", "--steps", "10", "--hidden", "8"] + flags)
            #expect(r.status == 2 && words.allSatisfy { r.stderr.contains($0) }, "\(flags): \(r.output)")
        }
    }

    @Test func theSplitSurvivesAReshardedResumeAndAnotherFractionIsRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("ck").path
        let base = ["train", "--hidden", "32", "--steps", "12", "--global-batch", "64", "--log-every", "6", "--deterministic", "--virtual-shards", "2"]
        let common = base + ["--val-split", "0.1", "--val-every", "6"]
        let straight = try CLI.run(common + ["--summary-json", dir.path + "/a.json"])
        #expect(straight.status == 0, "\(straight.output)")
        let crashed = try CLI.run(common + ["--checkpoint-dir", ckpt, "--checkpoint-every", "6", "--inject-fault", "exit@7"])
        #expect(crashed.status == 1 && FileManager.default.fileExists(atPath: ckpt + "/step-00000006"), "\(crashed.output)")
        for (flags, saidNow) in [(["--val-split", "0.2"], "0.2"), ([], "none")] {
            let other = try CLI.run(base + flags + ["--checkpoint-dir", ckpt, "--resume", "auto"])
            #expect(other.status == 2 && other.stderr.contains("val_split 0.1, this run has \(saidNow)"), "\(other.output)")
        }
        let resumed = try CLI.mpirun(2, common + ["--checkpoint-dir", ckpt, "--checkpoint-every", "6", "--resume", "auto", "--summary-json", dir.path + "/b.json"])
        #expect(resumed.status == 0, "\(resumed.output)")
        let a = try CLI.readJSON(dir.path + "/a.json"), b = try CLI.readJSON(dir.path + "/b.json")
        #expect(a["weights_sha256"] as? String == b["weights_sha256"] as? String && b["steps"] as? Int == 12)
        #expect(a["val_accuracy"] as? Double == b["val_accuracy"] as? Double && a["test_accuracy"] as? Double == b["test_accuracy"] as? Double, "\(a) vs \(b)")
    }

    @Test func regressionAndTextReportValidationAndTest() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let diabetes = shared.appendingPathComponent("diabetes/diabetes.csv").path
        let reg = try CLI.run(["train", "--data", diabetes, "--task", "regression", "--hidden", "16", "--steps", "20", "--global-batch", "32",
                               "--val-split", "0.25", "--val-every", "10", "--early-stop", "val_rmse", "--summary-json", dir.path + "/r.json"])
        #expect(reg.status == 0, "\(reg.output)")
        let r = try CLI.readJSON(dir.path + "/r.json")
        for key in ["val_mae", "val_rmse", "val_r2", "test_mae", "test_rmse", "test_r2"] { #expect((r[key] as? Double) != nil, "\(key): \(r)") }
        // 442 rows: 88 test, then a quarter of the remaining 354 (88.5, rounded away from zero) for validation.
        #expect(reg.stderr.contains("265 train / 89 validation / 88 test rows"), "\(reg.output)")
        let text = dir.appendingPathComponent("corpus.txt").path
        let corpus = try Data(contentsOf: shared.appendingPathComponent("tiny-shakespeare/input.txt")).prefix(20_000)
        try corpus.write(to: URL(fileURLWithPath: text))
        let lm = try CLI.run(["train", "--data", text, "--model", "lstm", "--layers", "1", "--hidden", "16", "--embedding", "8", "--context", "16",
                              "--steps", "4", "--global-batch", "8", "--val-split", "0.1", "--summary-json", dir.path + "/t.json"])
        #expect(lm.status == 0, "\(lm.output)")
        let t = try CLI.readJSON(dir.path + "/t.json")
        #expect((t["val_loss"] as? Double) != nil && (t["test_loss"] as? Double) != nil, "\(t)")
        // 18,000 tokens before the test part: the last 1,800 validate, chronologically.
        #expect(lm.stderr.contains("16200 train / 1800 validation / 2000 test tokens"), "\(lm.output)")
    }

    @Test func tuneRanksOnValidationAndReportsTheWinnersTestScore() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let space = dir.appendingPathComponent("space.yaml").path
        try "lr: [0.001, 0.05]\n".write(toFile: space, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("tune").path
        let r = try CLI.run(["tune", "--space", space, "--strategy", "grid", "--parallel", "2", "--out", out, "--",
                             "--data", iris, "--hidden", "8", "--steps", "20", "--global-batch", "24"])
        #expect(r.status == 0, "\(r.output)")
        let results = try CLI.readJSON(out + "/results.json")
        #expect(results["metric"] as? String == "val_accuracy", "\(results)")
        let trials = try #require(results["trials"] as? [[String: Any]])
        #expect(trials.count == 2 && trials.allSatisfy { ($0["val_accuracy"] as? Double) != nil && $0["test_accuracy"] == nil }, "\(trials)")
        let best = try #require(results["best"] as? [String: Any])
        let winner = try CLI.readJSON(out + String(format: "/trial-%03d/summary.json", best["trial"] as? Int ?? 0))
        #expect(winner["val_split"] as? Double == 0.2 && best["test_accuracy"] as? Double == winner["test_accuracy"] as? Double, "\(best) vs \(winner)")
        #expect(r.stdout.contains("test split of trial"), "\(r.stdout)")
        let refused = try CLI.run(["tune", "--space", space, "--metric", "test_accuracy", "--out", out, "--", "--data", iris, "--steps", "5"])
        #expect(refused.status == 2 && refused.stderr.contains("--metric") && refused.stderr.contains("val_accuracy"), "\(refused.output)")
    }
}
