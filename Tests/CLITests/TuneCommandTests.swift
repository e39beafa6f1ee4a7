// `cohort tune` end to end on a real CSV task: successive halving stops trials
// early and says so, spends exactly its schedule's budget, and writes a best
// configuration that `cohort train --config` reproduces; mistakes name the file, line or flag.
import Foundation
import Testing

@Suite(.serialized) struct TuneCommandTests {
    let wine = CLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/wine/wine.csv").path

    func space(_ text: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("space.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func halvingStopsWeakTrialsAndItsBestConfigReproduces() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spacePath = try space("lr: {log-uniform: [1.0e-4, 0.3]}\nhidden: [8, 32]\n", in: dir)
        let out = dir.appendingPathComponent("tune").path
        let r = try CLI.run(["tune", "--space", spacePath, "--trials", "6", "--strategy", "halving", "--eta", "3", "--min-steps", "10",
                             "--parallel", "2", "--seed", "3", "--out", out, "--", "--data", wine, "--steps", "90", "--global-batch", "16"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.components(separatedBy: "stopped early at step 10").count - 1 == 4, "\(r.stdout)")
        #expect(r.stdout.components(separatedBy: "stopped early at step 30").count - 1 == 1, "\(r.stdout)")
        #expect(r.stdout.components(separatedBy: "completed").count - 1 == 1, "\(r.stdout)")
        let results = try CLI.readJSON(out + "/results.json")
        #expect(results["budget_steps"] as? Int == 6 * 10 + 2 * 20 + 1 * 60, "\(results)")
        let trials = try #require(results["trials"] as? [[String: Any]])
        let winner = try #require(trials.first)
        #expect(winner["status"] as? String == "completed" && winner["steps"] as? Int == 90)
        // The best configuration trains to the same score in one uninterrupted run (staged training resumes exactly).
        let summary = dir.appendingPathComponent("best.json").path
        let again = try CLI.run(["train", "--config", out + "/best.yaml", "--summary-json", summary])
        #expect(again.status == 0, "\(again.output)")
        // Trials rank on the validation part; the winner's test score is reported once, for it alone.
        #expect(results["metric"] as? String == "val_accuracy" && winner["test_accuracy"] == nil, "\(results)")
        let trained = try CLI.readJSON(summary)
        let score = trained["val_accuracy"] as? Double
        #expect(score != nil && score == winner["val_accuracy"] as? Double, "\(String(describing: score)) vs \(winner)")
        let best = try #require(results["best"] as? [String: Any])
        #expect(best["trial"] as? Int == winner["trial"] as? Int && best["test_accuracy"] as? Double == trained["test_accuracy"] as? Double, "\(best)")
        #expect(r.stdout.contains("test split of trial"), "\(r.stdout)")
    }

    @Test func mistakesNameTheFileLineOrFlag() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let unknown = try space("lr: [0.1, 0.01]\nlearning-rate: [1]\n", in: dir)
        let r1 = try CLI.run(["tune", "--space", unknown, "--", "--data", wine, "--steps", "10"])
        #expect(r1.status == 2 && r1.stderr.contains("space.yaml") && r1.stderr.contains("line 2") && r1.stderr.contains("'lr'"), "\(r1.output)")
        let ranged = try space("lr: {uniform: [0.001, 0.1]}\n", in: dir)
        let r2 = try CLI.run(["tune", "--space", ranged, "--strategy", "grid", "--", "--data", wine, "--steps", "10"])
        #expect(r2.status == 2 && r2.stderr.contains("'lr' is a range"), "\(r2.output)")
        let r3 = try CLI.run(["tune", "--space", ranged, "--strategy", "halving", "--", "--data", wine, "--epochs", "3"])
        #expect(r3.status == 2 && r3.stderr.contains("--steps"), "\(r3.output)")
        let r4 = try CLI.run(["tune", "--space", ranged, "--", "--data", wine, "--summary-json", "x.json"])
        #expect(r4.status == 2 && r4.stderr.contains("--summary-json"), "\(r4.output)")
        // The schedule (a library) names its parameter `minSteps`; the command line shows the flags.
        let r5 = try CLI.run(["tune", "--space", ranged, "--strategy", "halving", "--min-steps", "200", "--", "--data", wine, "--steps", "100"])
        #expect(r5.status == 2 && r5.stderr.contains("--min-steps: must be in 1…100 (the train --steps), got 200"), "\(r5.output)")
    }
}
