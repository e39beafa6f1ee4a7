// The sweep of Open MPI leftovers on fake files named as Open MPI 4.1 names them,
// in scratch directories: stale ones (dead PID, dead job, old) go; ones a live
// process maps or holds open, a live PID or a live mpirun's job, fresh ones, other
// hosts' and unrelated files stay. Liveness comes from real processes and /proc.
@testable import CohortLaunch
import CohortProcessTestSupport
import Foundation
import Testing

@Suite struct StaleSharedMemoryTests {
    let uid = geteuid()

    func sweeper(_ dir: String) throws -> StaleSharedMemory {
        try FileManager.default.createDirectory(atPath: dir + "/shm", withIntermediateDirectories: true)
        var s = StaleSharedMemory(environment: [:])
        s.shmDirectory = dir + "/shm"
        s.sessionRoots = [dir]
        s.hostNames = ["testhost"]
        return s
    }

    /// Creates `path` (4 KiB) last changed an hour ago unless `fresh`.
    func touch(_ path: String, fresh: Bool = false) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(count: 4096))
        if !fresh { try? FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: path) }
    }

    /// A pid that belonged to a process that has exited and been reaped.
    func deadPid() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    /// Starts `/bin/sh -c script` and waits until `ready` exists.
    func holder(_ script: String, ready: String) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        try p.run()
        #expect(eventually(timeout: 10) { FileManager.default.fileExists(atPath: ready) }, "holder never got ready: \(script)")
        return p
    }

    @Test func staleSegmentsGoAndLiveOnesStay() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var s = try sweeper(dir)
        let shm = s.shmDirectory
        let dead = try deadPid()
        // Dead job, nobody uses them: removed (vader segments, an osc_sm window, a PID-named backing file).
        let stale = ["vader_segment.testhost.\(uid).2a0c0001.0", "vader_segment.testhost.\(uid).2a0c0001.1",
                     "osc_sm.testhost.2a0c0001.0.4", "open_mpi_shmem_mmap.\(dead)_1_0"].map { shm + "/" + $0 }
        stale.forEach { touch($0) }
        // Mapped by a live process (file descriptor closed), held open by another: kept.
        let mapped = shm + "/vader_segment.testhost.\(uid).11110001.0", open = shm + "/vader_segment.testhost.\(uid).11110001.1"
        touch(mapped); touch(open)
        let mapper = try holder("exec /usr/bin/python3 -c \"import mmap,time; f=open('\(mapped)','r+b'); m=mmap.mmap(f.fileno(),0); f.close(); "
                                + "open('\(dir)/mapped.ready','w').close(); time.sleep(60)\"", ready: dir + "/mapped.ready")
        let opener = try holder("exec 3<'\(open)'; touch '\(dir)/open.ready'; exec sleep 60", ready: dir + "/open.ready")
        // SIGKILL: a SIGTERM did not end them here (the test runner's children may inherit it ignored).
        func stop() { for p in [mapper, opener] where p.isRunning { kill(p.processIdentifier, SIGKILL) }; mapper.waitUntilExit(); opener.waitUntilExit() }
        defer { stop() }
        // The creator PID is alive (this test), the file is brand new, another host's or user's, not Open MPI's: kept.
        let livePid = shm + "/open_mpi_shmem_mmap.\(getpid())_1_0", fresh = shm + "/vader_segment.testhost.\(uid).33330001.0"
        let otherHost = shm + "/vader_segment.otherhost.\(uid).2a0c0001.0", otherUser = shm + "/vader_segment.testhost.\(uid + 1).2a0c0001.0"
        let unrelated = shm + "/postgres.12345"
        [livePid, otherHost, otherUser, unrelated].forEach { touch($0) }
        touch(fresh, fresh: true)

        s.minimumAge = 30
        let sweep = s.sweep()
        #expect(Set(sweep.removed.map(\.path)) == Set(stale), "removed \(sweep.removed.map(\.path)), kept \(sweep.kept)")
        #expect(sweep.bytesRemoved == 4 * 4096)
        for path in stale { #expect(!FileManager.default.fileExists(atPath: path)) }
        for path in [mapped, open, livePid, fresh, otherHost, otherUser, unrelated] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path) was removed")
        }
        let reasons = Dictionary(uniqueKeysWithValues: sweep.kept.map { ($0.path, $0.reason) })
        #expect(reasons[mapped] == "in use by process \(mapper.processIdentifier)", "\(reasons)")
        #expect(reasons[open] == "in use by process \(opener.processIdentifier)", "\(reasons)")
        #expect(reasons[livePid] == "process \(getpid()) is alive")
        #expect(reasons[fresh]?.hasPrefix("modified less than 30 s ago") == true)
        #expect(reasons[otherHost] == nil && reasons[unrelated] == nil && reasons[otherUser] == nil, "not even candidates: \(reasons)")

        // Once the users are gone, the next sweep takes their segments too.
        stop()
        // (The fresh file may have aged past 30 s by now on a loaded machine: it may go too.)
        #expect(Set(s.sweep().removed.map(\.path)).subtracting([fresh]) == Set([mapped, open]))
    }

    @Test func sessionDirectoriesOfDeadMpirunsGoAndLiveJobsAreKept() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try sweeper(dir)
        let top = "\(dir)/ompi.testhost.\(uid)"
        let dead = try deadPid(), live = getpid()
        for pid in [dead, live] {
            try FileManager.default.createDirectory(atPath: "\(top)/pid.\(pid)/0", withIntermediateDirectories: true)
            touch("\(top)/pid.\(pid)/0/segment")
        }
        // The live "mpirun" (this process) runs job family 0x4444: its ranks' segments stay even if unmapped.
        let job: UInt32 = 0x4444_0000
        try "\(job).0;tcp://127.0.0.1:1\n\(live)\n".write(toFile: "\(top)/pid.\(live)/contact.txt", atomically: true, encoding: .utf8)
        let ofLiveJob = s.shmDirectory + "/vader_segment.testhost.\(uid).44440001.0"
        touch(ofLiveJob)
        for path in ["\(top)/pid.\(dead)", "\(top)/pid.\(live)"] {
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: path)
        }
        let sweep = s.sweep()
        #expect(sweep.removed.map(\.path) == ["\(top)/pid.\(dead)"], "\(sweep.kept)")
        #expect(sweep.bytesRemoved == 4096)
        let reasons = Dictionary(uniqueKeysWithValues: sweep.kept.map { ($0.path, $0.reason) })
        #expect(reasons["\(top)/pid.\(live)"] == "process \(live) is alive")
        #expect(reasons[ofLiveJob] == "its job's mpirun (pid \(live)) is alive", "\(reasons)")
    }
}
