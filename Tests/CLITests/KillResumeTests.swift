// SIGKILL at random moments and at injected points inside checkpoint writes,
// many times; every restart with `--resume auto` must continue from the newest
// complete checkpoint, and the final weights must equal an uninterrupted run's.
import Foundation
import Testing

@Suite(.serialized) struct KillResumeTests {
    let common = ["train", "--steps", "600", "--hidden", "512,512", "--checkpoint-every", "25", "--keep-last", "2", "--log-every", "1000"]

    func sha(_ summary: String) throws -> String { try CLI.readJSON(summary)["weights_sha256"] as? String ?? "" }

    @Test func killedRunsResumeToTheSameWeights() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = dir.appendingPathComponent("reference.json").path
        let r0 = try CLI.run(["train", "--steps", "600", "--hidden", "512,512", "--log-every", "1000", "--summary-json", reference])
        #expect(r0.status == 0, "\(r0.output)")
        let expected = try sha(reference)

        let ckpt = dir.appendingPathComponent("ckpt").path
        let summary = dir.appendingPathComponent("summary.json").path
        let args = common + ["--checkpoint-dir", ckpt, "--resume", "auto", "--summary-json", summary]
        var kills = 0

        // Crashes injected inside saves: after a data chunk, after the manifest, after the rename.
        for (i, point) in ["data@1", "manifest@2", "renamed@1", "data@3", "manifest@1", "renamed@2"].enumerated() {
            let r = try CLI.run(args + (i % 2 == 1 ? ["--async-checkpoint"] : []), environment: ["COHORT_TEST_CRASH_POINT": point])
            if r.status == 0 { break }                     // finished before that save: nothing left to crash
            #expect(r.status == 9, "crash point \(point): \(r.output)")
            kills += 1
        }
        // SIGKILL at random times (a fixed generator, so the test is repeatable).
        var seedState: UInt64 = 0x5EED
        func nextDelay() -> Double {
            seedState = seedState &* 6364136223846793005 &+ 1442695040888963407
            return 0.1 + Double(seedState >> 40) / Double(1 << 24) * 0.4
        }
        var finished = false
        for i in 0..<40 {
            let r = try CLI.run(args + (i % 3 == 0 ? ["--async-checkpoint"] : []), killAfter: nextDelay())
            if r.status == 0 { finished = true; break }
            #expect(r.status == 9, "run \(i) ended with \(r.status): \(r.output)")
            #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("damaged"), "\(r.stderr)")
            kills += 1
        }
        if !finished {
            let r = try CLI.run(args)
            #expect(r.status == 0, "\(r.output)")
        }
        print("kill/resume: \(kills) kills, all resumed")
        #expect(kills >= 10, "only \(kills) kills landed; the runs are too fast for this test")
        #expect(try sha(summary) == expected, "after \(kills) kills")
    }
}
