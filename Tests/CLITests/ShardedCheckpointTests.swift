// `cohort train --checkpoint-sharding` end to end: every rank writes its part of each
// checkpoint and rank 0 the one manifest; the checkpoint holds exactly what a rank-0
// save holds (bitwise); runs killed at random points inside sharded saves at np=2 and
// np=4 always resume from the newest complete checkpoint and end at the uninterrupted
// run's weights; a checkpoint written by 4 ranks resumes on 2, 1 and 3 (bitwise 4 → 2 → 3 with
// 12 virtual shards); a directory one rank
// does not see is found before the first step.
import Foundation
import Testing

@Suite(.serialized) struct ShardedCheckpointTests {
    let base = ["train", "--steps", "30", "--global-batch", "48", "--hidden", "64", "--optimizer", "adamw", "--lr", "0.003",
                "--log-every", "1000", "--checkpoint-every", "10"]
    var det: [String] { base + ["--deterministic"] }

    func sha(_ path: String) throws -> String { try CLI.readJSON(path)["weights_sha256"] as? String ?? "" }
    func files(_ checkpoint: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: checkpoint)) ?? []).filter { $0.hasPrefix("data-") }.sorted()
    }
    func writers(_ checkpoint: String) -> Set<String> { Set(files(checkpoint).map { String($0.prefix(12)) }) }
    func ranks(_ n: Int) -> Set<String> { Set((0..<n).map { "data-r0000\($0)-" }) }

    @Test func everyRankWritesItsPartAndOtherWorldSizesResume() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let one = try CLI.run(det + ["--checkpoint-dir", dir + "/one", "--summary-json", dir + "/ref.json"], timeout: 120)
        #expect(one.status == 0, "\(one.output)")
        let expected = try sha(dir + "/ref.json")
        #expect(files(dir + "/one/step-00000010") == ["data-00000.bin"])

        // np=4 under ZeRO stage 1 (sharded by default), killed at step 25: steps 10 and 20 were written by four ranks.
        let k = dir + "/k"
        let four = try CLI.mpirun(4, det + ["--zero", "1", "--checkpoint-dir", k, "--inject-fault", "kill@25:rank=1"], timeout: 120)
        #expect(four.status != 0, "\(four.output)")
        #expect(writers(k + "/step-00000020") == ranks(4), "\(files(k + "/step-00000020"))")
        // Bitwise what one process saved at the same step.
        for step in ["step-00000010", "step-00000020"] {
            let diff = try CLI.run(["ckpt", "diff", dir + "/one/" + step, k + "/" + step, "--atol", "0", "--rtol", "0"], timeout: 60)
            #expect(diff.status == 0, "\(step): \(diff.output)")
        }
        #expect(try CLI.run(["ckpt", "verify", k], timeout: 60).status == 0)
        let inspect = try CLI.run(["ckpt", "inspect", k + "/step-00000020"], timeout: 60)
        #expect(inspect.status == 0 && inspect.stdout.contains("written by 4 ranks (sharded save)"), "\(inspect.output)")
        // `ckpt export` consolidates: one file, the same tensors as the one-process checkpoint's export
        // (the metadata differs only in world_size).
        for (source, out) in [(k + "/step-00000020", dir + "/sharded.safetensors"), (dir + "/one/step-00000020", dir + "/whole.safetensors")] {
            let e = try CLI.run(["ckpt", "export", source, "--format", "safetensors", "--include-optimizer", "--out", out], timeout: 60)
            #expect(e.status == 0, "\(e.output)")
        }
        let sizes = try [dir + "/sharded.safetensors", dir + "/whole.safetensors"].map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int ?? 0 }
        #expect(sizes[0] > 0 && sizes[0] == sizes[1], "\(sizes)")

        // Resumed on 2 ranks without ZeRO (--checkpoint-sharding on): killed inside its step-30 save (rank 1, mid-write).
        let two = try CLI.mpirun(2, det + ["--checkpoint-sharding", "on", "--checkpoint-dir", k, "--resume", "auto",
                                           "--inject-fault", "checkpoint-fail@30:rank=1"], timeout: 120)
        #expect(two.status != 0 && two.output.contains("step-00000020"), "\(two.output)")
        #expect(!FileManager.default.fileExists(atPath: k + "/step-00000030"), "a save killed mid-write committed")
        // Resumed on one process: the uninterrupted run's weights.
        let last = try CLI.run(det + ["--checkpoint-dir", k, "--resume", "auto", "--summary-json", dir + "/k.json"], timeout: 120)
        #expect(last.status == 0 && last.output.contains("step-00000020"), "\(last.output)")
        #expect(try sha(dir + "/k.json") == expected)

        // Without deterministic mode: a 4-rank stage-2 checkpoint resumes on 3 ranks with stage 1,
        // which saves by three writers (bitwise 4 → 2 → 3: fourToTwoToThreeRanksIsBitwiseWithTwelveShards).
        let n = dir + "/n"
        let plain = base + ["--checkpoint-dir", n]
        #expect(try CLI.mpirun(4, plain + ["--zero", "2", "--inject-fault", "kill@25:rank=3"], timeout: 120).status != 0)
        #expect(writers(n + "/step-00000020") == ranks(4))
        let three = try CLI.mpirun(3, plain + ["--zero", "1", "--resume", "auto", "--summary-json", dir + "/n.json"], timeout: 120)
        #expect(three.status == 0 && three.output.contains("step-00000020"), "\(three.output)")
        #expect(writers(n + "/step-00000030") == ranks(3))
        let loss = try CLI.readJSON(dir + "/n.json")["train_loss"] as? Double ?? .nan
        let reference = try CLI.readJSON(dir + "/ref.json")["train_loss"] as? Double ?? .nan
        #expect(abs(loss - reference) <= 0.05 * abs(reference), "np=4 → 3 loss \(loss), one process \(reference)")
        #expect(try CLI.run(["ckpt", "verify", n], timeout: 60).status == 0)
    }

    /// K = 12 virtual shards divide among 4, 2 and 3 ranks: a run resharded 4 → 2 → 3 through
    /// sharded checkpoints (each killed part-way) ends at the uninterrupted one-process run's weights.
    @Test func fourToTwoToThreeRanksIsBitwiseWithTwelveShards() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let det12 = base + ["--deterministic", "--virtual-shards", "12", "--zero", "1"]
        let one = try CLI.run(det12 + ["--checkpoint-dir", dir + "/one", "--summary-json", dir + "/ref.json"], timeout: 120)
        #expect(one.status == 0, "\(one.output)")
        let k = dir + "/k"
        let four = try CLI.mpirun(4, det12 + ["--checkpoint-dir", k, "--inject-fault", "kill@15:rank=2"], timeout: 120)
        #expect(four.status != 0 && writers(k + "/step-00000010") == ranks(4), "\(four.output)")
        let two = try CLI.mpirun(2, det12 + ["--checkpoint-dir", k, "--resume", "auto", "--inject-fault", "kill@25:rank=1"], timeout: 120)
        #expect(two.status != 0 && writers(k + "/step-00000020") == ranks(2), "\(two.output)")
        let three = try CLI.mpirun(3, det12 + ["--checkpoint-dir", k, "--resume", "auto", "--summary-json", dir + "/k.json"], timeout: 120)
        #expect(three.status == 0 && three.output.contains("step-00000020") && writers(k + "/step-00000030") == ranks(3), "\(three.output)")
        #expect(try sha(dir + "/k.json") == sha(dir + "/ref.json"))
        let diff = try CLI.run(["ckpt", "diff", dir + "/one/step-00000030", k + "/step-00000030", "--atol", "0", "--rtol", "0"], timeout: 60)
        #expect(diff.status == 0, "\(diff.output)")
    }

    /// Kills at repeatable random points inside sharded saves — a rank mid-write
    /// (`checkpoint-fail`), rank 0 after its manifest or after its rename — and at random
    /// steps, at np=2 and np=4; every restart resumes from the newest complete checkpoint.
    @Test(arguments: [2, 4])
    func killsDuringShardedSavesNeverCostACheckpoint(ranks n: Int) throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = det + ["--steps", "40", "--checkpoint-every", "5", "--keep-last", "2", "--checkpoint-sharding", "on"]
        #expect(try CLI.run(run + ["--summary-json", dir + "/ref.json"], timeout: 120).status == 0)
        let expected = try sha(dir + "/ref.json")
        var state: UInt64 = 0x5EED &+ UInt64(n)
        func draw(_ k: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33) % k
        }
        let args = run + ["--checkpoint-dir", dir + "/k", "--resume", "auto", "--summary-json", dir + "/k.json"]
        var kills = 0, step = 0
        for round in 0..<5 {
            step += 3 + draw(6)
            guard step < 40 else { break }
            var env: [String] = []
            var fault = ["--inject-fault", "checkpoint-fail@\(step):rank=\(draw(n))"]
            switch round % 3 {
            case 1: fault = ["--inject-fault", "kill@\(step):rank=\(draw(n))"]
            case 2: env = ["COHORT_TEST_CRASH_POINT=\(["manifest", "renamed"][draw(2)])@\(1 + draw(2))"]; fault = []
            default: break
            }
            let r = try CLI.runExecutable("/usr/bin/env", env + ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                                                               "-np", "\(n)", CLI.binary] + args + fault, timeout: 120)
            if r.status == 0 { break }
            kills += 1
            #expect(!r.output.contains("Fatal error"), "\(r.output)")
            // Every committed checkpoint is whole (a kill before the first commit leaves none).
            let committed = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/k")) ?? []).contains { $0.hasPrefix("step-") }
            let verify = try CLI.run(["ckpt", "verify", dir + "/k"], timeout: 60)
            #expect(verify.status == (committed ? 0 : 1), "after kill \(kills) (\(env) \(fault)): \(verify.output)")
        }
        let end = try CLI.mpirun(n, args, timeout: 120)
        #expect(end.status == 0, "\(end.output)")
        #expect(kills >= 3, "only \(kills) kills landed")
        #expect(try sha(dir + "/k.json") == expected, "np=\(n) after \(kills) kills")
    }

    /// `--save-best`'s checkpoints (CHECKPOINT_DIR/best) are sharded like the periodic ones.
    @Test func theBestCheckpointIsShardedToo() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.mpirun(2, base + ["--zero", "1", "--val-split", "0.2", "--val-every", "10", "--save-best", "val_log_loss",
                                          "--checkpoint-dir", dir], timeout: 120)
        #expect(r.status == 0, "\(r.output)")
        let best = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/best")) ?? []).filter { $0.hasPrefix("step-") }
        #expect(best.count == 1 && writers(dir + "/best/" + (best.first ?? "")) == ranks(2), "\(best)")
        #expect(try CLI.run(["ckpt", "verify", dir + "/best"], timeout: 60).status == 0)
    }

    /// A directory rank 1 does not share: rank 1 runs in a mount namespace of its own where the
    /// checkpoint directory is an empty tmpfs (as on a node-local disk). `on` stops before step 1
    /// naming the rank; `auto` warns and rank 0 writes whole checkpoints, which verify.
    @Test func aDirectoryOneRankDoesNotSeeIsFoundAtStart() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let checkpoints = dir + "/ck", wrapper = dir + "/rank1-private.sh"
        try FileManager.default.createDirectory(atPath: checkpoints, withIntermediateDirectories: true)
        try """
            #!/bin/sh
            if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then
              exec unshare --mount sh -c 'mount -t tmpfs none "$0" && shift && exec "$@"' "\(checkpoints)" x "$@"
            fi
            exec "$@"
            """.write(toFile: wrapper, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper)
        let run = ["train", "--steps", "4", "--global-batch", "48", "--hidden", "64", "--log-every", "1000", "--checkpoint-every", "2",
                   "--zero", "1", "--checkpoint-dir", checkpoints]
        func mpirun(_ extra: [String]) throws -> CLIResult {
            try CLI.runExecutable("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "2",
                                                   wrapper, CLI.binary] + run + extra, timeout: 120)
        }
        let on = try mpirun(["--checkpoint-sharding", "on"])
        #expect(on.status == 2 && on.stderr.contains("--checkpoint-sharding: on: every rank writes its part")
                && on.stderr.contains("rank 1 on ") && on.stderr.contains("does not see \(checkpoints)/.cohort-shared-probe-"), "\(on.output)")
        let left = try FileManager.default.contentsOfDirectory(atPath: checkpoints).filter { $0 != ".cohort.lock" }
        #expect(left.isEmpty, "no probe or checkpoint left: \(left)")
        let auto = try mpirun([])
        #expect(auto.status == 0 && auto.output.contains("rank 0 writes each checkpoint whole"), "\(auto.output)")
        #expect(writers(checkpoints + "/step-00000004") == ["data-00000.b"], "a rank-0 save: \(files(checkpoints + "/step-00000004"))")
        #expect(try CLI.run(["ckpt", "verify", checkpoints + "/step-00000004"], timeout: 60).status == 0)
    }

    @Test func aMistypedSettingIsNamed() throws {
        let r = try CLI.run(base + ["--checkpoint-sharding", "maybe"], timeout: 60)
        #expect(r.status == 2 && r.stderr.contains("--checkpoint-sharding must be auto, on or off, got 'maybe'"), "\(r.output)")
    }
}
