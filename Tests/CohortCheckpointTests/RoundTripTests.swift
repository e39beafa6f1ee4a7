// Write → reopen → verify → read back: bitwise equality of every tensor (one
// spanning two 64 MiB chunks, an empty one, a scalar, every dtype), every
// manifest field, and the CRC32C check value.
import Foundation
import Testing
@testable import CohortCheckpoint

/// All checkpoint tests run one at a time: the fuzz test measures this process's
/// peak memory, which a concurrent 70 MiB round trip would disturb.
@Suite(.serialized) struct CheckpointTests {}

extension CheckpointTests {
    @Suite struct RoundTrip {
        @Test func crc32cCheckValue() {
            #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
            #expect(CRC32C.checksum([]) == 0)
            // Continuing over pieces equals one pass (the chunked writer relies on it).
            let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
            let whole = CRC32C.checksum(bytes)
            for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
                let a = CRC32C.checksum(Array(bytes[..<split]))
                let b = bytes[split...].withUnsafeBytes { CRC32C.checksum($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, count: $0.count, continuing: a) }
                #expect(b == whole)
            }
            // Unaligned starts and every tail length against a bitwise reference.
            for start in 0..<8 {
                for n in [0, 1, 3, 8, 15, 64, 65] where start + n <= bytes.count {
                    let piece = Array(bytes[start..<(start + n)])
                    #expect(CRC32C.checksum(piece) == referenceCRC32C(piece))
                }
            }
        }

        @Test func manifestCodecRoundTripsEveryField() throws {
            var m = fullManifest()
            m.tensors = [
                TensorRecord(name: "model/w", shape: [3, 4], dtype: .float32, byteLength: 48,
                             chunks: [Chunk(file: "data-00000.bin", offset: 0, length: 48, crc32c: 0xDEAD_BEEF)]),
                TensorRecord(name: "model/scalar", shape: [], dtype: .float64, byteLength: 8,
                             chunks: [Chunk(file: "data-00001.bin", offset: UInt64(Int64.max), length: 8, crc32c: 1)]),
                TensorRecord(name: "empty", shape: [0, 7], dtype: .uint8, byteLength: 0, chunks: []),
            ]
            #expect(try ManifestCodec.decode(ManifestCodec.encode(m)) == m)
            #expect(try ManifestCodec.decode(ManifestCodec.encode(Manifest())) == Manifest())
        }

        @Test func longModelSettingIsStoredInPiecesAndReadWhole() throws {
            // A BPE tokenizer of 2,048 tokens is 14,346 bytes, over the 4,096 of a checkpoint string.
            let long = "bpe1:2048:" + String(repeating: "0061", count: 3584)
            var m = Manifest()
            m.model.settings = [KeyValue("inputs", "32"), KeyValue("tokenizer", long), KeyValue("classes", "2048")]
            let stored = KeyValue.inPieces(m.model.settings, limit: CheckpointLimits.standard.maxStringBytes)
            #expect(stored.map(\.key) == ["inputs", "tokenizer", "tokenizer#2", "tokenizer#3", "tokenizer#4", "classes"])
            #expect(stored.allSatisfy { $0.value.utf8.count <= 4096 })
            #expect(try ManifestCodec.decode(ManifestCodec.encode(m)) == m)
            // A key that merely contains '#' is not a continuation unless it follows its base key.
            let odd = [KeyValue("a#2", "x"), KeyValue("b", "y"), KeyValue("b#1", "z")]
            #expect(KeyValue.joiningPieces(odd) == odd)
        }

