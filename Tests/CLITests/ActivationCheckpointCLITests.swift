// `--checkpoint-activations` end to end: a 2-rank GPT run on tiny Shakespeare with
// checkpointed blocks, killed inside its second checkpoint save and resumed, ends at
// the plain run's weights bit for bit (--deterministic, same world size) and trains;
// through DataParallel's buckets (no --deterministic) it matches the plain run; the
// transformer forecaster checkpoints too; the flag is refused by name where there is
// no transformer block; `cohort bench w3` takes it (same final loss).
import Foundation
import Testing

@Suite(.serialized) struct ActivationCheckpointCLITests {
    static let shakespeare = CLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/tiny-shakespeare").path
    let base = ["train", "--model", "gpt", "--data", shakespeare, "--context", "32", "--layers", "2", "--heads", "2", "--d-model", "32",
                "--global-batch", "8", "--steps", "12", "--optimizer", "adamw", "--lr", "3e-3", "--deterministic", "--log-every", "1000"]

    func summary(_ path: String) throws -> (sha: String, loss: Double) {
        let json = try CLI.readJSON(path)
        return (json["weights_sha256"] as? String ?? "", json["train_loss"] as? Double ?? .nan)
    }

    @Test func checkpointedTwoRankRunResumesToThePlainRunsWeights() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("plain.json").path
        let r0 = try CLI.mpirun(2, base + ["--summary-json", plain], timeout: 120)
        #expect(r0.status == 0, "\(r0.output)")
        #expect(!r0.stderr.contains("activation checkpointing"))
        let expected = try summary(plain)
        #expect(expected.loss < 3.9, "the plain run trains below ln(65) ≈ 4.17: \(expected.loss)")

        let ckpt = dir.appendingPathComponent("ckpt").path, out = dir.appendingPathComponent("ckpt.json").path
        let args = base + ["--checkpoint-activations", "--checkpoint-dir", ckpt, "--checkpoint-every", "5"]
        let killed = try CLI.runExecutable("/usr/bin/env", ["COHORT_TEST_CRASH_POINT=manifest@2", "mpirun", "--allow-run-as-root", "--oversubscribe",
                                                            "--bind-to", "none", "-np", "2", CLI.binary] + args, timeout: 120)
        #expect(killed.status != 0, "the run should have died in its second save: \(killed.output)")
        #expect(killed.stderr.contains("activation checkpointing: 2 transformer blocks"), "\(killed.stderr)")
        let resumed = try CLI.mpirun(2, args + ["--resume", "auto", "--summary-json", out], timeout: 120)
        #expect(resumed.status == 0 && resumed.stderr.contains("resumed from") && resumed.stderr.contains("step-00000005"), "\(resumed.output)")
        let got = try summary(out)
        #expect(got.sha == expected.sha, "checkpointed, killed and resumed vs plain and uninterrupted")
        #expect(got.loss == expected.loss)
    }

    /// Without --deterministic the gradients travel in DataParallel's buckets, launched from the
    /// parameters' gradient hooks: checkpointed blocks must fire each once per step, with the
    /// final gradient (a missing hook would hang the step, an early one average a partial gradient).
    @Test func bucketedTwoRankRunMatchesThePlainRun() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = base.filter { $0 != "--deterministic" } + ["--checkpoint-every", "12", "--bucket-mb", "0.01"]
        var dirs: [String] = []
        for (name, flag) in [("plain", [String]()), ("ckpt", ["--checkpoint-activations"])] {
            let out = dir.appendingPathComponent(name).path
            let r = try CLI.mpirun(2, args + flag + ["--checkpoint-dir", out, "--summary-json", out + ".json"], timeout: 120)
            #expect(r.status == 0, "\(name): \(r.output)")
            let json = try CLI.readJSON(out + ".json")
            #expect(json["deterministic"] as? Bool == false && json["gradient_transport"] as? String == "shared memory", "\(json)")
            dirs.append(out + "/step-00000012")
        }
        let diff = try CLI.run(["ckpt", "diff", dirs[0], dirs[1], "--rtol", "1e-6", "--atol", "1e-7"])
        #expect(diff.status == 0, "checkpointed vs plain at np=2 through the buckets: \(diff.output)")
    }

    /// The transformer forecaster's blocks checkpoint too: the same weights, bit for bit.
    @Test func transformerForecasterCheckpointsToTheSameWeights() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let co2 = CLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/timeseries/co2.csv").path
        let args = ["train", "--task", "forecast", "--data", co2, "--column", "co2_ppm", "--context", "26", "--horizon", "4", "--season", "52",
                    "--model", "gpt", "--layers", "2", "--d-model", "32", "--heads", "2", "--steps", "20", "--lr", "0.01", "--deterministic", "--log-every", "1000"]
        var shas: [String] = []
        for flag in [[], ["--checkpoint-activations"]] {
            let out = dir.appendingPathComponent("s\(shas.count).json").path
            let r = try CLI.run(args + flag + ["--summary-json", out], timeout: 120)
            #expect(r.status == 0 && r.stderr.contains("activation checkpointing: 2") == !flag.isEmpty, "\(r.output)")
            shas.append(try summary(out).sha)
        }
        #expect(shas.count == 2 && !shas[0].isEmpty && shas[0] == shas[1])
    }

    @Test func refusedByNameWithoutTransformerBlocks() throws {
        let mlp = try CLI.run(["train", "--checkpoint-activations", "--steps", "1"])
        #expect(mlp.status == 2 && mlp.stderr.contains("--checkpoint-activations applies to --model gpt"), "\(mlp.output)")
        let w1 = try CLI.run(["bench", "w1", "--checkpoint-activations", "--steps", "1", "--warmup", "0", "--repeats", "1"])
        #expect(w1.status != 0 && w1.stderr.contains("--checkpoint-activations"), "\(w1.output)")
    }

    /// Same seed, same steps, one thread: the same final loss with and without checkpointing.
    @Test func benchW3TakesTheFlag() throws {
        var losses: [Double] = []
        for flag in [[], ["--checkpoint-activations"]] {
            let r = try CLI.run(["bench", "w3", "--steps", "1", "--warmup", "1", "--repeats", "1", "--json"] + flag, timeout: 120)
            #expect(r.status == 0, "\(r.output)")
            let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("RESULT ") } ?? ""
            let json = try JSONSerialization.jsonObject(with: Data(line.dropFirst(7).utf8)) as? [String: Any] ?? [:]
            #expect(json["checkpoint_activations"] as? Bool == !flag.isEmpty, "\(line)")
            losses.append(json["final_loss"] as? Double ?? .nan)
        }
        #expect(losses.count == 2 && losses[0] == losses[1] && losses[0] < 4.5, "\(losses)")
    }
}
