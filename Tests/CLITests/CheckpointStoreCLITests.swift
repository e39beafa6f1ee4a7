// The checkpoint directory through the release binary: a second `cohort train` on a
// directory a live run holds is refused (exit 2) naming the holder's PID and host,
// and once that run is SIGKILLed its lock is recognised as stale and a new run
// proceeds; a checkpoint trained on MNIST refuses to resume on Fashion-MNIST,
// naming both datasets and fingerprints, and records what it was trained on.
import Foundation
import Testing

@Suite(.serialized) struct CheckpointStoreCLITests {
    static let fashion = URL(fileURLWithPath: CLI.mnist).deletingLastPathComponent().appendingPathComponent("fashion-mnist").path
    /// A small, fast run on the built-in synthetic data.
    let tiny = ["train", "--hidden", "4", "--global-batch", "8", "--log-every", "1000000000", "--progress", "lines"]

    static func hostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count - 1)
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test func aSecondWriterIsRefusedAndAKilledHoldersLockIsTakenOver() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("ckpt").path
        // A long-lived but small run: it would take hours; it is killed once the refusal is seen.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: CLI.binary)
        holder.arguments = tiny + ["--steps", "100000000", "--checkpoint-dir", ckpt, "--checkpoint-every", "1000000000"]
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        let pid = holder.processIdentifier
        defer { if holder.isRunning { kill(pid, SIGKILL); holder.waitUntilExit() } }
        let lockFile = ckpt + "/.cohort.lock"
        let deadline = Date().addingTimeInterval(120)
        while holder.isRunning && Date() < deadline
                && !((try? String(contentsOfFile: lockFile, encoding: .utf8))?.contains("pid=\(pid)\n") ?? false) {
            usleep(50_000)
        }
        #expect(holder.isRunning, "the first run ended early")
        let host = Self.hostName()

        let second = try CLI.run(tiny + ["--steps", "5", "--checkpoint-dir", ckpt], timeout: 120)
        #expect(second.status == 2, "\(second.output)")
        #expect(second.stderr.contains("Error: checkpoint directory \(ckpt) is in use by PID \(pid) on host \(host) (started 20"), "\(second.stderr)")
        #expect(second.stderr.contains("; stop that run or use another --checkpoint-dir"), "\(second.stderr)")
        #expect(!FileManager.default.fileExists(atPath: ckpt + "/step-00000005"))
        #expect(holder.isRunning)

        kill(pid, SIGKILL)
        holder.waitUntilExit()
        let third = try CLI.run(tiny + ["--steps", "5", "--checkpoint-dir", ckpt], timeout: 120)
        #expect(third.status == 0, "\(third.output)")
        #expect(third.output.contains("checkpoint directory \(ckpt): previous holder PID \(pid) on \(host) (started 20"), "\(third.output)")
        #expect(third.output.contains("is gone; taking over"), "\(third.output)")
        #expect(FileManager.default.fileExists(atPath: ckpt + "/step-00000005"))
        // A clean exit leaves no stale record: the next run says nothing about a previous holder.
        let fourth = try CLI.run(tiny + ["--steps", "5", "--checkpoint-dir", ckpt], timeout: 120)
        #expect(fourth.status == 0 && !fourth.output.contains("previous holder"), "\(fourth.output)")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: Self.fashion) && FileManager.default.fileExists(atPath: CLI.mnist)))
    func aResumeOnOtherDataIsRefusedNamingBoth() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("ckpt").path
        // A run of 6 steps halted at step 3 (cohort tune's --halt-at), so a resume has steps to go.
        let common = ["train", "--hidden", "8", "--global-batch", "32", "--log-every", "1000", "--steps", "6", "--checkpoint-dir", ckpt]
        let first = try CLI.run(common + ["--data", CLI.mnist, "--halt-at", "3"])
        #expect(first.status == 0, "\(first.output)")
        let inspect = try CLI.run(["ckpt", "inspect", ckpt])
        #expect(inspect.output.contains("data identity    mnist, sha256 c5097fdd51cfdbe7695fd9df3612695696864b5c424f58d843ffdc5d335e9914"),
                "\(inspect.output)")   // = zcat train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz | sha256sum

        let other = try CLI.run(common + ["--data", Self.fashion, "--resume", "auto"])
        #expect(other.status == 2, "\(other.output)")
        #expect(other.output.contains("fashion-mnist-train"), "\(other.output)")   // no longer called mnist-train
        #expect(other.stderr.contains("checkpoint \(ckpt)/step-00000003 does not match this run: it was trained on mnist (sha256 c5097fdd51cf…) "
                                      + "but this run's data is fashion-mnist (sha256 d9ef4273af5c…)"), "\(other.stderr)")
        #expect(!FileManager.default.fileExists(atPath: ckpt + "/step-00000006"))

        let same = try CLI.run(common + ["--data", CLI.mnist, "--resume", "auto"])
        #expect(same.status == 0 && same.output.contains("resumed from \(ckpt)/step-00000003"), "\(same.output)")
    }
}
