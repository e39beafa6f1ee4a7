// `cohort train` end to end on the release binary: MNIST accuracy, determinism
// of the weights fingerprint, and clear errors for bad input.
import Foundation
import Testing

@Suite(.serialized) struct TrainCommandTests {
    @Test func mnistThreeEpochsReachesTheAccuracyBar() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("summary.json").path
        let r = try CLI.run(["train", "--model", "mlp", "--data", CLI.mnist, "--epochs", "3", "--summary-json", summary])
        #expect(r.status == 0, "\(r.output)")
        let s = try CLI.readJSON(summary)
        for key in ["train_loss", "test_accuracy", "steps", "samples_per_sec", "world_size", "weights_sha256"] {
            #expect(s[key] != nil, "summary lacks \(key)")
        }
        let accuracy = s["test_accuracy"] as? Double ?? 0
        #expect(accuracy >= 0.975, "test accuracy \(accuracy)")
        #expect(s["steps"] as? Int == 3 * (60_000 / 128))
        #expect(s["world_size"] as? Int == 1)
        #expect((s["weights_sha256"] as? String)?.count == 64)
    }

    func fingerprint(seed: Int, threads: Int = 1) throws -> String {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("s.json").path
        let r = try CLI.run(["train", "--data", CLI.mnist, "--steps", "40", "--seed", "\(seed)", "--threads", "\(threads)",
                             "--summary-json", summary])
        #expect(r.status == 0, "\(r.output)")
        return try CLI.readJSON(summary)["weights_sha256"] as? String ?? ""
    }

    @Test func sameSeedSameWeightsDifferentSeedDifferentWeights() throws {
        let a = try fingerprint(seed: 7), b = try fingerprint(seed: 7), c = try fingerprint(seed: 8)
        #expect(!a.isEmpty && a == b)
        #expect(a != c)
        let a2 = try fingerprint(seed: 7, threads: 2), b2 = try fingerprint(seed: 7, threads: 2)
        #expect(a2 == b2)
    }

    @Test func builtInDatasetTrainsWithoutData() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("s.json").path
        let r = try CLI.run(["train", "--epochs", "2", "--summary-json", summary])
        #expect(r.status == 0, "\(r.output)")
        let acc = try CLI.readJSON(summary)["test_accuracy"] as? Double ?? 0
        #expect(acc > 0.85, "synthetic test accuracy \(acc)")
        #expect(r.stderr.contains("step ") && r.stderr.contains("samples/s"))
    }

    @Test func unknownModelIsAClearError() throws {
        let r = try CLI.run(["train", "--model", "resnet9000", "--steps", "1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--model") && r.stderr.contains("resnet9000") && r.stderr.contains("mlp"))
    }

    @Test func badFlagValuesAreRejected() throws {
        for args in [["--batch-size", "0"], ["--lr", "-1"], ["--optimizer", "lbfgs"], ["--hidden", "12,x"], ["--threads", "0"]] {
            let r = try CLI.run(["train", "--steps", "1"] + args)
            #expect(r.status != 0, "\(args)")
            #expect(r.stderr.contains(args[0]), "\(args): \(r.stderr)")
        }
    }

    @Test func divergingLossStopsWithStepAndTensorNamed() throws {
        let r = try CLI.run(["train", "--optimizer", "sgd", "--lr", "1e6", "--lr-schedule", "constant", "--steps", "200"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("step ") && r.stderr.contains("loss") && (r.stderr.contains("NaN") || r.stderr.contains("infinity")), "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
    }
}
