// TensorBoard event files byte for byte: CRC-32C against a bitwise reference
// written here (and the standard test vector), the mask, the TFRecord frame,
// and the protobuf wire bytes of an Event encoded by hand from TensorFlow's
// field numbers (wall_time=1, step=2, file_version=3, summary=5; Summary.value=1;
// Value.tag=1, simple_value=2).
import CohortCore
import Foundation
import Testing
@testable import CohortRunLog

/// Bitwise CRC-32C (reflected polynomial 0x82F63B78), independent of the C code under test.
func referenceCRC32C(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
    }
    return ~crc
}

func referenceMask(_ crc: UInt32) -> UInt32 { ((crc >> 15) | (crc << 17)) &+ 0xa282_ead8 }

func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

@Suite struct TFRecordTests {
    @Test func crc32cTestVectorAndMask() {
        let digits = Array("123456789".utf8)
        #expect(referenceCRC32C(digits) == 0xE306_9283)
        #expect(TFRecord.crc32c(digits) == 0xE306_9283)
        #expect(TFRecord.maskedCRC32C(digits) == referenceMask(0xE306_9283))
        #expect(TFRecord.maskedCRC32C(digits) == 0xC78A_B0E5)  // computed separately (Python) from the formula
        var g = SystemRandomNumberGenerator()
        for n in [0, 1, 7, 8, 9, 63, 1000] {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
            #expect(TFRecord.crc32c(bytes) == referenceCRC32C(bytes))
            #expect(TFRecord.maskedCRC32C(bytes) == referenceMask(referenceCRC32C(bytes)))
        }
    }

    @Test func frameIsLengthCRCDataCRC() throws {
        let data = Array("hello, tensorboard".utf8)
        let framed = TFRecord.frame(data)
        let length = le(UInt64(data.count))
        #expect(framed == length + le(referenceMask(referenceCRC32C(length))) + data + le(referenceMask(referenceCRC32C(data))))
        #expect(try TFRecord.records(framed + framed + Array(framed.prefix(10)), path: "x") == [data, data])
        var bad = framed
        bad[14] ^= 1
        #expect(throws: CohortError.badFile(path: "x", "record at byte 0: data CRC mismatch")) { try TFRecord.records(bad, path: "x") }
    }

    @Test func eventWireBytesMatchTensorFlowFieldNumbers() throws {
        let version = EventCodec.encode(TensorBoardEvent(wallTime: 1.5, step: 0, payload: .fileVersion("brain.Event:2")))
        #expect(version == [0x09] + le((1.5).bitPattern) + [0x1A, 13] + Array("brain.Event:2".utf8))

        let scalars = EventCodec.encode(TensorBoardEvent(wallTime: 2.0, step: 300, payload: .scalars([
            ScalarValue(tag: "train/loss", value: 0.25), ScalarValue(tag: "lr", value: 0)])))
        let v1: [UInt8] = [0x0A, 10] + Array("train/loss".utf8) + [0x15] + le(Float(0.25).bitPattern)
        let v2: [UInt8] = [0x0A, 2] + Array("lr".utf8) + [0x15] + le(Float(0).bitPattern)  // 0.0 is still present (oneof)
        let summary: [UInt8] = [0x0A, UInt8(v1.count)] + v1 + [0x0A, UInt8(v2.count)] + v2
        #expect(scalars == [0x09] + le((2.0).bitPattern) + [0x10, 0xAC, 0x02] + [0x2A, UInt8(summary.count)] + summary)
        #expect(EventCodec.decode(scalars) == TensorBoardEvent(wallTime: 2, step: 300, payload: .scalars([
            ScalarValue(tag: "train/loss", value: 0.25), ScalarValue(tag: "lr", value: 0)])))
    }

    @Test func writerFileNameAndContents() throws {
        let dir = try temporaryDirectory()
        let w = try TensorBoardWriter(runDirectory: dir, wallTime: 1_700_000_000.25, hostname: "node1")
        #expect(w.path == dir + "/events.out.tfevents.1700000000.node1")
        try w.add(step: 10, wallTime: 1_700_000_001, ["train/loss": 2.5, "train/lr": 0.1])
        try w.add(step: 20, wallTime: 1_700_000_002, ["train/loss": 1.25, "train/lr": 0.05])
        let second = try TensorBoardWriter(runDirectory: dir, wallTime: 1_700_000_000.9, hostname: "node1")
        #expect(second.path == dir + "/events.out.tfevents.1700000000.node1.1")

        let bytes = Array(FileManager.default.contents(atPath: w.path)!)
        // The first record, framed by hand.
        let first = EventCodec.encode(TensorBoardEvent(wallTime: 1_700_000_000.25, step: 0, payload: .fileVersion("brain.Event:2")))
        #expect(Array(bytes.prefix(16 + first.count)) == le(UInt64(first.count)) + le(referenceMask(referenceCRC32C(le(UInt64(first.count)))))
                + first + le(referenceMask(referenceCRC32C(first))))
        let events = try TensorBoardWriter.read(w.path)
        #expect(events.count == 3 && events[0].payload == .fileVersion("brain.Event:2"))
        #expect(events[2] == TensorBoardEvent(wallTime: 1_700_000_002, step: 20, payload: .scalars([
            ScalarValue(tag: "train/loss", value: 1.25), ScalarValue(tag: "train/lr", value: 0.05)])))
    }

    @Test func imageEventsMatchTensorFlowFieldNumbersAndRoundTrip() throws {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0, 255]
        let image = ImageValue(tag: "samples", width: 3, height: 2, colorspace: 1, encoded: png)
        let bytes = EventCodec.encode(TensorBoardEvent(wallTime: 2.0, step: 7, payload: .images([image])))
        // Summary.Image: height 1, width 2, colorspace 3, encoded_image_string 4; Value.image is field 4.
        let i: [UInt8] = [0x08, 2, 0x10, 3, 0x18, 1, 0x22, UInt8(png.count)] + png
        let v: [UInt8] = [0x0A, 7] + Array("samples".utf8) + [0x22, UInt8(i.count)] + i
        let summary: [UInt8] = [0x0A, UInt8(v.count)] + v
        #expect(bytes == [0x09] + le((2.0).bitPattern) + [0x10, 7] + [0x2A, UInt8(summary.count)] + summary)
        #expect(EventCodec.decode(bytes) == TensorBoardEvent(wallTime: 2, step: 7, payload: .images([image])))

        let dir = try temporaryDirectory()
        let w = try TensorBoardWriter(runDirectory: dir)
        try w.addImage(step: 7, image)
        try w.add(step: 7, ["train/loss": 0.5])
        #expect(try TensorBoardWriter.read(w.path).map(\.payload) == [.fileVersion(TensorBoardWriter.fileVersion), .images([image]),
                                                                     .scalars([ScalarValue(tag: "train/loss", value: 0.5)])])
    }
}
