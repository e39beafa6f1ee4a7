// MNIST loading failures on small fixture directories: a missing directory, a
// missing file, a count mismatch between images and labels, a label above 9 and
// a file of the wrong rank. Each message must name the file(s) involved.
import Testing
import Foundation
import CohortData

@Suite struct MNISTErrorTests {
    /// Writes `n` 2×3 images (gzip) and `labels` (raw) as the test split into `dir`.
    func writeFixture(_ dir: ScratchDirectory, images n: Int, labels: [UInt8]) throws {
        try IDX.write(try IDXArray(shape: [n, 2, 3], bytes: (0..<n * 6).map { UInt8($0 % 256) }),
                      to: dir.file("t10k-images-idx3-ubyte.gz"), compressed: true)
        try IDX.write(try IDXArray(shape: [labels.count], bytes: labels), to: dir.file("t10k-labels-idx1-ubyte"))
    }

    @Test func smallFixtureLoads() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        try writeFixture(dir, images: 3, labels: [2, 0, 9])
        let d = try MNIST.load(directory: dir.path, split: .test)
        #expect(d.count == 3 && d.featureShape == [1, 2, 3] && d.labels == [2, 0, 9])
        #expect(d.features[0..<6] == [0, 1, 2, 3, 4, 5].map { Float($0) / 255 }[...])
        let n = try MNIST.load(directory: dir.path, split: .test, normalize: true)
        #expect(n.features[1] == (Float(1) / 255 - MNIST.mean) / MNIST.std)
        #expect(try d.reshaped(featureShape: [6]).featureShape == [6])
    }

    @Test func missingDirectoryListsTheExpectedFiles() throws {
        let path = "/nonexistent-cohort-mnist"
        let msg = try #require(badFileMessage { _ = try MNIST.load(directory: path, split: .train) })
        #expect(msg.contains(path) && msg.contains("not found"))
        for name in ["train-images-idx3-ubyte(.gz)", "train-labels-idx1-ubyte(.gz)", "t10k-images-idx3-ubyte(.gz)"] {
            #expect(msg.contains(name))
        }
    }

    @Test func missingFileListsTheNamesLookedFor() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        try writeFixture(dir, images: 3, labels: [1, 2, 3])
        let msg = try #require(badFileMessage { _ = try MNIST.load(directory: dir.path, split: .train) })
        #expect(msg.contains(dir.path) && msg.contains("train images"))
        #expect(msg.contains("train-images-idx3-ubyte.gz, train-images-idx3-ubyte"))
    }

    @Test func countMismatchNamesBothFilesAndCounts() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        try writeFixture(dir, images: 5, labels: [1, 2, 3, 4])
        let msg = try #require(badFileMessage { _ = try MNIST.load(directory: dir.path, split: .test) })
        #expect(msg.contains(dir.file("t10k-images-idx3-ubyte.gz")) && msg.contains(dir.file("t10k-labels-idx1-ubyte")))
        #expect(msg.contains("5 images") && msg.contains("4 labels"))
    }

    @Test func labelOutOfRangeAndWrongRankAreRejected() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        try writeFixture(dir, images: 2, labels: [1, 12])
        let msg = try #require(badFileMessage { _ = try MNIST.load(directory: dir.path, split: .test) })
        #expect(msg.contains(dir.file("t10k-labels-idx1-ubyte")) && msg.contains("label 12 of sample 1"))
        // Labels where the images should be.
        try IDX.write(try IDXArray(shape: [2], bytes: [1, 2]), to: dir.file("t10k-images-idx3-ubyte.gz"))
        let msg2 = try #require(badFileMessage { _ = try MNIST.load(directory: dir.path, split: .test) })
        #expect(msg2.contains(dir.file("t10k-images-idx3-ubyte.gz")) && msg2.contains("expected 3-D"))
    }
}
