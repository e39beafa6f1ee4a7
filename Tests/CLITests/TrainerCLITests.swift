// `cohort train` on the Trainer's callbacks, end to end with the release binary:
// the NaN guard agreeing across 2 ranks, early stopping, the best checkpoint,
// run logs and plots, and augmentation that a resumed or re-sharded run repeats exactly.
import Foundation
import Testing

@Suite(.serialized) struct TrainerCLITests {
    func mpirun(_ ranks: Int, _ args: [String]) throws -> CLIResult { try CLI.mpirun(ranks, args) }

    @Test func nanOnOneRankIsSkippedByEveryRankWithTheGuard() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("s.json").path
        let base = ["train", "--steps", "12", "--hidden", "64", "--log-every", "4", "--inject-fault", "nan@5:rank=1"]
        let guarded = try mpirun(2, base + ["--on-nan", "skip", "--summary-json", summary])
        #expect(guarded.status == 0, "\(guarded.output)")
        #expect(guarded.output.contains("step 5: the training loss is NaN") && guarded.output.contains("skipping this update"), "\(guarded.output)")
        let s = try CLI.readJSON(summary)
        #expect(s["skipped_updates"] as? Int == 1 && s["steps"] as? Int == 12, "\(s)")
        #expect((s["train_loss"] as? Double)?.isFinite == true)
        // Without the guard every rank stops at the same step with a user error naming it.
        let unguarded = try mpirun(2, base)
        #expect(unguarded.status != 0)
        #expect(unguarded.output.contains("step 5") && unguarded.output.contains("NaN") && unguarded.output.contains("--on-nan skip"), "\(unguarded.output)")
    }

    @Test func earlyStoppingFinishesWhenTheMetricStalls() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("s.json").path
        // A learning rate this small leaves the accuracy unchanged: the 2nd validation does not improve.
        let r = try CLI.run(["train", "--steps", "200", "--hidden", "32", "--lr", "1e-12", "--lr-schedule", "constant", "--val-split", "0.1", "--val-every", "20",
                             "--early-stop", "val_accuracy", "--patience", "1", "--summary-json", summary])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("finishing at step 40 of 200: early stopping: val_accuracy"), "\(r.output)")
        let s = try CLI.readJSON(summary)
        #expect(s["steps"] as? Int == 40 && (s["finished_early"] as? String)?.contains("early stopping") == true, "\(s)")
        #expect(s["val_accuracy"] != nil && s["test_accuracy"] != nil, "\(s)")
        // Misuse names the flag: the test split is never monitored, and selection needs validation.
        let bad = try CLI.run(["train", "--steps", "10", "--early-stop", "test_accuracy"])
        #expect(bad.status == 2 && bad.stderr.contains("--early-stop") && bad.stderr.contains("test split"), "\(bad.output)")
        let noEvery = try CLI.run(["train", "--steps", "10", "--val-split", "0.1", "--early-stop", "val_accuracy"])
        #expect(noEvery.status == 2 && noEvery.stderr.contains("--early-stop") && noEvery.stderr.contains("--val-every"), "\(noEvery.output)")
        let unknown = try CLI.run(["train", "--steps", "20", "--hidden", "16", "--val-split", "0.1", "--val-every", "10", "--early-stop", "val_acc"])
        #expect(unknown.status == 2 && unknown.stderr.contains("val_acc") && unknown.stderr.contains("val_accuracy"), "\(unknown.output)")
    }

    @Test func runLogsBestCheckpointAndPlots() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = dir.appendingPathComponent("run").path, ckpt = dir.appendingPathComponent("ckpt").path
        let r = try CLI.run(["train", "--steps", "60", "--hidden", "64", "--log-every", "10", "--val-split", "0.1", "--val-every", "20", "--log-dir", run,
                             "--checkpoint-dir", ckpt, "--save-best", "val_log_loss", "--log-grad-norm"])
        #expect(r.status == 0, "\(r.output)")
        let lines = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let trainSteps = records.filter { $0["train_loss"] != nil }.map { $0["step"] as! Int }
        #expect(trainSteps == [10, 20, 30, 40, 50, 60], "\(records)")
        #expect(records.filter { $0["train_loss"] != nil }.allSatisfy { $0["lr"] != nil && $0["grad_norm"] != nil })
        #expect(records.filter { $0["val_accuracy"] != nil }.map { $0["step"] as! Int } == [20, 40, 60])
        #expect(records.filter { $0["test_accuracy"] != nil }.map { $0["step"] as! Int } == [60])   // the test split: once, at the end
        let events = try FileManager.default.contentsOfDirectory(atPath: run).filter { $0.hasPrefix("events.out.tfevents.") }
        #expect(events.count == 1)
        let confusion = try CLI.readJSON(run + "/confusion.json")
        let matrix = try #require(confusion["matrix"] as? [[Int]])
        #expect(matrix.count == 10 && matrix.joined().reduce(0, +) == 4000, "\(confusion)")
        let best = try FileManager.default.contentsOfDirectory(atPath: ckpt + "/best").filter { $0.hasPrefix("step-") }
        #expect(best.count == 1, "\(best)")
        let plot = try CLI.run(["plot", run])
        #expect(plot.status == 0, "\(plot.output)")
        for chart in ["loss.svg", "accuracy.svg", "lr.svg", "confusion.svg"] {
            #expect(FileManager.default.fileExists(atPath: run + "/plots/" + chart), "\(chart): \(plot.output)")
        }
    }

    @Test func augmentedRunsResumeAndReshardBitwise() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let common = ["train", "--data", CLI.mnist, "--hidden", "64", "--steps", "16", "--global-batch", "64", "--log-every", "8",
                      "--augment", "crop:2,hflip,affine:10:0.1:1,noise:0.05,cutout:6", "--deterministic", "--virtual-shards", "2", "--prefetch", "2"]
        func sha(_ r: CLIResult, _ path: String) throws -> String {
            #expect(r.status == 0, "\(r.output)")
            return try CLI.readJSON(path)["weights_sha256"] as? String ?? "missing"
        }
        let straight = try sha(CLI.run(common + ["--summary-json", dir.path + "/a.json"]), dir.path + "/a.json")
        let ckpt = dir.appendingPathComponent("ck").path
        let crashed = try CLI.run(common + ["--checkpoint-dir", ckpt, "--checkpoint-every", "8", "--inject-fault", "exit@9"])
        #expect(crashed.status == 1 && FileManager.default.fileExists(atPath: ckpt + "/step-00000008"), "\(crashed.output)")
        let resumed = try sha(mpirun(2, common + ["--checkpoint-dir", ckpt, "--checkpoint-every", "8", "--resume", "auto",
                                                  "--summary-json", dir.path + "/b.json"]), dir.path + "/b.json")
        #expect(resumed == straight, "an augmented run resumed at step 8 on 2 ranks must end where the 1-rank run does")
        // A plain run differs: the augmentation really changed the batches.
        let plain = try sha(CLI.run(common.filter { !$0.hasPrefix("crop:") && $0 != "--augment" } + ["--summary-json", dir.path + "/c.json"]), dir.path + "/c.json")
        #expect(plain != straight)
    }

    @Test func badAugmentSpecsNameTheFlag() throws {
        let unknown = try CLI.run(["train", "--data", CLI.mnist, "--steps", "2", "--augment", "crop:2,flipp"])
        #expect(unknown.status == 2 && unknown.stderr.contains("--augment") && unknown.stderr.contains("flipp"), "\(unknown.output)")
        let vectors = try CLI.run(["train", "--steps", "2", "--augment", "crop:2"])   // the synthetic set: [64]-vectors
        #expect(vectors.status == 2 && vectors.stderr.contains("--augment") && vectors.stderr.contains("[64]"), "\(vectors.output)")
    }
}
