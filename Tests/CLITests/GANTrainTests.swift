// `cohort train --model dcgan` on MNIST: data-parallel on 2 ranks with a judge
// classifier (PNG grids written, samples scored, metrics in the run log); in
// deterministic mode the same weights at 1 and 2 ranks, after a killed rank and a
// resume, and after an injected rank failure under `cohort launch`; a PacGAN discriminator
// (`--pack 2`) likewise the same at 1 and 2 ranks, and a pack that does not divide the
// batch refused naming the flag. (Batch norm's running
// statistics depend on how many batches each rank saw, so across world sizes only the
// parameters are compared; the runs at one world size are compared whole.)
import Foundation
import Testing

@Suite(.serialized) struct GANTrainTests {
    let base = ["train", "--model", "dcgan", "--data", CLI.mnist, "--global-batch", "32", "--lr", "2e-4", "--lr-schedule", "constant",
                "--hidden", "16", "--latent", "32", "--log-every", "1000"]

    func sha(_ summary: String) throws -> String { try CLI.readJSON(summary)["weights_sha256"] as? String ?? "" }

    @Test func trainsOnTwoRanksWritesSampleGridsAndScoresSamplesWithAJudge() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let judge = try CLI.run(["train", "--model", "cnn", "--data", CLI.mnist, "--steps", "40", "--global-batch", "64",
                                 "--checkpoint-dir", dir + "/judge", "--log-every", "1000"], timeout: 300)
        #expect(judge.status == 0, "\(judge.output)")
        let r = try CLI.mpirun(2, base + ["--steps", "20", "--sample-every", "10", "--judge", dir + "/judge", "--judge-samples", "400",
                                          "--log-dir", dir + "/run", "--checkpoint-dir", dir + "/gan"], timeout: 300)
        #expect(r.status == 0, "\(r.output)")
        for step in ["00000010", "00000020"] {
            let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/run/samples/step-\(step).png"))
            #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        }
        let log = try String(contentsOfFile: dir + "/run/metrics.jsonl", encoding: .utf8)
        for metric in ["val_inception_score", "val_confidence", "val_class_min_share", "val_class_max_share"] {
            #expect(log.contains(metric), "\(metric) missing from metrics.jsonl")
        }
        #expect(r.output.contains("class shares of 400 samples"), "\(r.output)")
        // Both optimizers are in the checkpoint.
        let show = try CLI.run(["ckpt", "inspect", dir + "/gan"])
        #expect(show.output.contains("sets[discriminator=adam,generator=adam]"), "\(show.output)")
        // Commands for classifiers refuse the GAN, pointing at `cohort generate`, which writes its images.
        for command in [["eval", "--checkpoint", dir + "/gan", "--data", CLI.mnist], ["predict", "--checkpoint", dir + "/gan", "--input", dir + "/x.csv"],
                        ["export", dir + "/gan", "--out", dir + "/gan.onnx"], ["quantize", dir + "/gan", "--out", dir + "/gan.cq"]] {
            let refused = try CLI.run(command)
            #expect(refused.status != 0 && refused.stderr.contains("`cohort generate --checkpoint"), "\(command): \(refused.output)")
        }
        let generated = try CLI.run(["generate", "--checkpoint", dir + "/gan", "--out", dir + "/grid.png", "--images", "16"])
        #expect(generated.status == 0 && FileManager.default.fileExists(atPath: dir + "/grid.png"), "\(generated.output)")
        // A judge that is not an image classifier is refused naming the flag.
        let bad = try CLI.run(base + ["--steps", "2", "--judge", dir + "/nothing-here"])
        #expect(bad.status != 0 && bad.stderr.contains("--judge"), "\(bad.output)")
    }

    @Test func deterministicRunsAgreeAcrossWorldSizesAndAfterAKilledRankAndAResume() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let det = base + ["--steps", "12", "--deterministic", "--virtual-shards", "4", "--checkpoint-every", "4"]
        let one = try CLI.run(det + ["--checkpoint-dir", dir + "/one"], timeout: 300)
        #expect(one.status == 0, "\(one.output)")
        let two = try CLI.mpirun(2, det + ["--checkpoint-dir", dir + "/two", "--summary-json", dir + "/two.json"], timeout: 300)
        #expect(two.status == 0, "\(two.output)")
        // Every parameter bitwise equal at 1 and 2 ranks; only batch norm's running statistics differ.
        let diff = try CLI.run(["ckpt", "diff", dir + "/one", dir + "/two", "--atol", "0", "--rtol", "0"])
        let differing = diff.stdout.split(separator: "\n").filter { $0.contains("DIFFERS") }
        #expect(diff.stdout.contains("model/generator.0.weight") && diff.stdout.contains("model/discriminator.7.weight"), "\(diff.output)")
        #expect(differing.allSatisfy { $0.contains("running_") }, "\(differing)")

