// `cohort train --trace` and `cohort trace merge` under real mpirun: a 2-rank W1-shaped
// run's files merged and validated as Chrome trace JSON by Tests/Support/trace_validate.py
// (parses, required fields, a process per rank, events nested per thread, per-layer
// forward/backward, bucket launches and waits, optimizer, data, checkpoint, validation) —
// on the shared-memory path, the MPI allreduce path and deterministic mode; the step
// window; and the mistakes (unwritable path, non-trace file, files of different runs).
import Foundation
import Testing

@Suite(.serialized) struct TraceTests {
    static let validator = CLI.repoRoot.appendingPathComponent("Tests/Support/trace_validate.py").path
    let train = ["train", "--model", "mlp", "--hidden", "256,256", "--global-batch", "128", "--steps", "6", "--log-every", "1000"]

    /// Runs the validator on `file`; its output (the summary JSON line, or the problem).
    func validate(_ file: String, ranks: Int, require: [String]) throws -> CLIResult {
        try CLI.runExecutable("/usr/bin/env", ["python3", TraceTests.validator, file, "--ranks", "\(ranks)"]
                              + require.flatMap { ["--require", $0] }, timeout: 60)
    }

    func twoRanks(_ args: [String], environment: [String] = []) throws -> CLIResult {
        let exports = environment.flatMap { ["-x", String($0.split(separator: "=")[0])] }
        return try CLI.runExecutable("/usr/bin/env", environment + ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]
                                     + exports + ["-np", "2", CLI.binary] + args, timeout: 120)
    }

    @Test func twoRankTimelineMergesIntoAValidChromeTrace() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("trace.json").path
        let r = try twoRanks(train + ["--trace", trace, "--prefetch", "1", "--val-split", "0.1", "--val-every", "3",
                                      "--checkpoint-dir", dir.appendingPathComponent("ckpt").path, "--checkpoint-every", "3"])
        #expect(r.status == 0, "\(r.output)")
        for rank in 0..<2 { #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("trace.rank\(rank).json").path)) }
        let merged = dir.appendingPathComponent("merged.json").path
        let m = try CLI.run(["trace", "merge", trace, "--out", merged])
        #expect(m.status == 0, "\(m.output)")
        #expect(m.stdout.contains("ranks 0, 1 of 2"), "\(m.output)")
        let v = try validate(merged, ranks: 2, require: [
            "step", "data wait", "prefetch batch", "forward", "backward", "forward 1 (Linear)", "backward 1 (Linear)",
            "forward 2 (ReLU)", "backward 5 (Linear)", "bucket launch", "bucket wait", "bucket reduce", "gradient sync",
            "loss agreement", "optimizer step", "checkpoint save", "validation",
        ])
        #expect(v.status == 0, "\(v.output)")
        // Every step of the run is there once per rank, with its number.
        let root = try CLI.readJSON(merged)
        let steps = (root["traceEvents"] as? [[String: Any]] ?? []).filter { $0["name"] as? String == "step" }
        for rank in 0..<2 {
            let numbers = steps.filter { $0["pid"] as? Int == rank }.compactMap { ($0["args"] as? [String: Any])?["step"] as? Int }
            #expect(numbers.sorted() == Array(1...6), "rank \(rank): \(numbers)")
        }
    }

    @Test func mpiAllreducePathAndDeterministicModeAreTraced() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mpi = dir.appendingPathComponent("mpi.json").path
        let r = try twoRanks(train + ["--trace", mpi], environment: ["COHORT_SHARED_MEMORY=0"])
        #expect(r.status == 0, "\(r.output)")
        let mergedMPI = dir.appendingPathComponent("mpi-merged.json").path
        #expect(try CLI.run(["trace", "merge", dir.appendingPathComponent("mpi.rank*.json").path, "--out", mergedMPI]).status == 0)
        let v = try validate(mergedMPI, ranks: 2, require: ["bucket launch", "bucket wait", "gradient sync", "backward 1 (Linear)", "optimizer step"])
        #expect(v.status == 0, "\(v.output)")
        #expect(!v.stdout.contains("bucket reduce"), "the MPI path has no shared-memory reduce: \(v.stdout)")

        let det = dir.appendingPathComponent("det.json").path
        let d = try twoRanks(train + ["--trace", det, "--deterministic"])
        #expect(d.status == 0, "\(d.output)")
        let mergedDet = dir.appendingPathComponent("det-merged.json").path
        #expect(try CLI.run(["trace", "merge", TraceTestsPaths.rank(det, 0), TraceTestsPaths.rank(det, 1), "--out", mergedDet,
                             "--align", "barrier"]).status == 0)
        let w = try validate(mergedDet, ranks: 2, require: ["virtual shard reduce", "forward 1 (Linear)", "backward 1 (Linear)", "optimizer step"])
        #expect(w.status == 0, "\(w.output)")
    }

    @Test func stepWindowRecordsOnlyThoseSteps() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("t.json").path
        let r = try CLI.run(train + ["--trace", trace, "--trace-steps", "2:3"])
        #expect(r.status == 0, "\(r.output)")
        let root = try CLI.readJSON(TraceTestsPaths.rank(trace, 0))
        let events = root["traceEvents"] as? [[String: Any]] ?? []
        let steps = events.filter { $0["name"] as? String == "step" }.compactMap { ($0["args"] as? [String: Any])?["step"] as? Int }
        #expect(steps.sorted() == [2, 3])
        #expect(events.filter { $0["name"] as? String == "optimizer step" }.count == 2)
        let v = try validate(TraceTestsPaths.rank(trace, 0), ranks: 1, require: ["forward 1 (Linear)", "backward 1 (Linear)", "optimizer step"])
        #expect(v.status == 0, "\(v.output)")
    }

    @Test func mistakesNameTheFile() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // An unwritable path fails before training, naming the rank's file.
        let bad = dir.appendingPathComponent("missing-dir/t.json").path
        let u = try CLI.run(train + ["--trace", bad])
        #expect(u.status != 0)
        #expect(u.stderr.contains(TraceTestsPaths.rank(bad, 0)) && u.stderr.contains("cannot write"), "\(u.output)")
        #expect(!u.stderr.contains("step 1/"), "no training before the error: \(u.stderr)")
        // A non-trace file, and a JSON file that is not a Cohort trace.
        let text = dir.appendingPathComponent("notes.json").path
        try "hello".write(toFile: text, atomically: true, encoding: .utf8)
        let n = try CLI.run(["trace", "merge", text, "--out", dir.appendingPathComponent("m.json").path])
        #expect(n.status != 0 && n.stderr.contains(text) && n.stderr.contains("not a Chrome trace"), "\(n.output)")
        let other = dir.appendingPathComponent("other.json").path
        try #"{"traceEvents":[]}"#.write(toFile: other, atomically: true, encoding: .utf8)
        let o = try CLI.run(["trace", "merge", other, "--out", dir.appendingPathComponent("m.json").path])
        #expect(o.status != 0 && o.stderr.contains(other) && o.stderr.contains("cohort train --trace"), "\(o.output)")
        // Two single-rank runs: each file is rank 0 of a different run.
        let a = dir.appendingPathComponent("a.json").path, b = dir.appendingPathComponent("b.json").path
        #expect(try CLI.run(train + ["--steps", "1", "--trace", a]).status == 0)
        #expect(try CLI.run(train + ["--steps", "1", "--trace", b]).status == 0)
        let mixed = try CLI.run(["trace", "merge", TraceTestsPaths.rank(a, 0), TraceTestsPaths.rank(b, 0), "--out", dir.appendingPathComponent("m.json").path])
        #expect(mixed.status != 0 && mixed.stderr.contains(TraceTestsPaths.rank(b, 0)) && mixed.stderr.contains("another run"), "\(mixed.output)")
        let twice = try CLI.run(["trace", "merge", TraceTestsPaths.rank(a, 0), TraceTestsPaths.rank(a, 0), "--out", dir.appendingPathComponent("m.json").path])
        #expect(twice.status != 0 && twice.stderr.contains("rank 0 again"), "\(twice.output)")
        let none = try CLI.run(["trace", "merge", dir.appendingPathComponent("nothing.json").path, "--out", dir.appendingPathComponent("m.json").path])
        #expect(none.status != 0 && none.stderr.contains("nothing.json"), "\(none.output)")
        // Flag mistakes.
        let w = try CLI.run(train + ["--trace", a, "--trace-steps", "5:2"])
        #expect(w.status == 2 && w.stderr.contains("--trace-steps"), "\(w.output)")
        let lone = try CLI.run(train + ["--trace-steps", "1:2"])
        #expect(lone.status == 2 && lone.stderr.contains("need --trace"), "\(lone.output)")
    }
}

/// The rank files' names, as docs/trace.md states the rule (independent of the implementation).
enum TraceTestsPaths {
    static func rank(_ path: String, _ r: Int) -> String {
        precondition(path.hasSuffix(".json"))
        return String(path.dropLast(5)) + ".rank\(r).json"
    }
}