        @Test func tensorsAndManifestSurviveAWriteBitwise() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            // ~70 MiB: one full 64 MiB chunk and a 6 MiB one. Bit patterns include NaNs
            // with payloads and negative zero, which a value-based copy would not keep.
            let bigCount = 70 << 18
            let big = OwnedBytes(count: bigCount * 4) { p in
                let w = p.bindMemory(to: UInt32.self)
                for i in 0..<bigCount { w[i] = UInt32(truncatingIfNeeded: i &* 2_654_435_761 &+ 0x7FC0_0001) }
            }
            let small: [Float] = [1, -0.0, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, 3.5, -2]
            let i64: [Int64] = [Int64.min, -1, 0, Int64.max]
            let tensors = [
                payload("model/layers.0.weight", [2, 4], small),
                TensorPayload(name: "model/big", shape: [bigCount / 1024, 1024], bytes: UnsafeRawBufferPointer(big.pointer), owner: big),
                payload("model/empty", [0, 5], []),
                payload("model/scalar", [], [42.5]),
                payload("optimizer/exp_avg/layers.0.weight", [2, 4], small.reversed()),
                payload("extra/f64", [2], .float64, [1.5, -7.25].withUnsafeBytes { Array($0) }),
                payload("extra/i32", [3], .int32, [Int32.min, 0, Int32.max].withUnsafeBytes { Array($0) }),
                payload("extra/i64", [2, 2], .int64, i64.withUnsafeBytes { Array($0) }),
                payload("extra/u8", [5], .uint8, [0, 1, 127, 128, 255]),
            ]
            let manifest = fullManifest()
            let path = try CheckpointWriter.write(manifest, tensors: tensors, directory: dir.path)
            #expect(path == dir.file("step-00001200"))

            let c = try Checkpoint(path: path)
            try c.verify()
            var expected = manifest
            expected.tensors = c.manifest.tensors
            #expect(c.manifest == expected)   // every non-tensor field, exactly
            #expect(c.manifest.tensors.map(\.name) == tensors.map(\.name))
            for (r, t) in zip(c.manifest.tensors, tensors) {
                #expect(r.shape == t.shape && r.dtype == t.dtype && r.byteLength == UInt64(t.bytes.count))
                let back = UnsafeMutableRawBufferPointer.allocate(byteCount: max(t.bytes.count, 1), alignment: 64)
                defer { back.deallocate() }
                try c.read(t.name, into: UnsafeMutableRawBufferPointer(rebasing: back[0..<t.bytes.count]))
                #expect(t.bytes.count == 0 || memcmp(back.baseAddress!, t.bytes.baseAddress!, t.bytes.count) == 0, "\(t.name) differs")
            }
            let bigRecord = try #require(c.manifest.tensor(named: "model/big"))
            #expect(bigRecord.chunks.map(\.length) == [UInt64(64 << 20), UInt64(bigCount * 4 - (64 << 20))])
            #expect(bigRecord.chunks[1].offset == bigRecord.chunks[0].offset + (64 << 20))
            #expect(c.manifest.tensor(named: "model/empty")?.byteLength == 0)
            #expect(try c.readFloats("model/scalar") == [42.5])
            #expect(try c.readFloats("model/empty").isEmpty)
            try c.read("model/empty", into: UnsafeMutableRawBufferPointer(start: nil, count: 0))
            // The streaming reader gives the same bytes in pieces.
            var streamed = 0
            var ok = true
            try TensorStream(c, name: "model/big").forEachPiece { piece in
                ok = ok && memcmp(piece.baseAddress!, big.pointer.baseAddress! + streamed, piece.count) == 0
                streamed += piece.count
            }
            #expect(ok && streamed == bigCount * 4)
        }

        @Test func writerRejectsBadPayloads() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let bad: [[TensorPayload]] = [
                [payload("model/a", [2, 3], [1, 2, 3])],                       // too few bytes
                [payload("model/a", [-1, -2], [1, 2])],                        // negative dimensions
                [payload("model/a", [Int.max, 2], [1])],                       // overflowing shape
                [payload("model/a", [1], [1]), payload("model/a", [1], [2])],  // duplicate name
                [payload(String(repeating: "x", count: 5000), [1], [1])],      // longer than the reader accepts
                [payload("model/a", [Int](repeating: 1, count: 33), [1])],     // more dimensions than the reader accepts
            ]
            for tensors in bad {
                let e = checkpointError { try CheckpointWriter.write(Manifest(), tensors: tensors, directory: dir.path) }
                #expect(e.map { "\($0)".contains("model/a") || "\($0)".contains("longer") || "\($0)".contains("dimensions") } ?? false, "\(String(describing: e))")
            }
            var negative = Manifest()
            negative.epoch = -1
            #expect(checkpointError { try CheckpointWriter.write(negative, tensors: [], directory: dir.path) } != nil)
            // Nothing was committed and no temporary directory is left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != ".lock" }.isEmpty)
        }
    }
}

/// Bit-at-a-time CRC32C, the definition in docs/checkpoint-format.md.
func referenceCRC32C(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
    }
    return ~c
}
