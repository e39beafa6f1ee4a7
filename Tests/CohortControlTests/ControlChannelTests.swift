// The control channel over real loopback sockets: heartbeats and commands,
// every rejection (wrong secret, run, attempt, replay, malformed and random
// bytes), the connection bound, idleness, a peer that stops reading, and a
// client that outlives an absent coordinator. Serialized: the 300-connection
// test would otherwise hold descriptors other tests need. (Admission under a
// flood: AdmissionTests.)
import Foundation
import Testing
@testable import CohortControl

@Suite(.serialized) struct ControlChannelTests {
    let secret = try! ControlSecret.generate()
    let runID = "run-test"

    func startServer(attempt: Int = 0, idleTimeout: Double = 10, handshakeTimeout: Double = 2,
                     port: UInt16 = 0) throws -> (ControlServer, Recorder) {
        let server = ControlServer(port: port, runID: runID, secret: secret, attempt: attempt, idleTimeout: idleTimeout,
                                   handshakeTimeout: handshakeTimeout)
        let recorder = Recorder()
        recorder.attach(to: server)
        try server.start()
        return (server, recorder)
    }

    func client(_ server: ControlServer, rank: Int, attempt: Int = 0, secret: ControlSecret? = nil,
                runID: String? = nil) throws -> ControlClient {
        try ControlClient(address: "127.0.0.1:\(server.port)", runID: runID ?? self.runID, secret: secret ?? self.secret,
                          attempt: attempt, rank: rank)
    }

    func frame(rank: Int = 0, seq: UInt64 = 1, kind: ControlMessage.Kind = .hello, attempt: Int = 0,
               run: String? = nil) throws -> [UInt8] {
        try ControlFrame.encode(ControlMessage(run: run ?? runID, attempt: attempt, rank: rank, seq: seq, kind: kind, step: 1),
                                secret: secret)
    }

    /// A real client still gets through: the server survived whatever came before.
    func expectHealthy(_ server: ControlServer, rank: Int = 99) async throws {
        let c = try client(server, rank: rank, attempt: server.attempt)
        c.start(heartbeatInterval: 0.05)
        defer { c.stop() }
        #expect(await eventually { server.status(ofRank: rank)?.lastKind == .heartbeat })
    }

    @Test func heartbeatsCarrySteps() async throws {
        let (server, recorder) = try startServer()
        defer { server.stop() }
        let c = try client(server, rank: 3)
        c.report(step: 7)
        c.start(heartbeatInterval: 0.05)
        defer { c.stop() }
        #expect(await eventually { server.status(ofRank: 3)?.lastStep == 7 && server.status(ofRank: 3)?.lastKind == .heartbeat })
        c.report(step: 8)
        #expect(await eventually { server.status(ofRank: 3)?.lastStep == 8 })
        #expect(c.isConnected)
        let first = try #require(recorder.messages.withLock { $0.first })
        #expect(first.kind == .hello && first.rank == 3 && first.run == runID)
        let seqs = recorder.messages.withLock { $0.map(\.seq) }
        #expect(zip(seqs, seqs.dropFirst()).allSatisfy { $0 < $1 })
        let status = try #require(server.snapshot().first)
        #expect(status.connected && status.secondsSinceLastMessage < 1 && status.peer.hasPrefix("127.0.0.1:"))
        #expect(recorder.rejectionCount == 0)
    }

    @Test func eventsAndCommands() async throws {
        let (server, recorder) = try startServer()
        defer { server.stop() }
        #expect(throws: ControlError.noConnection(rank: 1)) { try server.send(command: "x", toRank: 1) }
        let c = try client(server, rank: 1)
        c.start(heartbeatInterval: 0.05)
        defer { c.stop() }
        #expect(await eventually { server.status(ofRank: 1) != nil })

        #expect(c.send(kind: .checkpointSaved, step: 5, detail: "/ckpt/step-5", flushWithin: 2))
        #expect(await eventually { recorder.messages.withLock { $0.contains { $0.kind == .checkpointSaved && $0.detail == "/ckpt/step-5" } } })
        #expect(server.status(ofRank: 1)?.lastDetail == "/ckpt/step-5")

        #expect(!c.send(kind: .command, detail: "x", flushWithin: 0.1))
        #expect(c.pendingCommand() == nil)
        try server.send(command: ControlCommand.checkpointAndExit, toRank: 1)
        #expect(await eventually { c.pendingCommand() == ControlCommand.checkpointAndExit })
        #expect(c.pendingCommand() == nil)
        try server.send(command: "a", toRank: 1)
        try server.send(command: "b", toRank: 1)
        #expect(await eventually { c.pendingCommand() == "b" })

        c.stop()
        #expect(!c.send(kind: .finished, flushWithin: 1))
        #expect(await eventually { server.status(ofRank: 1)?.connected == false })
        #expect(throws: ControlError.noConnection(rank: 1)) { try server.send(command: "x", toRank: 1) }
        #expect(recorder.rejectionCount == 0)
    }

