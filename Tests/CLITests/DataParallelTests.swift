// Data-parallel training under real mpirun: N steps at np=2 and np=4
// (oversubscribed) with global batch B end within 1e-5 relative of np=1.
import Foundation
import Testing

@Suite(.serialized) struct DataParallelTests {
    let args = ["train", "--steps", "40", "--global-batch", "128", "--hidden", "128", "--checkpoint-every", "40", "--log-every", "1000"]

    func mpirun(_ ranks: Int, _ extra: [String]) throws -> CLIResult {
        try CLI.runExecutable("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                                               "-np", "\(ranks)", CLI.binary] + extra)
    }

    @Test func worldSizesAgreeWithOneRank() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = dir.appendingPathComponent("np1").path
        let r1 = try CLI.run(args + ["--checkpoint-dir", one])
        #expect(r1.status == 0, "\(r1.output)")
        for n in [2, 4] {
            let out = dir.appendingPathComponent("np\(n)").path
            let r = try mpirun(n, args + ["--checkpoint-dir", out, "--summary-json", out + ".json"])
            #expect(r.status == 0, "np=\(n): \(r.output)")
            #expect(!r.stderr.contains("[rank 1/"), "only rank 0 prints progress: \(r.stderr)")
            #expect(try CLI.readJSON(out + ".json")["world_size"] as? Int == n)
            let diff = try CLI.run(["ckpt", "diff", one + "/step-00000040", out + "/step-00000040", "--rtol", "1e-5", "--atol", "1e-6"])
            #expect(diff.status == 0, "np=\(n) vs np=1: \(diff.output)")
        }
    }

    @Test func indivisibleGlobalBatchNamesValidWorldSizes() throws {
        let r = try mpirun(3, ["train", "--steps", "2", "--global-batch", "128"])
        #expect(r.status != 0)
        #expect(r.output.contains("--global-batch") && r.output.contains("1, 2, 4, 8"), "\(r.output)")
    }
}
