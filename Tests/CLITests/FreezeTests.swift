// `cohort train --freeze` and `--unfreeze-at`: frozen tensors stay bitwise unchanged
// through 100 AdamW steps with weight decay on 1 and 2 ranks (shared memory, MPI
// allreduce and deterministic virtual shards); their gradients are not averaged
// (`comm_bytes` per step in --step-times drops by exactly their size); gradual
// unfreezing rebuilds the buckets and a resume on either side of the unfreeze step
// ends on the same weights as the uninterrupted run.
import Foundation
import Testing

@Suite(.serialized) struct FreezeTests {
    /// The synthetic set's MLP 64-32-10: `1.weight` [32, 64] and `1.bias` [32] are 2,080 floats
    /// (multiples of 16, so no alignment padding): 8,320 bytes. The whole arena is 2,416 floats.
    static let base = ["train", "--hidden", "32", "--global-batch", "64", "--optimizer", "adamw", "--weight-decay", "0.1", "--decay-all",
                       "--lr", "0.01", "--log-every", "1000", "--threads", "1"]
    static let frozenBytes = (2048 + 32) * 4, arenaBytes = 2416 * 4

    /// Tensor name → whether `ckpt diff` with zero tolerance finds it changed between `a` and `b`.
    func changed(_ a: String, _ b: String) throws -> [String: Bool] {
        let diff = try CLI.run(["ckpt", "diff", a, b, "--rtol", "0", "--atol", "0"])
        var out: [String: Bool] = [:]
        for line in diff.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let name = fields.first, name.hasPrefix("model/") else { continue }
            out[String(name.dropFirst(6))] = line.contains("DIFFERS")
        }
        return out
    }

    /// Every step's `comm_bytes` on rank 0.
    func commBytes(_ summary: String) throws -> [Int] {
        let json = try CLI.readJSON(summary)
        let phases = json["step_time_phases"] as? [String] ?? []
        guard let column = phases.firstIndex(of: "comm_bytes"), let rank0 = (json["step_times"] as? [[[Double]]])?.first else { return [] }
        return rank0.map { Int($0[column]) }
    }

    func train(_ ranks: Int, _ args: [String], environment: [String] = []) throws -> CLIResult {
        let r = ranks == 1 ? try CLI.run(Self.base + args)
            : try CLI.runExecutable("/usr/bin/env", environment + ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]
                                    + environment.flatMap { ["-x", String($0.split(separator: "=")[0])] } + ["-np", "\(ranks)", CLI.binary] + Self.base + args)
        #expect(r.status == 0, "\(args): \(r.output)")
        return r
    }

    @Test func frozenTensorsStayBitwiseAndAreNotCommunicated() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let start = dir.appendingPathComponent("start").path
        _ = try train(1, ["--steps", "1", "--checkpoint-dir", start])
        let initial = start + "/step-00000001"
        let runs: [(name: String, ranks: Int, extra: [String], environment: [String])] = [
            ("np1", 1, [], []), ("np2", 2, [], []), ("np2-mpi", 2, [], ["COHORT_SHARED_MEMORY=0"]), ("np2-deterministic", 2, ["--deterministic"], []),
        ]
        for run in runs {
            let out = dir.appendingPathComponent(run.name).path
            let r = try train(run.ranks, ["--init-from", initial, "--freeze", "1.*", "--steps", "100", "--checkpoint-every", "100",
                                          "--checkpoint-dir", out, "--step-times", "--summary-json", out + ".json"] + run.extra,
                              environment: run.environment)
            guard r.status == 0 else { continue }
            let changes = try changed(initial, out + "/step-00000100")
            #expect(changes["1.weight"] == false && changes["1.bias"] == false, "\(run.name): frozen tensors moved: \(changes)")
            #expect(changes["3.weight"] == true && changes["3.bias"] == true, "\(run.name): trainable tensors did not train: \(changes)")
            let bytes = try commBytes(out + ".json")
            #expect(bytes.count == 100, "\(run.name)")
            #expect(Set(bytes) == [run.ranks == 1 ? 0 : Self.arenaBytes - Self.frozenBytes], "\(run.name): \(Set(bytes))")
        }
        // Without --freeze the same 2-rank run averages the whole arena: exactly the frozen tensors' bytes more.
        let all = dir.appendingPathComponent("np2-all").path
        _ = try train(2, ["--init-from", initial, "--steps", "20", "--step-times", "--summary-json", all + ".json"])
        #expect(Set(try commBytes(all + ".json")) == [Self.arenaBytes])
    }

    @Test func gradualUnfreezingResumesOnEitherSide() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = dir.appendingPathComponent("whole").path
        let args = ["--freeze", "1.weight,1.bias", "--unfreeze-at", "31", "--steps", "60", "--checkpoint-every", "10", "--keep-last", "0"]
        _ = try train(2, args + ["--checkpoint-dir", whole, "--step-times", "--summary-json", whole + ".json"])
        let bytes = try commBytes(whole + ".json")
        #expect(bytes.count == 60 && Set(bytes[..<30]) == [Self.arenaBytes - Self.frozenBytes] && Set(bytes[30...]) == [Self.arenaBytes],
                "the buckets cover every parameter from step 31 on: \(Set(bytes))")
        let frozenPart = try changed(whole + "/step-00000010", whole + "/step-00000030")
        #expect(frozenPart["1.weight"] == false && frozenPart["3.weight"] == true, "frozen until step 30: \(frozenPart)")
        let thawed = try changed(whole + "/step-00000030", whole + "/step-00000040")
        #expect(thawed["1.weight"] == true && thawed["1.bias"] == true, "unfrozen at step 31: \(thawed)")
        let expected = try CLI.readJSON(whole + ".json")["weights_sha256"] as? String
        for from in ["step-00000020", "step-00000040"] {   // before and after the unfreeze step
            let out = dir.appendingPathComponent("from-" + from).path
            _ = try train(2, args + ["--checkpoint-dir", out, "--resume", whole + "/" + from, "--summary-json", out + ".json"])
            #expect(try CLI.readJSON(out + ".json")["weights_sha256"] as? String == expected, "resumed from \(from)")
        }
        let refused = try CLI.run(Self.base + ["--steps", "60", "--checkpoint-dir", dir.appendingPathComponent("x").path,
                                               "--resume", whole + "/step-00000040"])
        #expect(refused.status == 2 && refused.stderr.contains("freeze"), "a resume without the freeze settings: \(refused.output)")
        let typo = try CLI.run(Self.base + ["--steps", "2", "--freeze", "head.*"])
        #expect(typo.status == 2 && typo.stderr.contains("--freeze") && typo.stderr.contains("matches no parameter"), "\(typo.output)")
    }
}