    @Test func wrongSecretRunAndAttemptAreRejected() async throws {
        let (server, recorder) = try startServer(attempt: 1)
        defer { server.stop() }
        let intruder = try client(server, rank: 0, attempt: 1, secret: try ControlSecret.generate())
        intruder.start(heartbeatInterval: 0.05)
        // Without the secret it never authenticates: counted as a bad frame, not reported one by one.
        #expect(await eventually { server.rejections.badFrame >= 1 })
        intruder.stop()
        #expect(recorder.rejectionCount == 0)

        let wrongRun = try RawPeer(port: server.port)
        wrongRun.send(try frame(attempt: 1, run: "other-run"))
        #expect(await eventually { recorder.rejections(containing: "run id") == 1 && wrongRun.serverClosed() })

        let stale = try RawPeer(port: server.port)
        stale.send(try frame(attempt: 0))
        #expect(await eventually { recorder.rejections(containing: "stale attempt 0") == 1 && stale.serverClosed() })

        #expect(server.snapshot().isEmpty)
        #expect(recorder.messageCount == 0)
        try await expectHealthy(server)
    }

    @Test func newAttemptForgetsOldRanks() async throws {
        let (server, recorder) = try startServer(attempt: 0)
        defer { server.stop() }
        let old = try client(server, rank: 2, attempt: 0)
        old.start(heartbeatInterval: 0.05)
        defer { old.stop() }
        #expect(await eventually { server.status(ofRank: 2) != nil })
        server.attempt = 1
        #expect(server.snapshot().isEmpty)
        #expect(await eventually { recorder.rejections(containing: "stale attempt 0") >= 1 })
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(server.status(ofRank: 2) == nil)
        let current = try client(server, rank: 2, attempt: 1)
        current.start(heartbeatInterval: 0.05)
        defer { current.stop() }
        #expect(await eventually { server.status(ofRank: 2)?.lastKind == .heartbeat })
    }

    @Test func replayedFramesAreRejected() async throws {
        let (server, recorder) = try startServer()
        defer { server.stop() }
        let bytes = try frame(rank: 4, seq: 10)
        let peer = try RawPeer(port: server.port)
        peer.send(bytes)
        #expect(await eventually { recorder.messageCount == 1 })
        peer.send(bytes)
        #expect(await eventually { recorder.rejections(containing: "replayed") == 1 && peer.serverClosed() })

        // The same bytes on a fresh connection: seq is checked per rank too.
        let again = try RawPeer(port: server.port)
        again.send(bytes)
        #expect(await eventually { recorder.rejections(containing: "replayed") == 2 && again.serverClosed() })
        #expect(recorder.messageCount == 1)

        // A coordinator-only kind from a rank is refused as well.
        let impostor = try RawPeer(port: server.port)
        impostor.send(try frame(rank: 4, seq: 11, kind: .command))
        #expect(await eventually { recorder.rejections(containing: "only the coordinator") == 1 })
    }

