// Damaged or foreign checkpoints at resume: detected and named; with
// `--resume auto` the previous good checkpoint is used and the message says so.
import Foundation
import Testing

@Suite(.serialized) struct ResumeErrorTests {
    let base = ["train", "--steps", "60", "--hidden", "64", "--checkpoint-every", "20", "--keep-last", "0", "--log-every", "1000"]

    func makeRun() throws -> (URL, String) {
        let dir = try CLI.temporaryDirectory()
        let ckpt = dir.appendingPathComponent("ckpt").path
        let r = try CLI.run(base + ["--checkpoint-dir", ckpt])
        #expect(r.status == 0, "\(r.output)")
        return (dir, ckpt)
    }

    func dataFile(_ step: String, _ ckpt: String) -> String { ckpt + "/" + step + "/data-00000.bin" }

    @Test func flippedByteInNewestFallsBackToPrevious() throws {
        let (dir, ckpt) = try makeRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dataFile("step-00000060", ckpt)
        var d = try Data(contentsOf: URL(fileURLWithPath: f))
        d[d.count / 2] ^= 0x01
        try d.write(to: URL(fileURLWithPath: f))
        let r = try CLI.run(base + ["--checkpoint-dir", ckpt, "--resume", "auto"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stderr.contains("step-00000060") && r.stderr.contains("checksum mismatch"), "\(r.stderr)")
        #expect(r.stderr.contains("previous checkpoint") && r.stderr.contains("resumed from \(ckpt)/step-00000040"), "\(r.stderr)")
    }

    @Test func explicitPathToDamagedCheckpointFails() throws {
        let (dir, ckpt) = try makeRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dataFile("step-00000040", ckpt)
        let d = try Data(contentsOf: URL(fileURLWithPath: f))
        try d.prefix(d.count - 7).write(to: URL(fileURLWithPath: f))
        let r = try CLI.run(base + ["--checkpoint-dir", ckpt, "--resume", ckpt + "/step-00000040"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("step-00000040") && r.stderr.contains("truncated"), "\(r.stderr)")
    }

    @Test func deletedManifestIsDetected() throws {
        let (dir, ckpt) = try makeRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(atPath: ckpt + "/step-00000060/manifest.pb")
        let r = try CLI.run(base + ["--checkpoint-dir", ckpt, "--resume", "auto"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stderr.contains("manifest.pb is missing") && r.stderr.contains("step-00000040"), "\(r.stderr)")
    }

    @Test func checkpointOfAnotherModelIsRejected() throws {
        let (dir, ckpt) = try makeRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["train", "--steps", "60", "--hidden", "32", "--resume", ckpt + "/step-00000040"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("hidden") && r.stderr.contains("64") && r.stderr.contains("32"), "\(r.stderr)")
    }
}
