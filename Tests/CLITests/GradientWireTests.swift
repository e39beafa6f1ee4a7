// `--grad-comm bf16|fp16` under real mpirun: half the gradient bytes per step on
// both transports (node-shared memory and MPI messages), the same training within
// rounding of float32 exchange, and mistakes refused by name.
import Foundation
import Testing

@Suite(.serialized) struct GradientWireTests {
    let args = ["train", "--steps", "40", "--global-batch", "128", "--hidden", "128", "--log-every", "1000", "--step-times", "--seed", "3"]

    /// Runs 2 ranks and returns the summary: shared memory, or MPI messages when `sharedMemory` is false.
    func run(_ extra: [String], sharedMemory: Bool, in dir: URL, name: String) throws -> [String: Any] {
        let json = dir.appendingPathComponent(name + ".json").path
        let r = try CLI.runExecutable("/usr/bin/env", ["COHORT_SHARED_MEMORY=\(sharedMemory ? 1 : 0)", "mpirun", "--allow-run-as-root",
                                                       "--oversubscribe", "--bind-to", "none", "-x", "COHORT_SHARED_MEMORY", "-np", "2",
                                                       CLI.binary] + args + extra + ["--summary-json", json])
        #expect(r.status == 0, "\(name): \(r.output)")
        return try CLI.readJSON(json)
    }

    /// Every rank's comm_bytes of every step (the last element of each step's record).
    func commBytes(_ summary: [String: Any]) -> Set<Int> {
        let ranks = summary["step_times"] as? [[[Double]]] ?? []
        return Set(ranks.flatMap { $0.compactMap { $0.last.map { Int($0) } } })
    }

    @Test func sixteenBitWiresHalveTheBytesAndTrainAlike() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for sharedMemory in [true, false] {
            let exact = try run([], sharedMemory: sharedMemory, in: dir, name: "fp32-\(sharedMemory)")
            let fullBytes = commBytes(exact)
            #expect(fullBytes.count == 1 && (fullBytes.first ?? 0) > 0, "fp32 bytes per step: \(fullBytes)")
            let exactLoss = exact["train_loss"] as? Double ?? .nan
            for (wire, extra) in [("bf16", [String]()), ("fp16", []), ("bf16", ["--grad-comm-error-feedback"])] {
                let name = "\(wire)\(extra.isEmpty ? "" : "-ef")-\(sharedMemory)"
                let s = try run(["--grad-comm", wire] + extra, sharedMemory: sharedMemory, in: dir, name: name)
                #expect(commBytes(s) == Set(fullBytes.map { $0 / 2 }), "\(name): bytes per step \(commBytes(s)) vs fp32 \(fullBytes)")
                #expect((s["gradient_transport"] as? String ?? "").hasSuffix("(\(wire))"), "\(name): \(s["gradient_transport"] ?? "")")
                let loss = s["train_loss"] as? Double ?? .nan
                #expect(Swift.abs(loss - exactLoss) <= 0.02 * exactLoss, "\(name): train loss \(loss) vs fp32 \(exactLoss)")
                let accuracy = s["test_accuracy"] as? Double ?? 0, exactAccuracy = exact["test_accuracy"] as? Double ?? 1
                #expect(Swift.abs(accuracy - exactAccuracy) <= 0.01, "\(name): test accuracy \(accuracy) vs fp32 \(exactAccuracy)")
            }
        }
    }

    @Test func deterministicBFloat16IsTheSameForEveryWorldSize() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ["train", "--steps", "12", "--global-batch", "64", "--hidden", "64", "--log-every", "1000", "--deterministic", "--seed", "5"]
        func sha(_ ranks: Int, _ extra: [String]) throws -> String {
            let json = dir.appendingPathComponent("np\(ranks)\(extra.joined()).json").path
            let args = base + extra + ["--summary-json", json, "--step-times"]
            let r = ranks == 1 ? try CLI.run(args) : try CLI.mpirun(ranks, args)
            #expect(r.status == 0, "np=\(ranks) \(extra): \(r.output)")
            let summary = try CLI.readJSON(json)
            if ranks > 1 && !extra.isEmpty {
                let fp32 = try CLI.readJSON(dir.appendingPathComponent("np\(ranks).json").path)
                #expect(commBytes(summary) == Set(commBytes(fp32).map { $0 / 2 }), "np=\(ranks): bytes \(commBytes(summary)) vs \(commBytes(fp32))")
            }
            return summary["weights_sha256"] as? String ?? ""
        }
        let exact = [1, 2, 4].map { try? sha($0, []) }
        let bf16 = [1, 2, 4].map { try? sha($0, ["--grad-comm", "bf16"]) }
        #expect(Set(exact).count == 1 && Set(bf16).count == 1, "float32 \(exact), bfloat16 \(bf16)")
        #expect(exact[0] != bf16[0], "the bfloat16 wire rounded nothing")
    }

    @Test func mistakesAreRefusedByName() throws {
        let bad = try CLI.run(["train", "--steps", "1", "--grad-comm", "int8"])
        #expect(bad.status != 0 && bad.output.contains("--grad-comm") && bad.output.contains("int8"), "\(bad.output)")
        let feedback = try CLI.run(["train", "--steps", "1", "--grad-comm-error-feedback"])
        #expect(feedback.status != 0 && feedback.output.contains("--grad-comm-error-feedback"), "\(feedback.output)")
        let deterministic = try CLI.run(["train", "--steps", "1", "--deterministic", "--grad-comm", "fp16"])
        #expect(deterministic.status != 0 && deterministic.output.contains("--deterministic"), "\(deterministic.output)")
    }
}