        let args = det + ["--checkpoint-dir", dir + "/ckpt", "--resume", "auto", "--summary-json", dir + "/resumed.json",
                          "--inject-fault", "kill@7:rank=1"]
        let killed = try CLI.mpirun(2, args, timeout: 300)
        #expect(killed.status != 0 && killed.output.contains("fault injection: kill at step 7 on rank 1"), "\(killed.output)")
        // A restart is attempt 1: the same fault spec injects nothing.
        let again = try CLI.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-x", "COHORT_ATTEMPT", "-np", "2", CLI.binary] + args,
                                timeout: 300, environment: ["COHORT_ATTEMPT": "1"], executable: "/usr/bin/env")
        #expect(again.status == 0, "\(again.output)")
        #expect(again.stderr.contains("resumed from \(dir)/ckpt/step-00000004"), "\(again.stderr)")
        #expect(try sha(dir + "/resumed.json") == (try sha(dir + "/two.json")))
    }

    @Test func packedDiscriminatorIsTheSameAtOneAndTwoRanksAndABadPackIsRefused() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let det = base + ["--steps", "6", "--deterministic", "--virtual-shards", "4", "--pack", "2"]
        let one = try CLI.run(det + ["--checkpoint-dir", dir + "/one"], timeout: 300)
        #expect(one.status == 0, "\(one.output)")
        let two = try CLI.mpirun(2, det + ["--checkpoint-dir", dir + "/two"], timeout: 300)
        #expect(two.status == 0, "\(two.output)")
        let diff = try CLI.run(["ckpt", "diff", dir + "/one", dir + "/two", "--atol", "0", "--rtol", "0"])
        let differing = diff.stdout.split(separator: "\n").filter { $0.contains("DIFFERS") }
        #expect(diff.stdout.contains("model/discriminator.1.weight"), "\(diff.output)")
        #expect(differing.allSatisfy { $0.contains("running_") }, "\(differing)")
        // The checkpoint records the pack: `cohort generate` rebuilds the 2-channel discriminator to restore it.
        let generated = try CLI.run(["generate", "--checkpoint", dir + "/two", "--out", dir + "/grid.png", "--images", "8"])
        #expect(generated.status == 0 && FileManager.default.fileExists(atPath: dir + "/grid.png"), "\(generated.output)")
        // 32 samples over 4 virtual shards are 8 per shard: packs of 3 do not fit.
        let bad = try CLI.run(base + ["--steps", "2", "--deterministic", "--virtual-shards", "4", "--pack", "3"])
        #expect(bad.status != 0 && bad.stderr.contains("--pack") && bad.stderr.contains("virtual shard"), "\(bad.output)")
        let notGAN = try CLI.run(["train", "--model", "cnn", "--data", CLI.mnist, "--steps", "1", "--pack", "2"])
        #expect(notGAN.status != 0 && notGAN.stderr.contains("--pack applies to --model dcgan"), "\(notGAN.output)")
    }

    @Test func restartsUnderLaunchAfterAnInjectedRankFailure() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let det = base + ["--steps", "12", "--deterministic", "--virtual-shards", "4", "--checkpoint-every", "4"]
        let reference = try CLI.mpirun(2, det + ["--checkpoint-dir", dir + "/ref", "--summary-json", dir + "/ref.json"], timeout: 300)
        #expect(reference.status == 0, "\(reference.output)")
        let train = Array(det.dropFirst()) + ["--checkpoint-dir", dir + "/ckpt", "--summary-json", dir + "/s.json"]
        let r = try CLI.run(["launch", "--np", "2", "--max-restarts", "2", "--inject-fault", "exit@6:rank=1:attempt=0", "--"] + train, timeout: 300)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("attempt 1"), "\(r.output)")
        #expect(try sha(dir + "/s.json") == (try sha(dir + "/ref.json")))
    }
}
