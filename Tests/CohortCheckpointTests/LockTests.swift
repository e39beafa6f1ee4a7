// One writer per checkpoint directory: a second lock is refused naming the holder,
// a lock file left by a dead holder is taken over (and the dead holder reported),
// a clean release leaves nothing stale, and an earlier process of the same job is
// waited for. Two opens of the lock file conflict even within one process (flock
// locks belong to the open file description), so this runs in-process; the CLI
// tests show it across processes and after a SIGKILL.
import Foundation
import Testing
@testable import CohortCheckpoint

extension CheckpointTests {
    @Suite struct Lock {
        @Test func aSecondWriterIsRefusedNamingTheHolder() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let run = dir.path + "/run"   // created by the lock
            let first = try CheckpointLock.acquire(directory: run)
            #expect(first.previousHolder == nil)
            let record = try String(contentsOfFile: run + "/" + CheckpointLock.fileName, encoding: .utf8)
            #expect(record.contains("pid=\(getpid())\n") && record.contains("host=") && record.contains("started=20"))
            let e = checkpointError { _ = try CheckpointLock.acquire(directory: run) }
            guard case .inUse = e else { Issue.record("expected .inUse, got \(String(describing: e))"); return }
            let text = "\(e!)"
            #expect(text.hasPrefix("checkpoint directory \(run) is in use by PID \(getpid()) on host "), "\(text)")
            #expect(text.hasSuffix("; stop that run or use another --checkpoint-dir"), "\(text)")
            // A clean release leaves no stale holder behind.
            first.release()
            let second = try CheckpointLock.acquire(directory: run)
            #expect(second.previousHolder == nil)
            second.release()
        }

        @Test func aDeadHoldersLockIsTakenOver() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            // What a SIGKILLed holder leaves: its record, and no flock (the kernel dropped it).
            try "cohort checkpoint lock\nhost=node7\npid=4242\nstarted=2026-01-02T03:04:05Z\njob=\ncommand=cohort train\n"
                .write(toFile: dir.file(CheckpointLock.fileName), atomically: false, encoding: .utf8)
            let lock = try CheckpointLock.acquire(directory: dir.path)
            defer { lock.release() }
            #expect(lock.previousHolder?.pid == "4242" && lock.previousHolder?.host == "node7")
            #expect(lock.previousHolder?.description == "PID 4242 on host node7 (started 2026-01-02T03:04:05Z; cohort train)")
            let record = try String(contentsOfFile: dir.file(CheckpointLock.fileName), encoding: .utf8)
            #expect(record.contains("pid=\(getpid())\n") && !record.contains("4242"))
        }

        @Test func anEarlierProcessOfTheSameJobIsWaitedFor() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let old = try CheckpointLock.acquire(directory: dir.path, job: "run-1")
            // Another job is refused at once, even when it would wait for its own.
            let t0 = Date()
            #expect(checkpointError { _ = try CheckpointLock.acquire(directory: dir.path, job: "run-2", waitForSameJob: 10) } != nil)
            #expect(Date().timeIntervalSince(t0) < 2)
            final class Box: @unchecked Sendable { var lock: CheckpointLock?; init(_ l: CheckpointLock) { lock = l } }
            let holder = Box(old)
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { holder.lock?.release() }
            var waited = false
            let next = try CheckpointLock.acquire(directory: dir.path, job: "run-1", waitForSameJob: 10) { h in
                waited = h.pid == String(getpid())
            }
            #expect(waited && next.previousHolder == nil && Date().timeIntervalSince(t0) < 8)
            next.release()
        }

        @Test func garbageInTheLockFileIsNotTrusted() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            try Data([0xFF, 0xFE, 0x0A] + Array("pid=12\u{7}34\nhost=\u{1B}[31mevil\n".utf8)).write(to: URL(fileURLWithPath: dir.file(CheckpointLock.fileName)))
            let lock = try CheckpointLock.acquire(directory: dir.path)
            defer { lock.release() }
            #expect(lock.previousHolder?.pid == "1234" && lock.previousHolder?.host == "[31mevil")
        }
    }
}
