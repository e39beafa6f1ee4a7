// `cohort train --init-from`: a run starts from pretrained weights read from a Cohort
// checkpoint, its safetensors export or its .npz export — the three give the same
// training run, which differs from a seeded start; a model of other shapes is refused
// naming every tensor, and --no-init-strict loads what matches and lists the rest.
import Foundation
import Testing

@Suite(.serialized) struct InitFromTests {
    static let base = ["train", "--steps", "6", "--hidden", "32,16", "--log-every", "1000", "--threads", "1"]

    func weights(_ args: [String], _ dir: URL, _ name: String) throws -> String {
        let summary = dir.appendingPathComponent(name + ".json").path
        let r = try CLI.run(Self.base + args + ["--seed", "5", "--summary-json", summary])
        #expect(r.status == 0, "\(args): \(r.output)")
        return try CLI.readJSON(summary)["weights_sha256"] as? String ?? "none"
    }

    @Test func everySourceKindStartsTheSameRun() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("pre").path
        let pre = try CLI.run(Self.base + ["--seed", "1", "--checkpoint-dir", ckpt])
        #expect(pre.status == 0, "\(pre.output)")
        let step = ckpt + "/step-00000006"
        let st = dir.appendingPathComponent("pre.safetensors").path, npz = dir.appendingPathComponent("pre.npz").path
        #expect(try CLI.run(["ckpt", "export", step, "--format", "safetensors", "--out", st]).status == 0)
        #expect(try CLI.run(["ckpt", "export", step, "--format", "npz", "--out", npz]).status == 0)

        let fromDirectory = try weights(["--init-from", ckpt], dir, "a")       // newest valid checkpoint in it
        let fromStep = try weights(["--init-from", step], dir, "b")
        let fromSafetensors = try weights(["--init-from", st], dir, "c")
        let fromNPZ = try weights(["--init-from", npz], dir, "d")
        let seeded = try weights([], dir, "e")
        #expect(fromDirectory == fromStep && fromStep == fromSafetensors && fromSafetensors == fromNPZ)
        #expect(fromStep != seeded && fromStep != "none")
        let log = try CLI.run(Self.base + ["--init-from", st])
        #expect(log.status == 0 && log.output.contains("initial weights from \(st): loaded 6 tensors"), "\(log.output)")
    }

    @Test func otherShapesAreRefusedByNameUnlessNotStrict() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("wide").path
        #expect(try CLI.run(["train", "--steps", "2", "--hidden", "48,16", "--log-every", "1000", "--checkpoint-dir", ckpt]).status == 0)
        let strict = try CLI.run(Self.base + ["--init-from", ckpt])
        #expect(strict.status == 2, "\(strict.output)")
        #expect(strict.stderr.contains("--init-strict: \(ckpt) does not load strictly into this model (3 problems"), "\(strict.output)")
        #expect(strict.stderr.contains("shape mismatch: 1.weight is [32, 64] in the model, [48, 64] in the source"), "\(strict.output)")
        #expect(strict.stderr.contains("shape mismatch: 1.bias is [32] in the model, [48] in the source"), "\(strict.output)")
        #expect(strict.stderr.contains("shape mismatch: 3.weight is [16, 32] in the model, [16, 48] in the source"), "\(strict.output)")

        let loose = try CLI.run(Self.base + ["--init-from", ckpt, "--no-init-strict"])
        #expect(loose.status == 0, "\(loose.output)")
        #expect(loose.output.contains("loaded 3 tensors") && loose.output.contains("shape mismatch: 1.weight"), "\(loose.output)")

        let missing = try CLI.run(Self.base + ["--init-from", dir.appendingPathComponent("nothing.safetensors").path])
        #expect(missing.status == 2 && missing.stderr.contains("nothing.safetensors: does not exist"), "\(missing.output)")
    }
}
