// The coordinator's loop under real mpirun, with a shell script standing in for
// `cohort` (it sends no heartbeats, so these cover crash, user error, success
// and the restart budget; heartbeats and hangs are covered by the CLI tests that
// run the real trainer).
import CohortControl
import CohortLaunch
import CohortProcessTestSupport
import Foundation
import Testing

@Suite(.serialized) struct CoordinatorTests {
    /// A fake `cohort` whose behaviour per attempt and rank is `body` (sh).
    func coordinator(_ body: String, maxRestarts: Int = 3, extra: [String] = []) throws -> (Coordinator, String) {
        let dir = try makeScratchDirectory()
        let script = dir + "/fake-cohort"
        try "#!/bin/sh\n\(body)\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let train = try TrainArguments(["--steps", "10", "--global-batch", "8", "--checkpoint-dir", dir + "/ckpt"] + extra)
        var options = CoordinatorOptions(discovery: HostDiscovery(source: .fixed([HostSlots(host: "localhost", slots: 2)])),
                                         cohortBinary: script, train: train, eventLogPath: dir + "/events.jsonl")
        options.np = 2
        options.maxRestarts = maxRestarts
        options.oversubscribe = true
        options.rediscoverInterval = 0
        return (try Coordinator(options: options), dir)
    }

    func events(_ dir: String) throws -> [[String: Any]] {
        try String(contentsOfFile: dir + "/events.jsonl", encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    func transitions(_ dir: String) throws -> [String] {
        try events(dir).filter { $0["event"] as? String == "transition" }.map { "\($0["from"]!)→\($0["to"]!)" }
    }

    @Test func crashOnFirstAttemptRestartsAndSucceeds() throws {
        let (c, dir) = try coordinator("""
            if [ "$COHORT_ATTEMPT" = 0 ] && [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then sleep 0.5; kill -9 $$; fi
            echo "$@" > "$(dirname "$0")/args.$COHORT_ATTEMPT.$OMPI_COMM_WORLD_RANK"
            exit 0
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try c.run() == .succeeded)
        #expect(try transitions(dir) == ["starting→failed", "failed→restarting", "restarting→starting", "starting→healthy", "healthy→succeeded"])
        let failed = try events(dir).first { $0["to"] as? String == "failed" }
        #expect((failed?["cause"] as? String)?.contains("rank 1") == true, "\(String(describing: failed))")
        // The restart resumes from the newest checkpoint, with a collective deadline.
        let args = try String(contentsOfFile: dir + "/args.1.0", encoding: .utf8)
        #expect(args.contains("--resume auto") && args.contains("--collective-timeout"), "\(args)")
    }

    @Test func userErrorIsNotRetried() throws {
        let (c, dir) = try coordinator("echo 'Error: no such file: /nope/train-images-idx3-ubyte.gz' >&2; exit 2")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard case let .userError(message) = try c.run() else { Issue.record("expected a user error"); return }
        #expect(message.contains("exit code 2") || message.contains("user error"), "\(message)")
        #expect(try transitions(dir) == ["starting→failed", "failed→gaveUp"])
    }

    @Test func exhaustedRestartsSummarizeEveryFailure() throws {
        let (c, dir) = try coordinator("sleep 0.3; exit 7", maxRestarts: 2)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard case let .gaveUp(summary) = try c.run() else { Issue.record("expected to give up"); return }
        #expect(summary.contains("3 failures"), "\(summary)")
        for a in 0..<3 { #expect(summary.contains("attempt \(a)"), "\(summary)") }
        #expect(try transitions(dir).last == "failed→gaveUp")
    }

    @Test func worldSizeMustFitTheGlobalBatch() throws {
        // 8 samples over 3 slots: the coordinator picks 2 ranks, not 3.
        let train = try TrainArguments(["--global-batch", "8", "--checkpoint-dir", "/tmp/x"])
        let p = chooseWorldSize(available: [HostSlots(host: "localhost", slots: 3)], minNP: 1, maxNP: 3,
                                globalBatch: train.globalBatch, virtualShards: train.virtualShards)
        #expect(p?.worldSize == 2)
    }

    @Test func trainArgumentsForRestarts() throws {
        let t = try TrainArguments(["--resume", "/ck/step-00000010", "--checkpoint-dir", "/ck", "--deterministic", "--virtual-shards=4"])
        #expect(t.virtualShards == 4 && t.globalBatch == 128)
        #expect(t.forAttempt(0, collectiveTimeout: 30).contains("/ck/step-00000010"))
        let later = t.forAttempt(2, collectiveTimeout: 30)
        #expect(!later.contains("/ck/step-00000010"))
        #expect(Array(later.suffix(4)) == ["--resume", "auto", "--collective-timeout", "30"])
        #expect(throws: (any Error).self) { try TrainArguments(["--steps", "10"]) }   // no --checkpoint-dir
        #expect(throws: (any Error).self) { try TrainArguments(["--global-batch", "x", "--checkpoint-dir", "/c"]) }
    }
}

/// Someone who reaches the control port without the run's secret.
@Suite(.serialized) struct ControlChannelAttackTests {
    /// Writes `bytes` to 127.0.0.1:`port` on a fresh TCP connection, then closes it.
    func sendRaw(_ bytes: [UInt8], port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { return }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    @Test func forgedHeartbeatsCannotMarkARunHealthyOrStopIt() throws {
        // Ranks that never report (a fake cohort that just sleeps): only the startup
        // deadline can end the attempt, whatever an attacker sends meanwhile.
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = dir + "/fake-cohort"
        try "#!/bin/sh\nsleep 30\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        // A port the kernel just reported free (a random one in 40000…60000 collided with
        // ephemeral ports of other tests' connections on a busy CI run).
        let port = try freeLocalPort()
        var options = CoordinatorOptions(discovery: HostDiscovery(source: .fixed([HostSlots(host: "localhost", slots: 2)])),
                                         cohortBinary: script, train: try TrainArguments(["--checkpoint-dir", dir + "/ck"]),
                                         eventLogPath: dir + "/events.jsonl")
        options.np = 2
        options.maxRestarts = 0
        options.startupTimeout = 4
        options.controlPort = port
        options.rediscoverInterval = 0
        let coordinator = try Coordinator(options: options)
        let attacker = Thread {
            Thread.sleep(forTimeInterval: 0.5)
            let forged = try! ControlSecret.generate()
            let clients = (0..<2).map { try! ControlClient(address: "127.0.0.1:\(port)", runID: "guess", secret: forged, attempt: 0, rank: $0) }
            for c in clients { c.start(heartbeatInterval: 0.1) }
            _ = clients[0].send(kind: .preempted, step: 1, detail: "checkpoint step-00000001", flushWithin: 1)
            for i in 0..<200 {
                var junk = (0..<Int.random(in: 1...300)).map { _ in UInt8.random(in: 0...255) }
                if i % 3 == 0 { junk = [0xFF, 0xFF, 0xFF, 0xFF] + junk }          // absurd length
                sendRaw(junk, port: port)
            }
            Thread.sleep(forTimeInterval: 2.5)
            for c in clients { c.stop() }
        }
        attacker.start()
        let outcome = try coordinator.run()
        // The attempt ended by the startup deadline (a hang), not healthy, not preempted.
        guard case let .gaveUp(summary) = outcome else { Issue.record("expected to give up, got \(outcome)"); return }
        #expect(summary.contains("hang") && summary.contains("never reported"), "\(summary)")
        let lines = try String(contentsOfFile: dir + "/events.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(!lines.contains { $0.contains("\"to\":\"healthy\"") })
        #expect(!lines.contains { $0.contains("rank_report") })
        // Connections without the secret are recorded in aggregate (one line per 10 s and at the end), never one line each.
        let summaries = lines.filter { $0.contains("\"event\":\"control_rejections\"") }
        #expect(!summaries.isEmpty && summaries.count <= 2, "\(summaries)")
        let total = summaries.compactMap { line in line.range(of: "\"total\":").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) } }.reduce(0, +)
        #expect(total >= 200, "\(summaries)")
        #expect(!lines.contains { $0.contains("rejected_message") })
    }
}

/// A TCP port on 127.0.0.1 that is free right now: bind port 0, read it back, close.
func freeLocalPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
    let named = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    guard named == 0 else { throw POSIXError(.EINVAL) }
    return UInt16(bigEndian: addr.sin_port)
}
