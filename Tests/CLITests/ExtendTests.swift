// `cohort train --resume … --extend`: a finished 400-step run continued to 600 steps gives
// bitwise the same weights when the same extension runs again; the change is printed and
// recorded in the checkpoints (kept by a second extension); other settings still must
// match (a changed model is refused), and without --extend a longer run is refused.
import Foundation
import Testing

@Suite(.serialized) struct ExtendTests {
    static let base = ["train", "--hidden", "16", "--global-batch", "32", "--log-every", "1000", "--threads", "1", "--seed", "3"]

    func run(_ args: [String]) throws -> CLIResult {
        let r = try CLI.run(Self.base + args)
        #expect(r.status == 0, "\(args): \(r.output)")
        return r
    }

    func sha(_ summary: String) throws -> String { try CLI.readJSON(summary)["weights_sha256"] as? String ?? "none" }

    @Test func anExtensionIsReproducibleAndRecorded() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = dir.appendingPathComponent("first").path
        _ = try run(["--steps", "400", "--checkpoint-every", "400", "--checkpoint-dir", first, "--summary-json", first + ".json"])
        let finished = first + "/step-00000400"

        let refused = try CLI.run(Self.base + ["--steps", "600", "--resume", finished])
        #expect(refused.status == 2 && refused.stderr.contains("total_steps 400, this run has 600"), "\(refused.output)")

        var hashes: [String] = []
        for name in ["a", "b"] {
            let out = dir.appendingPathComponent(name).path
            let r = try run(["--steps", "600", "--lr", "0.0005", "--resume", finished, "--extend", "--checkpoint-dir", out,
                             "--checkpoint-every", "600", "--summary-json", out + ".json"])
            #expect(r.output.contains("extending the run at step 400 from \(finished): lr 0.001 → 0.0005, total_steps 400 → 600"), "\(r.output)")
            hashes.append(try sha(out + ".json"))
        }
        #expect(hashes[0] == hashes[1], "the same extension twice gives bitwise the same weights")
        #expect(hashes[0] != (try sha(first + ".json")))
        let extended = dir.appendingPathComponent("a").path + "/step-00000600"
        let inspect = try CLI.run(["ckpt", "inspect", extended])
        #expect(inspect.output.contains("extended.1") && inspect.output.contains("total_steps 400 → 600"), "\(inspect.output)")

        // A second extension keeps the first in the record; a changed model is still refused.
        let changedModel = try CLI.run(Self.base.map { $0 == "16" ? "24" : $0 } + ["--steps", "700", "--resume", extended, "--extend"])
        #expect(changedModel.status == 2 && changedModel.stderr.contains("hidden 16, this run has 24"), "\(changedModel.output)")
        let second = dir.appendingPathComponent("second").path
        _ = try run(["--steps", "700", "--lr", "0.0005", "--resume", extended, "--extend", "--checkpoint-dir", second, "--checkpoint-every", "700"])
        let record = try CLI.run(["ckpt", "inspect", second + "/step-00000700"])
        #expect(record.output.contains("extended.1") && record.output.contains("extended.2") && record.output.contains("total_steps 600 → 700"),
                "\(record.output)")
        let withoutResume = try CLI.run(Self.base + ["--steps", "10", "--extend"])
        #expect(withoutResume.status == 2 && withoutResume.stderr.contains("--extend"), "\(withoutResume.output)")
    }
}
