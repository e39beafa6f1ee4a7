// The wire format and the values around it, without sockets: frame round trips
// (whole, byte by byte, several per buffer), every malformed case the decoder
// must refuse, message JSON, the secret, `host:port` and the environment contract.
import Foundation
import Testing
@testable import CohortControl

@Suite struct FrameTests {
    static let secret = try! ControlSecret(bytes: [UInt8](repeating: 7, count: 32))

    static func message(seq: UInt64 = 1, kind: ControlMessage.Kind = .heartbeat) -> ControlMessage {
        ControlMessage(run: "run-1", attempt: 2, rank: 3, seq: seq, kind: kind, step: 42, detail: "d", time: 1.5)
    }

    @Test func roundTrip() throws {
        let m = Self.message()
        let frame = try ControlFrame.encode(m, secret: Self.secret)
        #expect(frame.count == 4 + (try m.encoded()).count + 32)
        var decoder = ControlFrameDecoder(secret: Self.secret)
        decoder.append(frame)
        let payload = try #require(try decoder.next())
        #expect(try ControlMessage(payload: payload) == m)
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedCount == 0)
    }

    @Test func byteByByteAndSeveralPerBuffer() throws {
        let frames = try (1...3).map { try ControlFrame.encode(Self.message(seq: UInt64($0)), secret: Self.secret) }
        var decoder = ControlFrameDecoder(secret: Self.secret)
        var seqs: [UInt64] = []
        for byte in frames.joined() {
            decoder.append([byte])
            while let p = try decoder.next() { seqs.append(try ControlMessage(payload: p).seq) }
        }
        #expect(seqs == [1, 2, 3])
        decoder.append(Array(frames.joined()))
        seqs = []
        while let p = try decoder.next() { seqs.append(try ControlMessage(payload: p).seq) }
        #expect(seqs == [1, 2, 3])
    }

    @Test func refusesBadLengthsAndTags() throws {
        for header: [UInt8] in [[0, 0, 0, 0], [0, 1, 0, 1], [0xff, 0xff, 0xff, 0xff]] {
            var decoder = ControlFrameDecoder(secret: Self.secret)
            decoder.append(header)
            #expect(throws: ControlError.self) { try decoder.next() }
        }
        // Exactly 64 KiB is allowed: the decoder waits for the rest.
        var decoder = ControlFrameDecoder(secret: Self.secret)
        decoder.append([0, 1, 0, 0])
        #expect(try decoder.next() == nil)

        var frame = try ControlFrame.encode(Self.message(), secret: Self.secret)
        frame[10] ^= 1
        var tampered = ControlFrameDecoder(secret: Self.secret)
        tampered.append(frame)
        #expect(throws: ControlError.badFrameTag) { try tampered.next() }

        let other = try ControlSecret(bytes: [UInt8](repeating: 8, count: 32))
        var wrongKey = ControlFrameDecoder(secret: other)
        wrongKey.append(try ControlFrame.encode(Self.message(), secret: Self.secret))
        #expect(throws: ControlError.badFrameTag) { try wrongKey.next() }

        #expect(throws: ControlError.self) { try ControlFrame.encode(payload: [], secret: Self.secret) }
        #expect(throws: ControlError.self) {
            try ControlFrame.encode(payload: [UInt8](repeating: 32, count: 65537), secret: Self.secret)
        }
    }

    @Test func messageJSON() throws {
        let m = ControlMessage(run: "r", attempt: 0, rank: -1, seq: UInt64(1) << 60, kind: .command,
                               detail: ControlCommand.checkpointAndExit, time: 1_700_000_000.25)
        let text = String(decoding: try m.encoded(), as: UTF8.self)
        #expect(text.hasPrefix("{\"attempt\":0,"))
        #expect(!text.contains("step"))
        #expect(try ControlMessage(payload: try m.encoded()) == m)
        #expect(throws: ControlError.self) { try ControlMessage(payload: Array("{\"kind\":\"hello\"}".utf8)) }
        #expect(throws: ControlError.self) { try ControlMessage(payload: Array("[1,2]".utf8)) }
        var unknown = String(decoding: try Self.message().encoded(), as: UTF8.self)
        unknown = unknown.replacingOccurrences(of: "heartbeat", with: "reboot")
        #expect(throws: ControlError.self) { try ControlMessage(payload: Array(unknown.utf8)) }
    }

    @Test func secret() throws {
        let a = try ControlSecret.generate()
        let b = try ControlSecret.generate()
        #expect(a.bytes.count == 32 && a != b)
        #expect(a.hex.count == 64)
        #expect(try ControlSecret(hex: a.hex) == a)
        #expect(try ControlSecret(hex: a.hex.uppercased()) == a)
        #expect(!"\(a)".contains(a.hex))
        #expect(throws: ControlError.self) { try ControlSecret(hex: "abc") }
        #expect(throws: ControlError.self) { try ControlSecret(hex: String(repeating: "g", count: 64)) }
        #expect(throws: ControlError.self) { try ControlSecret(bytes: [1, 2]) }
    }

    @Test func address() throws {
        let a = try ControlAddress(parsing: "10.0.0.5:29500")
        #expect(a.host == "10.0.0.5" && a.port == 29500)
        #expect(try ControlAddress(parsing: "node-1.cluster:80").host == "node-1.cluster")
        for bad in ["", "host", ":80", "host:", "host:0", "host:70000", "host:x", "::1:80"] {
            #expect(throws: ControlError.self) { try ControlAddress(parsing: bad) }
        }
    }

    @Test func environment() throws {
        let secret = try ControlSecret.generate()
        let good = ControlEnvironment.variables(address: "127.0.0.1:4000", runID: "run-9", secret: secret, attempt: 2)
        #expect(try ControlClient.fromEnvironment(rank: 0, environment: [:]) == nil)
        #expect(try ControlClient.fromEnvironment(rank: 0, environment: [ControlEnvironment.address: ""]) == nil)
        let client = try #require(try ControlClient.fromEnvironment(rank: 5, environment: good))
        #expect(client.address == "127.0.0.1:4000" && client.runID == "run-9" && client.attempt == 2 && client.rank == 5)

        func failure(_ env: [String: String]) -> String {
            do { _ = try ControlClient.fromEnvironment(rank: 0, environment: env); return "no error" } catch {
                return "\(error)"
            }
        }
        for name in [ControlEnvironment.runID, ControlEnvironment.secret, ControlEnvironment.attempt] {
            var env = good
            env[name] = nil
            #expect(failure(env).hasPrefix("\(name) is not set"))
        }
        var env = good
        env[ControlEnvironment.secret] = "zz"
        #expect(failure(env).hasPrefix(ControlEnvironment.secret))
        env = good
        env[ControlEnvironment.attempt] = "-1"
        #expect(failure(env).hasPrefix(ControlEnvironment.attempt))
        env = good
        env[ControlEnvironment.address] = "nohost"
        #expect(failure(env).hasPrefix(ControlEnvironment.address))
        #expect(!failure(env).contains(secret.hex))
    }
}
