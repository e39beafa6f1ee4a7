// Bad dataset directories must stop `cohort train` with an error naming the
// file at fault — never a crash or a silent run.
import Foundation
import Testing

@Suite struct DataErrorTests {
    /// Copies MNIST into a temporary directory so a test can damage one file.
    func copyOfMNIST() throws -> URL {
        let dir = try CLI.temporaryDirectory()
        for f in try FileManager.default.contentsOfDirectory(atPath: CLI.mnist) where f.hasSuffix(".gz") {
            try FileManager.default.copyItem(atPath: CLI.mnist + "/" + f, toPath: dir.appendingPathComponent(f).path)
        }
        return dir
    }

    @Test func missingDirectory() throws {
        let r = try CLI.run(["train", "--data", "/nonexistent/mnist", "--steps", "1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("/nonexistent/mnist"))
    }

    @Test func missingLabelFile() throws {
        let dir = try copyOfMNIST()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        let r = try CLI.run(["train", "--data", dir.path, "--steps", "1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("t10k-labels"), "\(r.stderr)")
    }

    @Test func truncatedImageFile() throws {
        let dir = try copyOfMNIST()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = dir.appendingPathComponent("t10k-images-idx3-ubyte.gz")
        let data = try Data(contentsOf: f)
        try data.prefix(data.count / 2).write(to: f)
        let r = try CLI.run(["train", "--data", dir.path, "--steps", "1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("t10k-images-idx3-ubyte.gz"), "\(r.stderr)")
        #expect(!r.stderr.contains("Fatal error"))
    }

    @Test func labelCountMismatch() throws {
        let dir = try copyOfMNIST()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Replace the test labels with a raw IDX file holding 9,999 labels.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        var bytes: [UInt8] = [0, 0, 8, 1, 0, 0, 0x27, 0x0F]   // 9999 big-endian
        bytes += [UInt8](repeating: 3, count: 9999)
        try Data(bytes).write(to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))
        let r = try CLI.run(["train", "--data", dir.path, "--steps", "1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("9999") && r.stderr.contains("10000"), "\(r.stderr)")
    }
}
