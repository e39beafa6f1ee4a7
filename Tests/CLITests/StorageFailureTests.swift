// A full disk and a read-only checkpoint directory at np=2, under mpirun and under
// `cohort launch`: the failing rank prints the real error (path, errno text), the
// whole job ends within seconds with exit status 2 and no restart, the newest
// complete checkpoint is untouched, and once the disk is fixed `--resume auto`
// reaches the uninterrupted run's weights. Real tmpfs mounts (we are root), always undone.
import Foundation
import Testing

/// A tmpfs mounted on a fresh directory. `unmount()` belongs in a `defer`.
final class TmpfsMount {
    let path: String

    /// Mounts `size` KiB of tmpfs with `options` (e.g. `ro`); a failed mount fails the test.
    init(kibibytes size: Int, options: String = "") throws {
        path = try CLI.temporaryDirectory().path
        let opts = "size=\(size)k" + (options.isEmpty ? "" : "," + options)
        do { try TmpfsMount.run(["mount", "-t", "tmpfs", "-o", opts, "cohort-test", path]) } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    /// `mount -o remount,OPTIONS` (e.g. `ro`, `rw`).
    func remount(_ options: String) throws { try TmpfsMount.run(["mount", "-o", "remount," + options, path]) }

    /// Unmounts (lazily if busy) and removes the directory.
    func unmount() {
        if (try? TmpfsMount.run(["umount", path])) == nil { try? TmpfsMount.run(["umount", "-l", path]) }
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Free bytes as statvfs reports them to root.
    var freeBytes: UInt64 {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return 0 }
        return UInt64(fs.f_bfree) * UInt64(fs.f_frsize)
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    static func run(_ argv: [String]) throws {
        let r = try CLI.runExecutable("/usr/bin/env", argv, timeout: 30)
        guard r.status == 0 else {
            throw Failure(description: "`\(argv.joined(separator: " "))` failed (status \(r.status)): \(r.output) — these tests need root to mount a tmpfs")
        }
    }
}

@Suite(.serialized) struct StorageFailureTests {
    /// A deterministic run (bitwise the same on 1 or 2 ranks): checkpoints of ~3.6 MB at steps 10, 20, 30.
    let train = ["--steps", "30", "--hidden", "512,512", "--global-batch", "32", "--deterministic", "--log-every", "1000",
                 "--checkpoint-every", "10", "--keep-last", "1"]

    enum Fault { case full, readOnly }

    func sha(_ summary: String) throws -> String { try CLI.readJSON(summary)["weights_sha256"] as? String ?? "" }

    /// Every file of a checkpoint directory with its bytes.
    func contents(_ dir: String) throws -> [String: Data] {
        var all: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) {
            all[name] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))
        }
        return all
    }

    func launches(_ eventLog: String) throws -> Int {
        try String(contentsOfFile: eventLog, encoding: .utf8).split(separator: "\n").filter { $0.contains("\"event\":\"mpirun\"") }.count
    }

    /// The uninterrupted run's weights (one process; deterministic mode makes 2 ranks agree bitwise).
    func referenceWeights(_ scratch: URL) throws -> String {
        let summary = scratch.appendingPathComponent("reference.json").path
        let r = try CLI.run(["train"] + train + ["--summary-json", summary], timeout: 120)
        #expect(r.status == 0, "\(r.output)")
        return try sha(summary)
    }

    /// Step 10 is saved (an injected exit then ends the job), the disk breaks, the resumed job
    /// fails its step-20 save — checked here — and after the repair it finishes bit-exact.
    func failAndRecover(_ fault: Fault, launcher: Bool) throws {
        let scratch = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let expected = try referenceWeights(scratch)
        let mount = try TmpfsMount(kibibytes: 12 * 1024)
        defer { mount.unmount() }
        let ckpt = mount.path + "/ckpt"
        let first = try CLI.mpirun(2, ["train"] + train + ["--checkpoint-dir", ckpt, "--inject-fault", "exit@11"], timeout: 120)
        #expect(first.status != 0, "the injected exit ends the first job: \(first.output)")
        let saved = ckpt + "/step-00000010"
        let before = try contents(saved)
        let checkpointBytes = before.values.reduce(0) { $0 + $1.count }
        #expect(checkpointBytes > 2_000_000, "a checkpoint of \(checkpointBytes) bytes")

        let filler = mount.path + "/filler"
        switch fault {
        case .full:
            // Leave room for half a checkpoint: the next save cannot fit.
            let fill = Int(mount.freeBytes) - checkpointBytes / 2
            try #require(fill > 0, "the tmpfs is too small: \(mount.freeBytes) bytes free")
            try Data(count: fill).write(to: URL(fileURLWithPath: filler))
        case .readOnly:
            try mount.remount("ro")
        }

        let eventLog = scratch.appendingPathComponent("events.jsonl").path
        let summary = scratch.appendingPathComponent("summary.json").path
        let started = Date()
        let r = launcher
            ? try CLI.run(["launch", "--np", "2", "--max-restarts", "3", "--event-log", eventLog, "--"] + train
                          + ["--checkpoint-dir", ckpt, "--summary-json", summary], timeout: 120)
            : try CLI.mpirun(2, ["train"] + train + ["--checkpoint-dir", ckpt, "--resume", "auto", "--summary-json", summary], timeout: 120)
        let seconds = Date().timeIntervalSince(started)
        let what = "\(fault) under \(launcher ? "cohort launch" : "mpirun")"
        #expect(r.status == 2, "\(what): \(r.output)")
        #expect(seconds < 10, "\(what): the job took \(seconds) s to end")
        switch fault {
        case .full:
            #expect(r.stderr.contains("checkpoint directory \(ckpt): the checkpoint of step 20 needs ")
                    && r.stderr.contains("No space left on device (ENOSPC)"), "\(what): \(r.stderr)")
        case .readOnly:
            #expect(r.stderr.contains(ckpt) && r.stderr.contains("Read-only file system (EROFS)"), "\(what): \(r.stderr)")
        }
        #expect(!r.output.contains("collective timeout"), "\(what): \(r.output)")
        if launcher {
            #expect(try launches(eventLog) == 1, "\(what): restarted")
            #expect(r.stderr.contains("rank 0: "), "\(what): the launcher names the rank: \(r.stderr)")
        }
        #expect(try contents(saved) == before, "\(what): the newest complete checkpoint changed")
        let names = try FileManager.default.contentsOfDirectory(atPath: ckpt)
        #expect(names.filter { $0.hasPrefix("step-") } == ["step-00000010"] && !names.contains { $0.hasPrefix(".tmp-") }, "\(what): \(names)")

        switch fault {
        case .full: try FileManager.default.removeItem(atPath: filler)
        case .readOnly: try mount.remount("rw")
        }
        let resumed = try CLI.mpirun(2, ["train"] + train + ["--checkpoint-dir", ckpt, "--resume", "auto", "--summary-json", summary], timeout: 120)
        #expect(resumed.status == 0, "\(what): \(resumed.output)")
        #expect(resumed.output.contains("resumed from \(saved)"), "\(what): \(resumed.output)")
        #expect(try sha(summary) == expected, "\(what): resumed to other weights")
    }

    @Test func fullDiskUnderMPIRun() throws { try failAndRecover(.full, launcher: false) }
    @Test func readOnlyDirectoryUnderMPIRun() throws { try failAndRecover(.readOnly, launcher: false) }
    @Test func fullDiskUnderLaunch() throws { try failAndRecover(.full, launcher: true) }
    @Test func readOnlyDirectoryUnderLaunch() throws { try failAndRecover(.readOnly, launcher: true) }

    @Test func oneRankOnAReadOnlyDirectoryIsNotRetried() throws {
        let scratch = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let mount = try TmpfsMount(kibibytes: 1024, options: "ro")
        defer { mount.unmount() }
        let eventLog = scratch.appendingPathComponent("events.jsonl").path
        let r = try CLI.run(["launch", "--np", "1", "--max-restarts", "3", "--event-log", eventLog, "--"] + train
                            + ["--checkpoint-dir", mount.path], timeout: 60)
        #expect(r.status == 2, "\(r.output)")
        #expect(r.stderr.contains(mount.path) && r.stderr.contains("Read-only file system (EROFS)"), "\(r.stderr)")
        #expect(try launches(eventLog) == 1)
        // With the event log in the read-only directory too, the launcher itself says so (and exits 2).
        let own = try CLI.run(["launch", "--np", "1", "--"] + train + ["--checkpoint-dir", mount.path], timeout: 60)
        #expect(own.status == 2, "\(own.output)")
        #expect(own.stderr.contains(mount.path + "/launch-events.jsonl") && own.stderr.contains("Read-only file system"), "\(own.stderr)")
    }

    @Test func aCheckpointPathThatIsAFileIsOneClearError() throws {
        let scratch = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("not-a-dir").path
        _ = FileManager.default.createFile(atPath: file, contents: Data([1]))
        for argv in [["train", "--steps", "5", "--checkpoint-dir", file], ["launch", "--np", "1", "--", "--steps", "5", "--checkpoint-dir", file]] {
            let r = try CLI.run(argv, timeout: 60)
            #expect(r.status == 2, "\(argv[0]): \(r.output)")
            #expect(r.stderr.contains("checkpoint directory \(file) exists and is not a directory"), "\(argv[0]): \(r.stderr)")
            #expect(!r.output.contains("NSCocoaErrorDomain"), "\(argv[0]): \(r.output)")
        }
    }

    @Test func launcherUsageErrorsExitTwo() throws {
        for argv in [["launch", "--np", "many", "--", "--checkpoint-dir", "/tmp/x"],        // ArgumentParser: 64
                     ["launch", "--hosts", "a:1", "--hostfile", "h", "--", "--checkpoint-dir", "/tmp/x"],   // ValidationError: 64
                     ["launch", "--hosts", "a:zero", "--", "--checkpoint-dir", "/tmp/x"]] {              // LaunchError: 1
            let r = try CLI.run(argv, timeout: 60)
            #expect(r.status == 2, "\(argv): \(r.output)")
            #expect(r.stderr.contains("Error: "), "\(argv): \(r.stderr)")
        }
    }
}
