// `--prefetch N` prepares batches on a background thread, N steps ahead, from a
// copy of the data iterator: the samples, their order and the weights must be
// exactly those of a run without it, on one rank and under mpirun.
import Foundation
import Testing

@Suite(.serialized) struct PrefetchTests {
    func sha(_ path: String) throws -> String { try CLI.readJSON(path)["weights_sha256"] as? String ?? "" }

    @Test func prefetchChangesNothingButTiming() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ["train", "--steps", "12", "--global-batch", "64", "--hidden", "64", "--deterministic", "--log-every", "1000"]
        let off = dir.appendingPathComponent("off.json").path, on = dir.appendingPathComponent("on.json").path
        let traceOff = dir.appendingPathComponent("off.trace").path, traceOn = dir.appendingPathComponent("on.trace").path
        #expect(try CLI.run(base + ["--summary-json", off, "--trace-samples", traceOff]).status == 0)
        let r = try CLI.run(base + ["--prefetch", "3", "--summary-json", on, "--trace-samples", traceOn])
        #expect(r.status == 0, "\(r.output)")
        #expect(try sha(on) == sha(off))
        #expect(try String(contentsOfFile: traceOn, encoding: .utf8) == String(contentsOfFile: traceOff, encoding: .utf8))
        #expect(try CLI.readJSON(on)["prefetch"] as? Int == 3)
        let two = dir.appendingPathComponent("np2.json").path
        let m = try CLI.runExecutable("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "2",
                                                       CLI.binary] + base + ["--prefetch", "2", "--summary-json", two])
        #expect(m.status == 0, "\(m.output)")
        #expect(try sha(two) == sha(off), "2 ranks with prefetch vs 1 rank without")
        let bad = try CLI.run(["train", "--steps", "1", "--prefetch", "-1"])
        #expect(bad.status == 2 && bad.stderr.contains("--prefetch"), "\(bad.output)")
    }
}
