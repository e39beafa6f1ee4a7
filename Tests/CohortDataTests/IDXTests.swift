// IDX reading on small hand-made fixtures: raw and gzip round trips, and the
// errors for missing, truncated, malformed and hostile files, each of which
// must name the file and say what is wrong.
import Testing
import Foundation
@testable import CohortData   // Gzip.compress, to gzip hand-made (invalid) IDX content
import CohortTensor

@Suite struct IDXTests {
    /// 3 images of 2×2 plus matching labels.
    let images = try! IDXArray(shape: [3, 2, 2], bytes: Array(0..<12))
    /// Pseudo-random bytes, so gzip cannot shrink them to a few bytes.
    func noisy(_ n: Int) throws -> IDXArray {
        var g = RandomGenerator(seed: 5)
        return try IDXArray(shape: [n, 28, 28], bytes: (0..<n * 784).map { _ in UInt8(truncatingIfNeeded: g.next()) })
    }

    @Test func rawAndGzipRoundTrip() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        try IDX.write(images, to: dir.file("raw"))
        try IDX.write(images, to: dir.file("gz"), compressed: true)
        #expect(try dir.read("raw") == [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2] + Array(0..<12))
        #expect(try dir.read("gz").prefix(2) == [0x1F, 0x8B])
        #expect(try IDX.read(path: dir.file("raw")) == images)
        #expect(try IDX.read(path: dir.file("gz")) == images)
        #expect(images.count == 3 && images.itemShape == [2, 2])
    }

    @Test func missingFileNamesThePath() throws {
        let path = "/nonexistent-cohort-dir/train-images-idx3-ubyte.gz"
        let msg = try #require(badFileMessage { _ = try IDX.read(path: path) })
        #expect(msg.contains(path) && msg.contains("No such file"))
    }

    @Test func truncatedRawFileSaysExpectedAndActualSize() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let path = try dir.write(Array(IDX.encode(images).dropLast(5)), to: "short-idx3-ubyte")
        let msg = try #require(badFileMessage { _ = try IDX.read(path: path) })
        #expect(msg.contains(path) && msg.contains("truncated") && msg.contains("expected 28 bytes") && msg.contains("got 23"))
        // Cut inside the header too.
        let p2 = try dir.write([0, 0, 8, 3, 0, 0], to: "header-only")
        let msg2 = try #require(badFileMessage { _ = try IDX.read(path: p2) })
        #expect(msg2.contains(p2) && msg2.contains("needs 16 bytes, got 6"))
    }

    @Test func truncatedGzipFileIsReported() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        try IDX.write(try noisy(20), to: dir.file("full.gz"), compressed: true)
        let gz = try dir.read("full.gz")
        let cut = try dir.write(Array(gz.prefix(gz.count / 2)), to: "train-images-idx3-ubyte.gz")
        let msg = try #require(badFileMessage { _ = try IDX.read(path: cut) })
        #expect(msg.contains(cut) && msg.contains("truncated gzip") && msg.contains("expected 15696 decompressed bytes"))
        // Everything but the 8-byte CRC/length trailer: the data is complete, the check is not.
        let noTrailer = try dir.write(Array(gz.dropLast(8)), to: "no-trailer.gz")
        let msg2 = try #require(badFileMessage { _ = try IDX.read(path: noTrailer) })
        #expect(msg2.contains(noTrailer) && msg2.contains("trailer"))
    }

    @Test func corruptGzipStreamIsReported() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        try IDX.write(try noisy(4), to: dir.file("ok.gz"), compressed: true)
        var gz = try dir.read("ok.gz")
        for i in 20..<60 { gz[i] ^= 0xA5 }
        let path = try dir.write(gz, to: "corrupt.gz")
        let msg = try #require(badFileMessage { _ = try IDX.read(path: path) })
        #expect(msg.contains(path) && msg.contains("bad gzip stream"), "\(msg)")
        // A wrong CRC alone is detected as well.
        var crc = try dir.read("ok.gz")
        crc[crc.count - 6] ^= 0xFF
        let p2 = try dir.write(crc, to: "bad-crc.gz")
        let msg2 = try #require(badFileMessage { _ = try IDX.read(path: p2) })
        #expect(msg2.contains(p2) && msg2.contains("bad gzip stream") && msg2.contains("check"))
    }

    @Test func badMagicAndUnsupportedTypeAreRejected() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let path = try dir.write([0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 9], to: "not-idx")
        let msg = try #require(badFileMessage { _ = try IDX.read(path: path) })
        #expect(msg.contains(path) && msg.contains("bad magic number 0x12345678"))
        let floats = try dir.write([0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0x80, 0x3F], to: "floats-idx1")
        let msg2 = try #require(badFileMessage { _ = try IDX.read(path: floats) })
        #expect(msg2.contains(floats) && msg2.contains("unsupported IDX data type 0x0D (32-bit float)"))
    }

    /// A wrong number of dimensions in the magic is reported as a wrong magic (before the sizes the
    /// header declares are trusted), not as a file longer or shorter than its header says.
    @Test func wrongDimensionsInTheMagicAreReportedFirst() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        var images = IDX.encode(try IDXArray(shape: [2, 2, 2], bytes: Array(0..<8)))
        images[3] = 1   // 0x00000801: a labels magic on an images file
        for (name, bytes) in [("raw", images), ("gz", Gzip.compress(images))] {
            let path = try dir.write(bytes, to: "images-\(name)")
            let msg = try #require(badFileMessage { _ = try IDX.read(path: path, dimensions: 3) })
            #expect(msg.contains(path) && msg.contains("not a 3-D IDX file") && msg.contains("0x00000801")
                    && msg.contains("0x00000803") && !msg.contains("longer"), "\(msg)")
        }
        let random = try dir.write([0x50, 0x4B, 0x03, 0x04] + Array(repeating: 1, count: 40), to: "zip")
        let msg = try #require(badFileMessage { _ = try IDX.read(path: random, dimensions: 1) })
        #expect(msg.contains(random) && msg.contains("not an IDX file") && msg.contains("0x504B0304") && msg.contains("expected 0x00000801"), "\(msg)")
    }

    @Test func hostileHeaderDoesNotAllocateWhatItClaims() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        // 2^31 images of 4096×4096 (2^55 bytes) backed by 10 bytes of data.
        let header: [UInt8] = [0, 0, 8, 3, 0x80, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0]
        let raw = try dir.write(header + Array(repeating: 7, count: 10), to: "hostile")
        let msg = try #require(badFileMessage { _ = try IDX.read(path: raw) })
        #expect(msg.contains(raw) && msg.contains("truncated") && msg.contains("got 26"))
        // Through gzip the size is only known once the data is inflated: the reader must
        // grow its buffer as data arrives and stop when the stream does.
        let gz = try dir.write(Gzip.compress(header + Array(repeating: 7, count: 10)), to: "hostile.gz")
        let msg2 = try #require(badFileMessage { _ = try IDX.read(path: gz) })
        #expect(msg2.contains(gz) && msg2.contains("expected 36028797018963984 decompressed bytes") && msg2.contains("got 26"))
        let overflow: [UInt8] = [0, 0, 8, 4] + Array(repeating: 0xFF, count: 16)
        let p3 = try dir.write(overflow, to: "overflow")
        let msg3 = try #require(badFileMessage { _ = try IDX.read(path: p3) })
        #expect(msg3.contains(p3) && msg3.contains("too large"))
    }
}
