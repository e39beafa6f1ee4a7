// Data-parallel training under real mpirun: N steps at np=2 and np=4
// (oversubscribed) with global batch B end within 1e-5 relative of np=1.
import Foundation
import Testing

@Suite(.serialized) struct DataParallelTests {
    let args = ["train", "--steps", "40", "--global-batch", "128", "--hidden", "128", "--checkpoint-every", "40", "--log-every", "1000"]

    func mpirun(_ ranks: Int, _ extra: [String]) throws -> CLIResult { try CLI.mpirun(ranks, extra) }

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
            #expect(try CLI.readJSON(out + ".json")["gradient_transport"] as? String == "shared memory", "one node: shared memory")
            let diff = try CLI.run(["ckpt", "diff", one + "/step-00000040", out + "/step-00000040", "--rtol", "1e-5", "--atol", "1e-6"])
            #expect(diff.status == 0, "np=\(n) vs np=1: \(diff.output)")
        }
        // The MPI allreduce path (what runs across nodes), forced on one node.
        let out = dir.appendingPathComponent("np2-mpi").path
        let r = try CLI.runExecutable("/usr/bin/env", ["COHORT_SHARED_MEMORY=0", "mpirun", "--allow-run-as-root", "--bind-to", "none",
                                                       "-x", "COHORT_SHARED_MEMORY", "-np", "2", CLI.binary]
                                      + args + ["--checkpoint-dir", out, "--summary-json", out + ".json"])
        #expect(r.status == 0, "\(r.output)")
        #expect(try CLI.readJSON(out + ".json")["gradient_transport"] as? String == "allreduce")
        let diff = try CLI.run(["ckpt", "diff", one + "/step-00000040", out + "/step-00000040", "--rtol", "1e-5", "--atol", "1e-6"])
        #expect(diff.status == 0, "np=2 over MPI allreduce vs np=1: \(diff.output)")
    }

    @Test func indivisibleGlobalBatchNamesValidWorldSizes() throws {
        let r = try mpirun(3, ["train", "--steps", "2", "--global-batch", "128"])
        #expect(r.status != 0)
        #expect(r.output.contains("--global-batch") && r.output.contains("1, 2, 4, 8"), "\(r.output)")
    }

    @Test func resumeOnAnotherWorldSizeSeesExactlyTheSameSamples() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ["train", "--steps", "30", "--global-batch", "64", "--hidden", "64", "--log-every", "1000"]
        let reference = dir.appendingPathComponent("reference.trace").path
        let r0 = try CLI.run(base + ["--trace-samples", reference, "--checkpoint-dir", dir.appendingPathComponent("ref").path,
                                     "--checkpoint-every", "30"])
        #expect(r0.status == 0, "\(r0.output)")
        // np=4 until it is killed right after its step-10 checkpoint (injected crash in the 2nd save), then np=2.
        let ckpt = dir.appendingPathComponent("ckpt").path
        let trace = dir.appendingPathComponent("resumed.trace").path
        let r4 = try CLI.runExecutable("/usr/bin/env", ["COHORT_TEST_CRASH_POINT=data@2", "mpirun", "--allow-run-as-root", "--oversubscribe",
                                                        "--bind-to", "none", "-np", "4", CLI.binary] + base
                                       + ["--trace-samples", trace, "--checkpoint-dir", ckpt, "--checkpoint-every", "10"])
        #expect(r4.status != 0, "the np=4 run should have been killed in its second save")
        let r2 = try CLI.runExecutable("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                                                        "-np", "2", CLI.binary] + base
                                       + ["--trace-samples", trace, "--checkpoint-dir", ckpt, "--checkpoint-every", "10", "--resume", "auto"])
        #expect(r2.status == 0, "\(r2.output)")
        #expect(r2.stderr.contains("resumed from") && r2.stderr.contains("step-00000010"), "\(r2.stderr)")
        // The np=4 run traced steps 1…20 before dying; the resumed run re-traces 11…30.
        // Every step's samples must match the reference, and steps 11…20 must match themselves.
        var seen: [Int: String] = [:]
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
        let ref = Dictionary(uniqueKeysWithValues: try String(contentsOfFile: reference, encoding: .utf8).split(separator: "\n").map { line -> (Int, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (Int(parts[0].dropFirst(5))!, String(parts[1]))
        })
        for line in lines {
            let parts = line.split(separator: ":", maxSplits: 1)
            let step = Int(parts[0].dropFirst(5))!
            #expect(ref[step] == String(parts[1]), "step \(step) trained on other samples than the uninterrupted run")
            if let earlier = seen[step] { #expect(earlier == String(parts[1])) }
            seen[step] = String(parts[1])
        }
        #expect(Set(seen.keys) == Set(1...30))
        let diff = try CLI.run(["ckpt", "diff", dir.appendingPathComponent("ref").path + "/step-00000030", ckpt + "/step-00000030",
                                "--rtol", "1e-5", "--atol", "1e-6"])
        #expect(diff.status == 0, "\(diff.output)")
    }

    /// SGD: Adam's m/√v turns rounding differences in near-zero gradients into visible
    /// ones, which says nothing about accumulation itself.
    @Test func accumulationMatchesOneBigBatch() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ["train", "--steps", "30", "--global-batch", "128", "--hidden", "128", "--optimizer", "sgd", "--lr", "0.05",
                    "--checkpoint-every", "30", "--log-every", "1000"]
        let one = dir.appendingPathComponent("plain").path, acc = dir.appendingPathComponent("acc").path
        #expect(try CLI.run(base + ["--checkpoint-dir", one]).status == 0)
        let r = try mpirun(2, base + ["--accumulate", "4", "--checkpoint-dir", acc, "--summary-json", acc + ".json"])
        #expect(r.status == 0, "\(r.output)")
        #expect(try CLI.readJSON(acc + ".json")["accumulate"] as? Int == 4)
        let diff = try CLI.run(["ckpt", "diff", one + "/step-00000030", acc + "/step-00000030", "--rtol", "1e-5", "--atol", "1e-6"])
        #expect(diff.status == 0, "\(diff.output)")
        let bad = try CLI.run(["train", "--steps", "1", "--global-batch", "128", "--accumulate", "3"])
        #expect(bad.status != 0 && bad.stderr.contains("--accumulate"), "\(bad.output)")
    }

    func sha(_ path: String) throws -> String { try CLI.readJSON(path)["weights_sha256"] as? String ?? "" }

    @Test func deterministicModeIsBitwiseIdenticalForEveryWorldSize() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ["train", "--steps", "8", "--global-batch", "64", "--hidden", "64", "--deterministic", "--log-every", "1000"]
        let one = dir.appendingPathComponent("np1.json").path
        #expect(try CLI.run(base + ["--summary-json", one]).status == 0)
        let expected = try sha(one)
        for n in [2, 4, 8] {
            let out = dir.appendingPathComponent("np\(n).json").path
            let r = try mpirun(n, base + ["--summary-json", out])
            #expect(r.status == 0, "np=\(n): \(r.output)")
            #expect(try sha(out) == expected, "np=\(n)")
        }
    }

    @Test func deterministicResumeOnAnotherWorldSizeIsBitwiseIdentical() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ["train", "--steps", "20", "--global-batch", "64", "--hidden", "64", "--deterministic", "--log-every", "1000"]
        let reference = dir.appendingPathComponent("ref.json").path
        #expect(try CLI.run(base + ["--summary-json", reference]).status == 0)
        let ckpt = dir.appendingPathComponent("ckpt").path, out = dir.appendingPathComponent("resumed.json").path
        let r4 = try CLI.runExecutable("/usr/bin/env", ["COHORT_TEST_CRASH_POINT=manifest@2", "mpirun", "--allow-run-as-root", "--oversubscribe",
                                                        "--bind-to", "none", "-np", "4", CLI.binary] + base
                                       + ["--checkpoint-dir", ckpt, "--checkpoint-every", "7"])
        #expect(r4.status != 0, "the np=4 run should have died in its second save")
        let r2 = try mpirun(2, base + ["--checkpoint-dir", ckpt, "--checkpoint-every", "7", "--resume", "auto", "--summary-json", out])
        #expect(r2.status == 0 && r2.stderr.contains("step-00000007"), "\(r2.output)")
        #expect(try sha(out) == sha(reference))
    }
}
