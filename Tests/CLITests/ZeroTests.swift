// `cohort train --zero 1|2` end to end: in deterministic mode ZeRO changes no bit of the
// result at any world size; without it, stage 2's reduce-scatter (with clipping across shards)
// trains like plain data parallelism; a run killed mid-way under ZeRO resumes from its
// (whole) checkpoint on another world size with or without ZeRO and ends at the uninterrupted
// run's weights; flags that do not combine are refused by name.
import Foundation
import Testing

@Suite(.serialized) struct ZeroTests {
    let base = ["train", "--steps", "12", "--global-batch", "64", "--hidden", "64", "--optimizer", "adamw", "--lr", "0.003", "--log-every", "1000"]

    func summary(_ path: String) throws -> [String: Any] { try CLI.readJSON(path) }
    func sha(_ path: String) throws -> String { try summary(path)["weights_sha256"] as? String ?? "" }

    @Test func deterministicStagesMatchPlainDataParallelism() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let det = base + ["--deterministic", "--clip-grad-norm", "0.5"]
        #expect(try CLI.run(det + ["--summary-json", dir + "/np1.json"]).status == 0)
        let expected = try sha(dir + "/np1.json")
        for n in [2, 4] {
            for stage in [1, 2] {
                let out = dir + "/np\(n)-zero\(stage).json"
                let r = try CLI.mpirun(n, det + ["--zero", "\(stage)", "--summary-json", out], timeout: 120)
                #expect(r.status == 0, "np=\(n) --zero \(stage): \(r.output)")
                #expect(try sha(out) == expected, "np=\(n) --zero \(stage)")
                let s = try summary(out), whole = s["parameters"] as? Int ?? 0
                #expect(s["zero"] as? Int == stage)
                // Rank 0 keeps about 1/n of the state (shards are whole pages of 1,024 elements).
                let kept = s["optimizer_state_elements"] as? Int ?? 0
                #expect(kept > 0 && kept <= whole / n + 1024, "rank 0 keeps \(kept) of \(whole)")
            }
        }
        // Frozen layers, unfrozen mid-way: the shards' optimizer groups and stage 2's buckets follow.
        let frozen = det + ["--freeze", "1.*", "--unfreeze-at", "6"]
        #expect(try CLI.run(frozen + ["--summary-json", dir + "/frozen1.json"]).status == 0)
        let r = try CLI.mpirun(2, frozen + ["--zero", "2", "--summary-json", dir + "/frozen2.json"], timeout: 120)
        #expect(r.status == 0, "\(r.output)")
        #expect(try sha(dir + "/frozen2.json") == sha(dir + "/frozen1.json"), "--freeze with --zero 2")
    }

    @Test func stageTwoTrainsLikePlainDataParallelism() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = base + ["--steps", "30", "--clip-grad-norm", "0.5", "--accumulate", "2"]
        var losses: [Double] = []
        for stage in [0, 2] {
            let out = dir + "/zero\(stage).json"
            let r = try CLI.mpirun(2, run + ["--zero", "\(stage)", "--summary-json", out], timeout: 120)
            #expect(r.status == 0, "--zero \(stage): \(r.output)")
            let s = try summary(out)
            losses.append(s["train_loss"] as? Double ?? .nan)
            if stage == 2 { #expect(s["gradient_transport"] as? String == "reduce-scatter") }
            let rss = s["peak_rss_mib"] as? [Double] ?? []
            #expect(rss.count == 2 && rss.allSatisfy { $0 > 1 }, "peak RSS per rank: \(rss)")
        }
        #expect(abs(losses[0] - losses[1]) <= 1e-4 * abs(losses[0]), "\(losses)")
    }

    @Test func killedZeroRunResumesOnAnotherWorldSize() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let det = base + ["--steps", "30", "--deterministic", "--checkpoint-every", "10"]
        #expect(try CLI.run(det + ["--summary-json", dir + "/ref.json"]).status == 0)
        let expected = try sha(dir + "/ref.json")
        // Stage 2 at np=4, killed after the step-20 checkpoint (rank 0 gathered every shard's state into it).
        let killed = try CLI.mpirun(4, det + ["--zero", "2", "--checkpoint-dir", dir + "/k", "--inject-fault", "kill@25:rank=2"], timeout: 120)
        #expect(killed.status != 0 && FileManager.default.fileExists(atPath: dir + "/k/step-00000020"), "\(killed.output)")
        // Resumed at np=2 with stage 1: each rank reads its shard of the whole checkpoint.
        let resumed = try CLI.mpirun(2, det + ["--zero", "1", "--checkpoint-dir", dir + "/k", "--resume", "auto", "--summary-json", dir + "/k.json"], timeout: 120)
        #expect(resumed.status == 0 && resumed.output.contains("step-00000020"), "\(resumed.output)")
        #expect(try sha(dir + "/k.json") == expected)
        // And the same checkpoint on one process without ZeRO.
        let plain = try CLI.run(det + ["--checkpoint-dir", dir + "/k", "--resume", dir + "/k/step-00000020", "--summary-json", dir + "/p.json"], timeout: 120)
        #expect(plain.status == 0, "\(plain.output)")
        #expect(try sha(dir + "/p.json") == expected)
    }

    @Test func flagsThatDoNotCombineAreRefused() throws {
        let cases: [([String], String)] = [
            (["--zero", "3"], "--zero must be 0"),
            (["--zero", "2", "--grad-comm", "bf16"], "--zero 2"),
        ]
        for (flags, text) in cases {
            let r = try CLI.run(base + flags, timeout: 60)
            #expect(r.status != 0 && r.stderr.contains(text), "\(flags): \(r.output)")
        }
        let gan = try CLI.mpirun(2, ["train", "--model", "dcgan", "--steps", "2", "--zero", "1"], timeout: 120)
        #expect(gan.status != 0 && gan.stderr.contains("--zero"), "\(gan.output)")
    }
}