    @Test func malformedAndRandomInput() async throws {
        let (server, recorder) = try startServer()
        defer { server.stop() }
        let oversized = try RawPeer(port: server.port)
        oversized.send([0, 1, 0, 1] + [UInt8](repeating: 0x41, count: 100))
        #expect(await eventually { oversized.serverClosed() })
        let zero = try RawPeer(port: server.port)
        zero.send([0, 0, 0, 0])
        #expect(await eventually { zero.serverClosed() })
        let truncated = try RawPeer(port: server.port)
        truncated.send(Array(try frame().dropLast(5)))
        truncated.close()
        let badJSON = try RawPeer(port: server.port)
        badJSON.send(try ControlFrame.encode(payload: Array("{\"run\": 1".utf8), secret: secret))
        // Bad lengths and an early close need no secret: counted. A tagged but undecodable payload needs it: reported.
        #expect(await eventually {
            server.rejections.badFrame == 2 && server.rejections.closedEarly == 1 && recorder.rejections(containing: "undecodable") == 1
        })

        var rng = SystemRandomNumberGenerator()
        for i in 0..<300 {
            let peer = try RawPeer(port: server.port)
            var bytes = (0..<Int.random(in: 1...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            switch i % 3 {
            case 0: break  // pure noise, usually an impossible length
            case 1: bytes = [0, 0, UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes  // plausible length, random payload and tag
            default: bytes = try ControlFrame.encode(payload: bytes, secret: secret)  // authentic garbage
            }
            peer.send(bytes)
            peer.close()
        }
        #expect(await eventually { server.rejections.total + recorder.rejectionCount >= 304 })
        #expect(recorder.messageCount == 0 && server.snapshot().isEmpty)
        try await expectHealthy(server)
    }

    @Test func connectionLimit() async throws {
        // A handshake deadline far beyond the test's length: on a loaded machine (CI took 7.8 s here) the
        // default 2 s closed the 128 kept peers too, which is the handshake timeout's behaviour, not this test's.
        let (server, recorder) = try startServer(handshakeTimeout: 120)
        defer { server.stop() }
        var peers = try (0..<300).map { _ in try RawPeer(port: server.port) }
        // 128 unauthenticated slots: the 172 oldest silent peers were evicted, counted, not reported.
        #expect(await eventually { server.rejections.slotsFull == 172 })
        #expect(await eventually { peers.filter { $0.serverClosed() }.count == 172 })
        #expect(peers.prefix(172).allSatisfy { $0.serverClosed() })
        #expect(recorder.rejectionCount == 0 && server.rejections.handshakeTimeout == 0)
        // While full, a newcomer still gets in (evicting the oldest), and the open ones still work.
        let late = try RawPeer(port: server.port)
        late.send(try frame(rank: 8))
        #expect(await eventually { server.status(ofRank: 8) != nil })
        let open = try #require(peers.first { !$0.serverClosed() })
        open.send(try frame(rank: 7))
        #expect(await eventually { server.status(ofRank: 7) != nil })
        for p in peers { p.close() }
        peers = []
        try await expectHealthy(server)
    }

    @Test func idlePeerIsClosed() async throws {
        let (server, recorder) = try startServer(idleTimeout: 0.3)
        defer { server.stop() }
        let silent = try RawPeer(port: server.port)
        let partial = try RawPeer(port: server.port)
        partial.send([0, 0, 0, 50, 1, 2, 3])
        let quiet = try RawPeer(port: server.port)
        quiet.send(try frame(rank: 3))
        let started = Date()
        // Authenticated, then silent: closed after idleTimeout, reported.
        #expect(await eventually(1.5) { quiet.serverClosed() })
        #expect(recorder.rejections(containing: "no valid frame") == 1)
        // Unauthenticated: closed at the handshake deadline (2 s by default), counted, not reported.
        #expect(!silent.serverClosed() && !partial.serverClosed())
        #expect(await eventually(5) { silent.serverClosed() && partial.serverClosed() })
        #expect(Date().timeIntervalSince(started) >= 1.9)
        #expect(server.rejections.handshakeTimeout == 2)
        #expect(recorder.rejectionCount == 1)
        try await expectHealthy(server)
    }

    @Test func peerThatStopsReadingIsDropped() async throws {
        let (server, recorder) = try startServer()
        defer { server.stop() }
        let peer = try RawPeer(port: server.port)
        peer.send(try frame(rank: 6))
        #expect(await eventually { server.status(ofRank: 6) != nil })
        let big = String(repeating: "c", count: 60_000)
        var dropped = false
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            do { try server.send(command: big, toRank: 6) } catch ControlError.noConnection {
                dropped = true
                break
            } catch ControlError.commandQueueFull {}
            try await Task.sleep(nanoseconds: 1_000_000)
        }
        #expect(dropped)
        #expect(recorder.rejections(containing: "not reading") == 1)
        #expect(server.status(ofRank: 6)?.connected == false)
        try await expectHealthy(server)
    }

    @Test func commandsReachARawPeerAuthenticated() async throws {
        let (server, _) = try startServer()
        defer { server.stop() }
        let peer = try RawPeer(port: server.port)
        peer.send(try frame(rank: 2))
        #expect(await eventually { server.status(ofRank: 2) != nil })
        try server.send(command: "one", toRank: 2)
        try server.send(command: "two", toRank: 2)
        var received: [ControlMessage] = []
        #expect(await eventually {
            received += peer.receivedPayloads(secret: secret).compactMap { try? ControlMessage(payload: $0) }
            return received.count == 2
        })
        #expect(received.map(\.detail) == ["one", "two"])
        #expect(received.allSatisfy { $0.rank == -1 && $0.kind == .command && $0.run == runID && $0.attempt == 0 })
        #expect(received[0].seq < received[1].seq)
    }

    @Test func clientRejectsForgedAndReplayedCommands() async throws {
        let fake = try FakeCoordinator()
        let c = try ControlClient(address: "127.0.0.1:\(fake.port)", runID: runID, secret: secret, attempt: 0, rank: 1)
        c.start(heartbeatInterval: 0.05)
        defer { c.stop() }
        func command(_ detail: String, seq: UInt64, key: ControlSecret? = nil, rank: Int = -1) throws -> [UInt8] {
            try ControlFrame.encode(ControlMessage(run: runID, attempt: 0, rank: rank, seq: seq, kind: .command, detail: detail),
                                    secret: key ?? secret)
        }
        var link = try #require(await fake.accept())
        #expect(await eventually { !link.receivedPayloads(secret: secret).isEmpty })  // hello
        link.send(try command("forged", seq: 1, key: try ControlSecret.generate()))
        #expect(await eventually { link.serverClosed() })  // the client hung up

        link = try #require(await fake.accept())
        link.send(try command("not from the coordinator", seq: 2, rank: 0))
        #expect(await eventually { link.serverClosed() })

        link = try #require(await fake.accept())
        let genuine = try command("stop", seq: 5)
        link.send(genuine)
        #expect(await eventually { c.pendingCommand() == "stop" })
        link.close()
        link = try #require(await fake.accept())
        link.send(genuine)  // replayed on a new connection
        #expect(await eventually { link.serverClosed() })
        #expect(c.pendingCommand() == nil)
    }

    @Test func clientWaitsForAbsentCoordinator() async throws {
        let (probe, _) = try startServer()
        let port = probe.port
        probe.stop()
        let c = try ControlClient(address: "127.0.0.1:\(port)", runID: runID, secret: secret, attempt: 0, rank: 5)
        c.start(heartbeatInterval: 0.05)
        defer { c.stop() }
        let before = Date()
        #expect(!c.send(kind: .userError, detail: "bad flag", flushWithin: 0.3))
        #expect(Date().timeIntervalSince(before) < 1)
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(!c.isConnected)

        let (server, recorder) = try startServer(port: port)
        defer { server.stop() }
        #expect(await eventually(5) { server.status(ofRank: 5)?.lastKind == .heartbeat })
        // The event queued while the coordinator was away went out on connecting.
        #expect(recorder.messages.withLock { $0.contains { $0.kind == .userError && $0.detail == "bad flag" } })
        let t = Date()
        c.stop()
        #expect(Date().timeIntervalSince(t) < 1)
    }

    @Test func startErrorsNameTheAddress() throws {
        let (server, _) = try startServer()
        defer { server.stop() }
        #expect(throws: ControlError.alreadyRunning) { try server.start() }
        let clash = ControlServer(port: server.port, runID: runID, secret: secret, attempt: 0)
        do {
            try clash.start()
            Issue.record("second bind succeeded")
        } catch {
            #expect("\(error)".contains("bind 127.0.0.1:\(server.port)"))
        }
        let bad = ControlServer(bindAddress: "no-such-host.invalid", runID: runID, secret: secret, attempt: 0)
        #expect(throws: ControlError.self) { try bad.start() }
        server.stop()
        server.stop()
        #expect(throws: ControlError.notRunning) { try server.send(command: "x", toRank: 0) }
    }
}
