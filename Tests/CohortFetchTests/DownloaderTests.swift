// Downloader against a real local HTTP server (Tests/Support/range_server.py)
// serving ../shared/data: full download, resume after a dropped connection and
// from an earlier run's .part, servers that ignore Range, stale partial files,
// digest mismatches, 404s and refused connections.
import CohortCore
import CohortFetch
import Foundation
import Testing

@Suite(.serialized) struct DownloaderTests {
    static let text = DatasetCatalog.tinyShakespeare
    static let file = text.files[0]
    static let original = TestServer.sharedData + "/tiny-shakespeare/input.txt"

    /// Collects events from the downloader (they arrive on URLSession's queue too).
    final class Events: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [DownloadEvent] = []
        func add(_ e: DownloadEvent) { lock.lock(); list.append(e); lock.unlock() }
        var all: [DownloadEvent] { lock.lock(); defer { lock.unlock() }; return list }
        var restarted: Bool { all.contains { if case .restarted = $0 { return true }; return false } }
        var retries: Int { all.filter { if case .retrying = $0 { return true }; return false }.count }
    }

    func downloader(_ events: Events, attempts: Int = 4) -> Downloader {
        Downloader(attempts: attempts, timeout: 10, retryDelay: 0.05, report: { events.add($0) })
    }

    func digest(_ path: String) throws -> String { SHA256.hex([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))) }

    @Test func downloadsAndVerifies() throws {
        let server = try TestServer(), dir = try ScratchDirectory()
        defer { server.stop(); dir.remove() }
        let events = Events()
        let outcome = try downloader(events).fetch(Self.file, from: Self.text.url(of: Self.file, mirror: server.baseURL), into: dir.path)
        #expect(try digest(dir.file("input.txt")) == Self.file.sha256)
        #expect(outcome.bytesTransferred == Self.file.size && outcome.resumedFrom == 0 && !outcome.alreadyPresent)
        #expect(!dir.exists("input.txt.part") && !dir.exists("input.txt.bad"))
        let requests = try server.requests()
        #expect(requests.count == 1 && requests[0].path == "/tiny-shakespeare/input.txt" && requests[0].range == nil)
        // A second run finds the verified file and asks the server nothing.
        let again = try downloader(events).fetch(Self.file, from: Self.text.url(of: Self.file, mirror: server.baseURL), into: dir.path)
        #expect(again.alreadyPresent && again.bytesTransferred == 0)
        #expect(try server.requests().count == 1)
        // --force fetches it again.
        let forced = try downloader(events).fetch(Self.file, from: Self.text.url(of: Self.file, mirror: server.baseURL), into: dir.path, force: true)
        #expect(!forced.alreadyPresent && forced.bytesTransferred == Self.file.size)
        #expect(try server.requests().count == 2)
    }

    @Test func resumesAfterDroppedConnection() throws {
        let server = try TestServer(cuts: ["input.txt": 300_000]), dir = try ScratchDirectory()
        defer { server.stop(); dir.remove() }
        let events = Events()
        let outcome = try downloader(events).fetch(Self.file, from: Self.text.url(of: Self.file, mirror: server.baseURL), into: dir.path)
        let requests = try server.requests()
        #expect(requests.count == 2, "\(requests)")
        #expect(requests[0].range == nil && requests[0].sent == 300_000)
        #expect(requests[1].range == "bytes=300000-" && requests[1].status == 206, "\(requests)")
        #expect(events.retries == 1)
        #expect(outcome.bytesTransferred == Self.file.size)
        #expect(try digest(dir.file("input.txt")) == Self.file.sha256)
        #expect(!dir.exists("input.txt.part"))
    }

    @Test func resumesPartFileFromEarlierRun() throws {
        let server = try TestServer(), dir = try ScratchDirectory()
        defer { server.stop(); dir.remove() }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.original))
        try bytes.prefix(500_000).write(to: URL(fileURLWithPath: dir.file("input.txt.part")))
        let outcome = try downloader(Events()).fetch(Self.file, from: Self.text.url(of: Self.file, mirror: server.baseURL), into: dir.path)
        #expect(outcome.resumedFrom == 500_000 && outcome.bytesTransferred == Self.file.size - 500_000)
        #expect(try server.requests().map(\.range) == ["bytes=500000-"])
        #expect(try digest(dir.file("input.txt")) == Self.file.sha256)
    }

    @Test func restartsWhenServerIgnoresRange() throws {
        let server = try TestServer(noRange: true), dir = try ScratchDirectory()
        defer { server.stop(); dir.remove() }
        // Garbage in the .part: appending to it would break the digest; a 200 must overwrite it.
        try Data(repeating: 0x41, count: 1000).write(to: URL(fileURLWithPath: dir.file("input.txt.part")))
        let events = Events()
        let outcome = try downloader(events).fetch(Self.file, from: Self.text.url(of: Self.file, mirror: server.baseURL), into: dir.path)
        let requests = try server.requests()
        #expect(requests.count == 1 && requests[0].range == "bytes=1000-" && requests[0].status == 200)
        #expect(events.restarted)
        #expect(outcome.bytesTransferred == Self.file.size)
        #expect(try digest(dir.file("input.txt")) == Self.file.sha256)
    }

    @Test func stalePartIsDiscardedOnce() throws {
        let server = try TestServer(), dir = try ScratchDirectory()
        defer { server.stop(); dir.remove() }
        // A .part that is not a prefix of the file: the resumed result mismatches, so it starts over.
        try Data(repeating: 0x41, count: 1000).write(to: URL(fileURLWithPath: dir.file("input.txt.part")))
        try downloader(Events()).fetch(Self.file, from: Self.text.url(of: Self.file, mirror: server.baseURL), into: dir.path)
        #expect(try server.requests().map(\.range) == ["bytes=1000-", nil])
        #expect(try digest(dir.file("input.txt")) == Self.file.sha256)
    }

    @Test func checksumMismatchKeepsNothingUnderFinalName() throws {
        let mirror = try ScratchDirectory(), dir = try ScratchDirectory()
        defer { mirror.remove(); dir.remove() }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: Self.original))
        bytes[123_456] ^= 0xFF
        try FileManager.default.createDirectory(atPath: mirror.file("tiny-shakespeare"), withIntermediateDirectories: true)
        try bytes.write(to: URL(fileURLWithPath: mirror.file("tiny-shakespeare/input.txt")))
        let actual = SHA256.hex([UInt8](bytes))
        let server = try TestServer(root: mirror.path)
        defer { server.stop() }
        let url = Self.text.url(of: Self.file, mirror: server.baseURL)
        #expect(throws: FetchError.checksumMismatch(file: dir.file("input.txt"), url: url, expected: Self.file.sha256,
                                                    actual: actual, keptAs: dir.file("input.txt.bad"))) {
            try downloader(Events()).fetch(Self.file, from: url, into: dir.path)
        }
        #expect(!dir.exists("input.txt") && !dir.exists("input.txt.part") && dir.exists("input.txt.bad"))
        let message = FetchError.checksumMismatch(file: dir.file("input.txt"), url: url, expected: Self.file.sha256,
                                                  actual: actual, keptAs: dir.file("input.txt.bad")).description
        #expect(message.contains("input.txt") && message.contains(Self.file.sha256) && message.contains(actual) && message.contains(url))
    }

    @Test func notFoundNamesURL() throws {
        let mirror = try ScratchDirectory(), dir = try ScratchDirectory()
        defer { mirror.remove(); dir.remove() }
        let server = try TestServer(root: mirror.path)
        defer { server.stop() }
        let url = Self.text.url(of: Self.file, mirror: server.baseURL)
        #expect(throws: FetchError.httpStatus(url: url, status: 404)) {
            try downloader(Events()).fetch(Self.file, from: url, into: dir.path)
        }
        #expect(FetchError.httpStatus(url: url, status: 404).description == "\(url): HTTP 404 (not found)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func refusedConnectionGivesUpAfterAttempts() throws {
        // Bind a port, close it: nothing listens there for the next few milliseconds.
        let server = try TestServer()
        let url = "http://127.0.0.1:\(server.port)/tiny-shakespeare/input.txt"
        server.stop()
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        do {
            try downloader(Events(), attempts: 2).fetch(Self.file, from: url, into: dir.path)
            Issue.record("expected a transfer error")
        } catch let FetchError.transfer(failedURL, attempts, _) {
            #expect(failedURL == url && attempts == 2)
        }
        #expect(!dir.exists("input.txt"))
    }
}
