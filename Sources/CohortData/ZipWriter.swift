// Writing ZIP archives of stored (uncompressed) members, ZIP64 where needed, to any
// `ZipOutput`: a streaming file (checkpoint exports, `cohort ckpt export`) or bytes
// in memory (`NPZ.encode`). Each member's CRC-32 is computed as its bytes stream
// through and patched into its local header, so a member is never held whole.
import CohortCore

/// Where a `ZipWriter` writes: sequential appends plus patches of bytes already written.
public protocol ZipOutput: AnyObject {
    /// Bytes appended so far.
    var position: UInt64 { get }
    /// Appends `bytes`.
    func append(_ bytes: UnsafeRawBufferPointer) throws
    /// Overwrites bytes already appended, starting at `offset`.
    func patch(_ bytes: [UInt8], at offset: UInt64) throws
}

extension ZipOutput {
    /// Appends a byte array.
    public func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }
}

/// A `ZipOutput` collecting the archive in memory.
public final class ZipMemoryOutput: ZipOutput {
    /// The archive so far.
    public private(set) var bytes: [UInt8] = []
    public init() {}
    public var position: UInt64 { UInt64(bytes.count) }
    public func append(_ bytes: UnsafeRawBufferPointer) throws { self.bytes.append(contentsOf: bytes) }
    public func patch(_ bytes: [UInt8], at offset: UInt64) throws {
        self.bytes.replaceSubrange(Int(offset)..<Int(offset) + bytes.count, with: bytes)
    }
}

/// A zip archive of stored (uncompressed) entries, with ZIP64 records where sizes,
/// offsets or the entry count need them (APPNOTE 6.3, sections 4.3 and 4.5.3).
public final class ZipWriter {
    private struct Entry { var name: [UInt8]; var crc: UInt32; var size: UInt64; var offset: UInt64 }
    private let out: any ZipOutput
    private let forceZip64: Bool
    private var entries: [Entry] = []
    private static let max32: UInt64 = 0xFFFF_FFFF
    /// 1980-01-01 00:00:00 in MS-DOS format, so the same checkpoint gives the same bytes.
    private static let dosTime: UInt16 = 0, dosDate: UInt16 = (1 << 5) | 1
    private static let utf8Names: UInt16 = 1 << 11

    /// A writer appending to `out`; `forceZip64` writes ZIP64 records even where they are not needed (tests).
    public init(_ out: any ZipOutput, forceZip64: Bool = false) { self.out = out; self.forceZip64 = forceZip64 }

    /// Adds entry `name` of exactly `size` bytes, produced by `body` through `append`.
    /// - Throws: what `out` throws, or `CohortError.invalidArgument` if `body` appends other than `size` bytes.
    public func addStored(name: String, size: UInt64,
                   _ body: (_ append: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let offset = out.position
        let nameBytes = Array(name.utf8)
        let big = forceZip64 || size >= Self.max32
        var h: [UInt8] = []
        func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { h += $0 } }
        le(UInt32(0x0403_4B50)); le(UInt16(big ? 45 : 10)); le(Self.utf8Names); le(UInt16(0))
        le(Self.dosTime); le(Self.dosDate); le(UInt32(0))   // CRC-32: patched below
        le(UInt32(big ? Self.max32 : size)); le(UInt32(big ? Self.max32 : size))
        le(UInt16(nameBytes.count)); le(UInt16(big ? 20 : 0))
        h += nameBytes
        if big { le(UInt16(1)); le(UInt16(16)); le(size); le(size) }
        try out.append(h)
        var crc: UInt32 = 0
        var written: UInt64 = 0
        try body { bytes in
            crc = CRC32.checksum(bytes, continuing: crc)
            written += UInt64(bytes.count)
            try out.append(bytes)
        }
        guard written == size else { throw CohortError.invalidArgument("zip entry \(name) has \(written) bytes, expected \(size)") }
        try out.patch(withUnsafeBytes(of: crc.littleEndian, Array.init), at: offset + 14)
        entries.append(Entry(name: nameBytes, crc: crc, size: size, offset: offset))
    }

    /// Writes the central directory and end records; returns whether ZIP64 was used.
    @discardableResult
    public func finish() throws -> Bool {
        let cdOffset = out.position
        var anyZip64 = forceZip64
        for e in entries {
            let bigSize = forceZip64 || e.size >= Self.max32, bigOffset = forceZip64 || e.offset >= Self.max32
            anyZip64 = anyZip64 || bigSize || bigOffset
            var extra: [UInt8] = []
            func x<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { extra += $0 } }
            if bigSize || bigOffset {
                x(UInt16(1)); x(UInt16((bigSize ? 16 : 0) + (bigOffset ? 8 : 0)))
                if bigSize { x(e.size); x(e.size) }
                if bigOffset { x(e.offset) }
            }
            var h: [UInt8] = []
            func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { h += $0 } }
            le(UInt32(0x0201_4B50)); le(UInt16(3 << 8 | 45)); le(UInt16(bigSize || bigOffset ? 45 : 10))
            le(Self.utf8Names); le(UInt16(0)); le(Self.dosTime); le(Self.dosDate); le(e.crc)
            le(UInt32(bigSize ? Self.max32 : e.size)); le(UInt32(bigSize ? Self.max32 : e.size))
            le(UInt16(e.name.count)); le(UInt16(extra.count)); le(UInt16(0)); le(UInt16(0)); le(UInt16(0))
            le(UInt32(0o100644) << 16)
            le(UInt32(bigOffset ? Self.max32 : e.offset))
            try out.append(h + e.name + extra)
        }
        let cdSize = out.position - cdOffset
        let count = UInt64(entries.count)
        var t: [UInt8] = []
        func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { t += $0 } }
        let big = anyZip64 || count >= 0xFFFF || cdSize >= Self.max32 || cdOffset >= Self.max32
        if big {
            let eocd64 = out.position
            le(UInt32(0x0606_4B50)); le(UInt64(44)); le(UInt16(3 << 8 | 45)); le(UInt16(45))
            le(UInt32(0)); le(UInt32(0)); le(count); le(count); le(cdSize); le(cdOffset)
            le(UInt32(0x0706_4B50)); le(UInt32(0)); le(eocd64); le(UInt32(1))
        }
        le(UInt32(0x0605_4B50)); le(UInt16(0)); le(UInt16(0))
        le(UInt16(big ? 0xFFFF : count)); le(UInt16(big ? 0xFFFF : count))
        le(UInt32(big ? Self.max32 : cdSize)); le(UInt32(big ? Self.max32 : cdOffset)); le(UInt16(0))
        try out.append(t)
        return big
    }
}
