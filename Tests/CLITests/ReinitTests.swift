// `cohort train --init-from … --reinit GLOB`: the matching tensors keep the model's own
// seeded initialisation (bitwise a fresh run's), the rest come from the source, and the
// re-initialised head's shape mismatches are not problems, even under --init-strict.
import Foundation
import Testing

@Suite(.serialized) struct ReinitTests {
    /// One SGD step of lr 1e-30 leaves every weight bitwise as it started (the update is far below
    /// a Float's resolution), so a step-1 checkpoint shows the initial weights.
    static let base = ["train", "--steps", "1", "--optimizer", "sgd", "--momentum", "0", "--lr", "1e-30", "--lr-schedule", "constant",
                       "--hidden", "32,16", "--log-every", "1000", "--threads", "1", "--seed", "7"]

    /// Tensor name → whether `ckpt diff` with zero tolerance finds it different.
    func differs(_ a: String, _ b: String) throws -> [String: Bool] {
        let diff = try CLI.run(["ckpt", "diff", a, b, "--rtol", "0", "--atol", "0"])
        var out: [String: Bool] = [:]
        for line in diff.stdout.split(separator: "\n") {
            guard let name = line.split(separator: " ").first, name.hasPrefix("model/") else { continue }
            out[String(name.dropFirst(6))] = line.contains("DIFFERS")
        }
        return out
    }

    @Test func reinitialisedHeadKeepsTheFreshInitialisation() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The source: another seed, trained, and a wider second layer (3.* and 5.* have other shapes).
        let source = dir.appendingPathComponent("source").path
        let pre = try CLI.run(["train", "--steps", "20", "--hidden", "32,24", "--seed", "1", "--log-every", "1000", "--checkpoint-dir", source])
        #expect(pre.status == 0, "\(pre.output)")
        let fresh = dir.appendingPathComponent("fresh").path
        #expect(try CLI.run(Self.base + ["--checkpoint-dir", fresh]).status == 0)

        let strictFails = try CLI.run(Self.base + ["--init-from", source])
        #expect(strictFails.status == 2 && strictFails.stderr.contains("shape mismatch: 3.weight"), "\(strictFails.output)")

        let tuned = dir.appendingPathComponent("tuned").path
        let r = try CLI.run(Self.base + ["--init-from", source, "--reinit", "3.*,5.*", "--checkpoint-dir", tuned])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("re-initialising 3.weight, 3.bias, 5.weight, 5.bias"), "\(r.output)")
        let fromSource = try differs(source + "/step-00000020", tuned + "/step-00000001")
        #expect(fromSource["1.weight"] == false && fromSource["1.bias"] == false, "the body comes from the source: \(fromSource)")
        let fromFresh = try differs(fresh + "/step-00000001", tuned + "/step-00000001")
        for name in ["3.weight", "3.bias", "5.weight", "5.bias"] { #expect(fromFresh[name] == false, "\(name) keeps the seeded init: \(fromFresh)") }
        #expect(fromFresh["1.weight"] == true)

        let loose = try CLI.run(Self.base + ["--init-from", source, "--reinit", "3.*,5.*", "--no-init-strict"])
        #expect(loose.status == 0 && !loose.output.contains("shape mismatch"), "a re-initialised head's mismatch is expected: \(loose.output)")
        let typo = try CLI.run(Self.base + ["--init-from", source, "--reinit", "head.*"])
        #expect(typo.status == 2 && typo.stderr.contains("--reinit: 'head.*' matches no tensor"), "\(typo.output)")
        let alone = try CLI.run(Self.base + ["--reinit", "5.*"])
        #expect(alone.status == 2 && alone.stderr.contains("--reinit needs --init-from"), "\(alone.output)")
    }
}
