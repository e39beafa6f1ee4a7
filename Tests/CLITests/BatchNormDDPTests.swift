// BatchNorm under data parallelism: each rank updates its running statistics from
// its own shard; before a save (and before evaluation) the ranks average them, so
// the checkpoint holds one model's statistics and a resumed run continues exactly.
import Foundation
import Testing

@Suite(.serialized) struct BatchNormDDPTests {
    let base = ["train", "--model", "resnet", "--data", CLI.mnist, "--steps", "2", "--global-batch", "16", "--checkpoint-every", "1",
                "--log-every", "1000", "--lr", "1e-3"]

    func mpirun(_ ranks: Int, _ extra: [String]) throws -> CLIResult { try CLI.mpirun(ranks, extra) }

    /// The `ckpt diff --json` entry for one tensor.
    func entry(_ diff: CLIResult, _ name: String) throws -> [String: Any]? {
        let report = try JSONSerialization.jsonObject(with: Data(diff.stdout.utf8)) as? [String: Any]
        return (report?["tensors"] as? [[String: Any]])?.first { $0["name"] as? String == name }
    }

    @Test func runningStatisticsAreAveragedOverRanksAndResumeExactly() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = dir.appendingPathComponent("np1").path, two = dir.appendingPathComponent("np2").path
        let r1 = try CLI.run(base + ["--checkpoint-dir", one])
        #expect(r1.status == 0, "\(r1.output)")
        let r2 = try mpirun(2, base + ["--checkpoint-dir", two])
        #expect(r2.status == 0, "\(r2.output)")
        // After step 1 the stem's running mean is 0.9·0 + 0.1·(batch mean of conv(x)) with the
        // initial (identical) weights: the mean of the two ranks' half-batch means is the
        // global batch mean, which is what np=1 recorded. Rank 0's own half would differ.
        let d = try CLI.run(["ckpt", "diff", two + "/step-00000001", one + "/step-00000001", "--rtol", "1e-4", "--atol", "1e-6", "--json"])
        let stem = try entry(d, "model/2.running_mean")
        #expect(stem != nil, "no stem BatchNorm running mean in the checkpoint: \(d.output)")
        #expect(stem?["within"] as? Bool == true, "np=2's stem running mean is not the global batch mean: \(stem ?? [:])")
        #expect((stem?["max_abs_diff"] as? Double ?? 1) < 1e-5)

        // Resume step 1 → 2 on 2 ranks: the same step-2 checkpoint as the uninterrupted run.
        let resumed = dir.appendingPathComponent("resumed").path
        let r3 = try mpirun(2, base + ["--checkpoint-dir", resumed, "--resume", two + "/step-00000001"])
        #expect(r3.status == 0 && r3.stderr.contains("resumed from"), "\(r3.output)")
        let same = try CLI.run(["ckpt", "diff", resumed + "/step-00000002", two + "/step-00000002", "--rtol", "0", "--atol", "0"])
        #expect(same.status == 0, "a resumed BatchNorm run differs from the uninterrupted one: \(same.output)")
    }
}
