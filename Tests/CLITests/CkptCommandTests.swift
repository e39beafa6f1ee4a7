// `cohort ckpt inspect|verify|diff|export` on real checkpoints from `cohort train`.
import Foundation
import Testing

@Suite(.serialized) struct CkptCommandTests {
    @Test func inspectVerifyDiffExport() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("ckpt").path
        let r = try CLI.run(["train", "--steps", "40", "--hidden", "32", "--checkpoint-every", "20", "--checkpoint-dir", ckpt, "--log-every", "1000"])
        #expect(r.status == 0, "\(r.output)")
        let a = ckpt + "/step-00000020", b = ckpt + "/step-00000040"

        let inspect = try CLI.run(["ckpt", "inspect", b])
        #expect(inspect.status == 0 && inspect.stdout.contains("model/1.weight") && inspect.stdout.contains("adam"), "\(inspect.output)")
        let json = try CLI.run(["ckpt", "inspect", b, "--json"])
        let obj = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(obj?["step"] as? Int == 40, "\(json.output)")

        #expect(try CLI.run(["ckpt", "verify", b]).status == 0)
        #expect(try CLI.run(["ckpt", "diff", b, b]).status == 0)
        let differ = try CLI.run(["ckpt", "diff", a, b])
        #expect(differ.status == 1, "\(differ.output)")

        let npz = dir.appendingPathComponent("w.npz").path
        let export = try CLI.run(["ckpt", "export", b, "--format", "npz", "--out", npz])
        #expect(export.status == 0, "\(export.output)")
        #expect(FileManager.default.fileExists(atPath: npz))

        // Damage: verify fails and names the tensor.
        let data = b + "/data-00000.bin"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: data))
        bytes[100] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: data))
        let bad = try CLI.run(["ckpt", "verify", b])
        #expect(bad.status != 0 && bad.output.contains("checksum mismatch"), "\(bad.output)")
    }
}
