// `cohort data download` end to end: the release binary fetches from a local
// HTTP server (Tests/Support/range_server.py serving ../shared/data as a mirror),
// resumes a dropped transfer with a Range request, refuses a corrupted file and
// names what is wrong for 404s, unknown datasets and unwritable directories.
import Foundation
import Testing

@Suite(.serialized) struct DataDownloadTests {
    static let shared = CLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path

    /// range_server.py on a free port, logging each request as a JSON line.
    final class Server {
        let process = Process()
        let port: Int
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-server-\(UUID().uuidString).jsonl").path

        init(root: String = DataDownloadTests.shared, cut: String? = nil) throws {
            let script = CLI.repoRoot.appendingPathComponent("Tests/Support/range_server.py").path
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script, "--root", root, "--port", "0", "--log", log] + (cut.map { ["--cut", $0] } ?? [])
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            var text = ""
            while !text.contains("\n") {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).prefix { $0.isNumber }) else {
                process.terminate()
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "range_server.py did not start: '\(text)'"])
            }
            self.port = port
        }

        var url: String { "http://127.0.0.1:\(port)" }

        /// Logged requests as (path, Range header) pairs.
        func requests() throws -> [(path: String, range: String?)] {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return try text.split(separator: "\n").map {
                let o = try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
                return (o["path"] as? String ?? "", o["range"] as? String)
            }
        }

        func stop() {
            if process.isRunning { process.terminate() }
            // SIGKILL if SIGTERM has not ended it within 2 s: a stuck server must not hang the tests.
            let deadline = Date().addingTimeInterval(2)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            try? FileManager.default.removeItem(atPath: log)
        }
    }

    func same(_ a: String, _ b: String) -> Bool {
        FileManager.default.contentsEqual(atPath: a, andPath: b)
    }

    @Test func mnistThroughMirrorTrains() throws {
        let server = try Server(), dir = try CLI.temporaryDirectory()
        defer { server.stop(); try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["data", "download", "mnist", "--to", dir.path, "--mirror", server.url], timeout: 60)
        #expect(r.status == 0, "\(r.output)")
        let names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        for name in names {
            #expect(same(dir.appendingPathComponent(name).path, Self.shared + "/mnist/" + name), "\(name)")
            #expect(r.stderr.contains("mnist/\(name)") && r.stderr.contains("SHA-256 ok"), "\(r.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == names.sorted())
        #expect(r.stdout.contains("4 downloaded"), "\(r.stdout)")
        // Run again: everything verified in place, nothing requested.
        let again = try CLI.run(["data", "download", "mnist", "--to", dir.path, "--mirror", server.url], timeout: 60)
        #expect(again.status == 0 && again.stdout.contains("4 already present"), "\(again.output)")
        #expect(try server.requests().count == 4)
        let train = try CLI.run(["train", "--data", dir.path, "--steps", "2"], timeout: 120)
        #expect(train.status == 0, "\(train.output)")
    }

    @Test func tinyShakespeareThroughMirror() throws {
        let server = try Server(), dir = try CLI.temporaryDirectory()
        defer { server.stop(); try? FileManager.default.removeItem(at: dir) }
        let to = dir.appendingPathComponent("new/sub").path   // created on the way
        let r = try CLI.run(["data", "download", "tiny-shakespeare", "--to", to, "--mirror", server.url + "/"], timeout: 60)
        #expect(r.status == 0, "\(r.output)")
        #expect(same(to + "/input.txt", Self.shared + "/tiny-shakespeare/input.txt"))
        #expect(try server.requests().map(\.path) == ["/tiny-shakespeare/input.txt"])
    }

    @Test func resumesInterruptedDownload() throws {
        let server = try Server(cut: "train-images-idx3-ubyte.gz=4000000"), dir = try CLI.temporaryDirectory()
        defer { server.stop(); try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["data", "download", "mnist", "--to", dir.path, "--mirror", server.url], timeout: 60)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stderr.contains("interrupted"), "\(r.stderr)")
        let images = try server.requests().filter { $0.path.hasSuffix("train-images-idx3-ubyte.gz") }
        #expect(images.map(\.range) == [nil, "bytes=4000000-"], "\(images)")
        #expect(same(dir.appendingPathComponent("train-images-idx3-ubyte.gz").path, Self.shared + "/mnist/train-images-idx3-ubyte.gz"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("train-images-idx3-ubyte.gz.part").path))
    }

    @Test func corruptedFileIsRefused() throws {
        let mirror = try CLI.temporaryDirectory(), dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: mirror); try? FileManager.default.removeItem(at: dir) }
        let m = mirror.appendingPathComponent("mnist")
        try FileManager.default.createDirectory(at: m, withIntermediateDirectories: true)
        for f in try FileManager.default.contentsOfDirectory(atPath: Self.shared + "/mnist") where f.hasSuffix(".gz") {
            try FileManager.default.copyItem(atPath: Self.shared + "/mnist/" + f, toPath: m.appendingPathComponent(f).path)
        }
        let labels = m.appendingPathComponent("train-labels-idx1-ubyte.gz")
        var bytes = try Data(contentsOf: labels)
        bytes[1000] ^= 0x01
        try bytes.write(to: labels)
        let server = try Server(root: mirror.path)
        defer { server.stop() }
        let r = try CLI.run(["data", "download", "mnist", "--to", dir.path, "--mirror", server.url], timeout: 60)
        #expect(r.status == 1, "\(r.output)")
        let final = dir.appendingPathComponent("train-labels-idx1-ubyte.gz").path
        #expect(r.stderr.contains(final) && r.stderr.contains("SHA-256 mismatch"), "\(r.stderr)")
        #expect(r.stderr.contains("3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"), "\(r.stderr)")
        #expect(r.stderr.contains(server.url + "/mnist/train-labels-idx1-ubyte.gz"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: final))
        #expect(!FileManager.default.fileExists(atPath: final + ".part"))
        #expect(FileManager.default.fileExists(atPath: final + ".bad"))
    }

    @Test func notFoundNamesURL() throws {
        let empty = try CLI.temporaryDirectory(), dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty); try? FileManager.default.removeItem(at: dir) }
        let server = try Server(root: empty.path)
        defer { server.stop() }
        let r = try CLI.run(["data", "download", "fashion-mnist", "--to", dir.path, "--mirror", server.url], timeout: 60)
        #expect(r.status == 1, "\(r.output)")
        #expect(r.stderr.contains(server.url + "/fashion-mnist/t10k-labels-idx1-ubyte.gz") && r.stderr.contains("404"), "\(r.stderr)")
    }

    @Test func userErrorsExitTwo() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let unknown = try CLI.run(["data", "download", "cifar10", "--to", dir.path])
        #expect(unknown.status == 2 && unknown.stderr.contains("cifar10"), "\(unknown.output)")
        #expect(unknown.stderr.contains("mnist, fashion-mnist, tiny-shakespeare"), "\(unknown.output)")
        // A path under a regular file cannot become a directory (as root, permissions would not stop it).
        let file = dir.appendingPathComponent("plain-file").path
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        let under = try CLI.run(["data", "download", "mnist", "--to", file + "/mnist"])
        #expect(under.status == 2 && under.stderr.contains("--to") && under.stderr.contains(file + "/mnist"), "\(under.output)")
        let notDir = try CLI.run(["data", "download", "mnist", "--to", file])
        #expect(notDir.status == 2 && notDir.stderr.contains(file) && notDir.stderr.contains("not a directory"), "\(notDir.output)")
        let mirror = try CLI.run(["data", "download", "mnist", "--to", dir.path, "--mirror", "ftp://example.org"])
        #expect(mirror.status == 2 && mirror.stderr.contains("--mirror"), "\(mirror.output)")
    }
}
