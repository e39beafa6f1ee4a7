// `--allreduce hierarchical|flat|auto` on one machine: COHORT_NODE_SIZE=2 makes 4 ranks
// two "nodes" of 2, so the hierarchical path (node-local reduce-scatter, cross-node
// allreduce, node-local allgather) runs without namespaces. MPISelfTest compares it with
// the flat allreduce on random data (and the leader path on uneven nodes); `cohort train`
// must give the same weights with either flag (within 1e-5; bitwise with --deterministic).
// checks/hier-netns.sh repeats this across 2 network-namespace hosts × 2 ranks.
import Foundation
import Testing

@Suite(.serialized) struct HierarchicalAllreduceTests {
    var selfTest: String { URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("MPISelfTest").path }

    /// `executable args…` under mpirun on `ranks` ranks, with COHORT_NODE_SIZE (and DDP's shared memory off unless `sharedMemory`).
    func mpirun(_ ranks: Int, nodeSize: String, sharedMemory: Bool = false, _ executable: String, _ args: [String]) throws -> CLIResult {
        try CLI.runExecutable("/usr/bin/env", ["COHORT_NODE_SIZE=\(nodeSize)", "COHORT_SHARED_MEMORY=\(sharedMemory ? 1 : 0)", "mpirun", "--allow-run-as-root",
                                               "--oversubscribe", "--bind-to", "none", "-x", "COHORT_NODE_SIZE", "-x", "COHORT_SHARED_MEMORY",
                                               "-np", "\(ranks)", executable] + args, timeout: 180)
    }

    @Test(arguments: [4, 3]) func selfTestAgreesWithFlat(ranks: Int) throws {
        let r = try mpirun(ranks, nodeSize: "2", sharedMemory: true, selfTest, [])   // its own shared-memory checks need the window
        #expect(r.status == 0, "\(r.output)")
        for k in 0..<ranks { #expect(r.stdout.contains("hierarchical allreduce: ok on rank \(k) (2 nodes"), "\(r.output)") }
        #expect(r.stdout.contains("uneven") == (ranks == 3), "\(r.output)")
    }

    @Test func trainingMatchesFlat() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["train", "--steps", "20", "--global-batch", "64", "--hidden", "64", "--log-every", "1000", "--checkpoint-every", "20",
                    "--bucket-mb", "0.01", "--seed", "4"]
        var summaries: [String: [String: Any]] = [:]
        for (name, extra) in [("flat", ["--allreduce", "flat"]), ("hier", ["--allreduce", "hierarchical"]),
                              ("flat-det", ["--allreduce", "flat", "--deterministic"]), ("hier-det", ["--allreduce", "hierarchical", "--deterministic"])] {
            let json = dir.appendingPathComponent(name + ".json").path
            let r = try mpirun(4, nodeSize: "2", CLI.binary, args + extra + ["--checkpoint-dir", dir.appendingPathComponent(name).path, "--summary-json", json])
            #expect(r.status == 0, "\(name): \(r.output)")
            if name == "hier" { #expect(r.output.contains("allreduce hierarchical: 2 nodes, up to 2 ranks per node"), "\(r.output)") }
            summaries[name] = try CLI.readJSON(json)
        }
        #expect(summaries["hier"]?["gradient_transport"] as? String == "allreduce", "\(summaries["hier"] ?? [:])")
        let diff = try CLI.run(["ckpt", "diff", dir.appendingPathComponent("flat/step-00000020").path,
                                dir.appendingPathComponent("hier/step-00000020").path, "--rtol", "1e-5", "--atol", "1e-6"])
        #expect(diff.status == 0, "hierarchical vs flat weights: \(diff.output)")
        let loss = [summaries["flat"]?["train_loss"] as? Double ?? .nan, summaries["hier"]?["train_loss"] as? Double ?? 0]
        #expect(Swift.abs(loss[0] - loss[1]) <= 1e-5 * Swift.abs(loss[0]), "train loss flat \(loss[0]) vs hierarchical \(loss[1])")
        let sha = ["flat-det", "hier-det"].map { summaries[$0]?["weights_sha256"] as? String ?? $0 }
        #expect(sha[0] == sha[1], "deterministic weights differ: \(sha)")
    }

    @Test func mistakesAreRefusedByName() throws {
        let bad = try CLI.run(["train", "--steps", "1", "--allreduce", "ring"])
        #expect(bad.status == 2 && bad.output.contains("--allreduce") && bad.output.contains("ring"), "\(bad.output)")
        let node = try mpirun(2, nodeSize: "zero", CLI.binary, ["train", "--steps", "1", "--allreduce", "hierarchical"])
        #expect(node.status != 0 && node.output.contains("COHORT_NODE_SIZE") && node.output.contains("zero"), "\(node.output)")
        let bench = try CLI.run(["bench", "allreduce", "--allreduce", "flat"])
        #expect(bench.status != 0 && bench.output.contains("--allreduce"), "\(bench.output)")
    }
}
