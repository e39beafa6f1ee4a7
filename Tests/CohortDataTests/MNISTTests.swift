// MNIST read from the shared data directory (/work/shared/data/mnist beside the
// repo), checked against the reference figures in its README; skipped with a
// message when that directory is absent. Also reads a raw (non-gzip) copy.
import Testing
import Foundation
import CohortData

/// `<repo>/../shared/data/mnist`, found from this file's path (Tests/CohortDataTests/…).
let mnistDirectory: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().appendingPathComponent("../../../shared/data/mnist").standardized.path
let mnistAvailable = FileManager.default.fileExists(atPath: mnistDirectory)

@Suite(.enabled(if: mnistAvailable, "MNIST not found at \(mnistDirectory); skipping the real-data tests"))
struct MNISTTests {
    @Test func trainSplitMatchesTheReferenceFigures() throws {
        let train = try MNIST.load(directory: mnistDirectory, split: .train)
        #expect(train.name == "mnist-train")
        #expect(train.count == 60_000)
        #expect(train.featureShape == [1, 28, 28])
        #expect(train.numClasses == 10)
        #expect(train.labels.prefix(10) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        #expect(train.labelCounts() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        let (images, labels) = try MNIST.readFiles(directory: mnistDirectory, split: .train)
        #expect(images.shape == [60_000, 28, 28] && labels.shape == [60_000])
        #expect(images.bytes.reduce(0) { $0 + Int($1) } == 1_567_298_545)
    }

    @Test func testSplitMatchesTheReferenceFigures() throws {
        let test = try MNIST.load(directory: mnistDirectory, split: .test)
        #expect(test.name == "mnist-test")
        #expect(test.count == 10_000)
        #expect(test.labels.prefix(10) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        #expect(test.labelCounts() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        #expect(test.features.min() == 0 && test.features.max() == 1)
        let (images, _) = try MNIST.readFiles(directory: mnistDirectory, split: .test)
        #expect(images.bytes.reduce(0) { $0 + Int($1) } == 264_923_200)
        // The float features are exactly byte / 255.
        let restored = test.features.reduce(0) { $0 + Int(($1 * 255).rounded()) }
        #expect(restored == 264_923_200)
    }

    @Test func normalisationUsesTheUsualConstants() throws {
        let test = try MNIST.load(directory: mnistDirectory, split: .test, normalize: true)
        let n = Double(test.features.count)
        let mean = test.features.reduce(0.0) { $0 + Double($1) } / n
        let std = (test.features.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot()
        // README: test pixels have mean 0.132515 and std 0.310480 after /255.
        #expect(abs(mean - (0.132515 - 0.1307) / 0.3081) < 1e-4)
        #expect(abs(std - 0.310480 / 0.3081) < 1e-4)
    }

    @Test func rawUncompressedFilesLoadTheSame() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let (images, labels) = try MNIST.readFiles(directory: mnistDirectory, split: .test)
        try IDX.write(images, to: dir.file("t10k-images-idx3-ubyte"))
        try IDX.write(labels, to: dir.file("t10k-labels-idx1-ubyte"))
        #expect(try dir.read("t10k-labels-idx1-ubyte").prefix(8) == [0, 0, 8, 1, 0, 0, 0x27, 0x10])
        #expect(try IDX.read(path: dir.file("t10k-labels-idx1-ubyte")) == labels)
        let raw = try MNIST.load(directory: dir.path, split: .test)
        let gz = try MNIST.load(directory: mnistDirectory, split: .test)
        #expect(raw.features == gz.features && raw.labels == gz.labels)
    }
}
