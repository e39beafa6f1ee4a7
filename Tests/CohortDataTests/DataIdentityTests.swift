// A dataset's identity for checkpoints: MNIST-format directories are named by their
// content (Fashion-MNIST is not `mnist`), fingerprints match what `zcat … | sha256sum`
// and `sha256sum` print, and a file beyond the whole-file limit is fingerprinted from
// samples (its size and every window count).
import CohortCore
@testable import CohortData
import Foundation
import Testing

let fashionDirectory = URL(fileURLWithPath: mnistDirectory).deletingLastPathComponent().appendingPathComponent("fashion-mnist").path

@Suite struct DataIdentityTests {
    @Test(.enabled(if: mnistAvailable && FileManager.default.fileExists(atPath: fashionDirectory)))
    func idxDirectoriesAreNamedByTheirContent() throws {
        #expect(try MNIST.load(directory: fashionDirectory, split: .train).name == "fashion-mnist-train")
        #expect(try MNIST.load(directory: fashionDirectory, split: .test).name == "fashion-mnist-test")
        // (MNIST.identity's fingerprints are checked through the release binary in CLITests: hashing
        // 47 MB takes a minute in a debug build.)
        // A copy under another name is still MNIST; other data takes its directory's name.
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let (images, labels) = try MNIST.readFiles(directory: mnistDirectory, split: .test)
        try IDX.write(images, to: dir.file("t10k-images-idx3-ubyte"))
        try IDX.write(labels, to: dir.file("t10k-labels-idx1-ubyte"))
        #expect(try MNIST.load(directory: dir.path, split: .test).name == "mnist-test")
        var changed = labels.bytes
        changed[0] = (changed[0] + 1) % 10
        try IDX.write(try IDXArray(shape: labels.shape, bytes: changed), to: dir.file("t10k-labels-idx1-ubyte"))
        let name = URL(fileURLWithPath: dir.path).lastPathComponent
        #expect(try MNIST.load(directory: dir.path, split: .test).name == name + "-test")
    }

    @Test func filesAreHashedWholeOrFromSamples() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        try Data("abc".utf8).write(to: URL(fileURLWithPath: dir.file("abc.csv")))
        // FIPS 180-2's test vector: SHA-256("abc").
        #expect(try DataIdentity.file(dir.file("abc.csv"), name: "abc.csv").sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // A file just over a (small) whole-file limit: only 8 windows of 1 KiB are read.
        let big = dir.file("big.txt")
        let limit: Int64 = 64 << 10, window = 1024
        let size = limit + 4096
        #expect(FileManager.default.createFile(atPath: big, contents: Data(count: Int(size))))
        func id() throws -> String { try DataIdentity.file(big, name: "big.txt", wholeFileLimit: limit, samples: 8, sampleBytes: window).sha256 }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: big))
        let base = try id()
        #expect(try DataIdentity.file(big, name: "big.txt", wholeFileLimit: size, samples: 8, sampleBytes: window).sha256 != base)   // hashed whole
        func poke(_ offset: Int64) throws -> String {
            try handle.seek(toOffset: UInt64(offset))
            handle.write(Data([1]))
            defer { try? handle.seek(toOffset: UInt64(offset)); handle.write(Data([0])) }
            return try id()
        }
        #expect(try poke(0) != base)                        // first window
        #expect(try poke(size - 1) != base)                 // last window
        #expect(try poke(Int64(window) + 10) == base)       // between windows: the documented blind spot
        #expect(try id() == base)
        try handle.truncate(atOffset: UInt64(size + 1))
        #expect(try id() != base)                           // the size counts
        try handle.close()
    }
}
