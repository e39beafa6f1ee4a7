// TFRecord framing, the container of TensorBoard event files: per record a
// uint64 little-endian length, the masked CRC32C of those 8 bytes, the data,
// and the masked CRC32C of the data (mask: ((crc >> 15) | (crc << 17)) + 0xa282ead8).
import CohortCore
import Foundation

/// Frames and unframes TFRecord records.
public enum TFRecord {
    /// Plain CRC32C (Castagnoli) of `bytes`.
    public static func crc32c(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { EventCodec.crc32c($0) } }

    /// TFRecord's masked CRC32C of `bytes`.
    public static func maskedCRC32C(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { EventCodec.maskedCRC32C($0) } }

    /// The framed record: 8 + 4 + `data.count` + 4 bytes.
    public static func frame(_ data: [UInt8]) -> [UInt8] {
        let length = littleEndian(UInt64(data.count))
        var out = length
        out.reserveCapacity(16 + data.count)
        out += littleEndian(maskedCRC32C(length))
        out += data
        out += littleEndian(maskedCRC32C(data))
        return out
    }

    /// The records of a TFRecord file's bytes, both CRCs checked. An incomplete last
    /// record (a writer still running, or one that crashed) ends the list without error.
    /// - Throws: `CohortError.badFile` naming `path` and the record's byte offset on a CRC mismatch.
    public static func records(_ bytes: [UInt8], path: String) throws -> [[UInt8]] {
        var out: [[UInt8]] = [], at = 0
        while bytes.count - at >= 12 {
            let lengthBytes = Array(bytes[at..<at + 8])
            guard readUInt32(bytes, at + 8) == maskedCRC32C(lengthBytes) else {
                throw CohortError.badFile(path: path, "record at byte \(at): length CRC mismatch")
            }
            let length = lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard length <= UInt64(bytes.count - at - 16) else { break }
            let data = Array(bytes[at + 12..<at + 12 + Int(length)])
            guard readUInt32(bytes, at + 12 + Int(length)) == maskedCRC32C(data) else {
                throw CohortError.badFile(path: path, "record at byte \(at): data CRC mismatch")
            }
            out.append(data)
            at += 16 + Int(length)
        }
        return out
    }

    static func littleEndian<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }
    }

    static func readUInt32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(b[at + $1]) << (8 * $1) }
    }
}
