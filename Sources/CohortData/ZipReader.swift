// Reading ZIP archives (APPNOTE 6.3): the central directory, zip64 sizes and
// offsets included, each member found through its local header, checked against
// the archive's size and verified by CRC-32 (stored) or by zlib (DEFLATE, framed as
// a gzip stream: both are raw DEFLATE followed by the same CRC-32 and the length
// mod 2^32). `NPZ` reads `.npz` files through it; `ZipWriter` is its counterpart.
import CohortCore

/// One file in a ZIP central directory.
struct ZipEntry {
    let name: String
    let flags: Int
    let method: Int
    let crc: UInt32
    let compressedSize: Int
    let size: Int
    let localHeaderOffset: Int

    /// The member's uncompressed bytes, CRC-checked.
    /// - Throws: `CohortError.badFile(path:, _)` naming the member.
    func content(_ zip: [UInt8], path: String) throws -> [UInt8] {
        func fail(_ why: String) -> CohortError { .badFile(path: path, "member '\(name)': \(why)") }
        guard flags & 1 == 0 else { throw fail("encrypted members are not supported") }
        let r = ZipByteReader(zip)
        guard let sig = r.u32(localHeaderOffset), sig == 0x0403_4B50, let n = r.u16(localHeaderOffset + 26),
              let e = r.u16(localHeaderOffset + 28) else {
            throw fail("no local file header at offset \(localHeaderOffset) (archive of \(zip.count) bytes): corrupt or truncated")
        }
        let start = localHeaderOffset + 30 + n + e
        guard start <= zip.count, compressedSize <= zip.count - start else {
            throw fail("truncated archive: the member's data needs bytes \(start)..<\(start + compressedSize), "
                + "but the file has \(zip.count) bytes")
        }
        let data = Array(zip[start..<start + compressedSize])
        switch method {
        case 0:
            guard compressedSize == size else { throw fail("stored member of \(compressedSize) bytes declares \(size) bytes") }
            guard CRC32.checksum(data) == crc else { throw fail("CRC-32 mismatch: the data is corrupt") }
            return data
        case 8:
            return try inflate(data, fail)
        default:
            throw fail("compression method \(method) is not supported (only 0, stored, and 8, DEFLATE)")
        }
    }

    /// Inflates raw DEFLATE `data` framed as gzip, so zlib checks the CRC-32 and length too.
    private func inflate(_ data: [UInt8], _ fail: (String) -> CohortError) throws -> [UInt8] {
        let header: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        let trailer = [crc, UInt32(truncatingIfNeeded: size)].flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) } }
        do {
            let inflater = try GzipInflater(header + data + trailer, path: name)
            var out: [UInt8] = []
            let bound = data.count.multipliedReportingOverflow(by: 1032)   // DEFLATE expands at most 1032:1
            out.reserveCapacity(bound.overflow ? size : min(size, bound.partialValue))
            var end = try inflater.read(size, into: &out)
            var extra: [UInt8] = []
            if end == .more { end = try inflater.read(1, into: &extra) }
            guard out.count == size, end == .end else {
                throw fail("corrupt DEFLATE data: it inflates to \(out.count + extra.count)\(end == .more ? " or more" : "") bytes, "
                    + "but the archive declares \(size)")
            }
            return out
        } catch let CohortError.badFile(_, why) where why.hasPrefix("bad gzip stream") {
            throw fail("corrupt DEFLATE data: \(why.dropFirst("bad gzip stream: ".count))")
        }
    }
}

/// The central directory of a ZIP archive (zip64 sizes and offsets included).
struct ZipDirectory {
    let entries: [ZipEntry]

    /// Finds and parses the central directory.
    /// - Throws: `CohortError.badFile(path:, _)` if there is none or it lies outside the file.
    init(_ zip: [UInt8], path: String) throws {
        func fail(_ why: String) -> CohortError { .badFile(path: path, why) }
        let r = ZipByteReader(zip)
        let lowest = max(0, zip.count - 22 - 0xFFFF)
        guard zip.count >= 22,
              let eocd = stride(from: zip.count - 22, through: lowest, by: -1).first(where: { r.u32($0) == 0x0605_4B50 }) else {
            let hint = zip.starts(with: NPY.magic) ? " (this is a .npy file: read it with NPY.read)" : ""
            throw fail("not a ZIP archive, or a truncated one: no end-of-central-directory record found in \(zip.count) bytes"
                + "\(hint); an .npz file is a ZIP archive of .npy files")
        }
        var count = r.u16(eocd + 10)!, size = r.u32(eocd + 12)!, offset = r.u32(eocd + 16)!
        if count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            // zip64: a locator just before the record points to the zip64 end-of-central-directory record.
            guard eocd >= 20, r.u32(eocd - 20) == 0x0706_4B50, let at = r.u64(eocd - 12), r.u32(at) == 0x0606_4B50,
                  let c = r.u64(at + 32), let s = r.u64(at + 40), let o = r.u64(at + 48) else {
                throw fail("bad ZIP archive: the zip64 end-of-central-directory record is missing or corrupt")
            }
            (count, size, offset) = (c, s, o)
        }
        guard offset <= eocd, size <= eocd - offset else {
            throw fail("truncated or corrupt ZIP archive: the central directory (\(size) bytes at offset \(offset)) "
                + "lies outside the \(zip.count)-byte file")
        }
        var entries: [ZipEntry] = []
        var p = offset
        for k in 0..<count {
            guard r.u32(p) == 0x0201_4B50, p + 46 <= offset + size, let n = r.u16(p + 28), let e = r.u16(p + 30),
                  let c = r.u16(p + 32), p + 46 + n + e + c <= offset + size else {
                throw fail("corrupt ZIP central directory: entry \(k + 1) of \(count) at offset \(p) is malformed")
            }
            let name = String(decoding: zip[p + 46..<p + 46 + n], as: UTF8.self)
            var fields: [Int] = [r.u32(p + 24)!, r.u32(p + 20)!, r.u32(p + 42)!]   // size, compressed, offset
            try Self.applyZip64(r, extra: p + 46 + n..<p + 46 + n + e, to: &fields) {
                fail("corrupt ZIP central directory: member '\(name)' has a bad zip64 extra field")
            }
            let flags = r.u16(p + 8)!, method = r.u16(p + 10)!, crc = UInt32(r.u32(p + 16)!)
            entries.append(ZipEntry(name: name, flags: flags, method: method, crc: crc,
                                    compressedSize: fields[1], size: fields[0], localHeaderOffset: fields[2]))
            p += 46 + n + e + c
        }
        self.entries = entries
    }

    /// Replaces each of `fields` equal to 0xFFFFFFFF by the next 8-byte value of the zip64 extra field (id 1).
    private static func applyZip64(_ r: ZipByteReader, extra: Range<Int>, to fields: inout [Int],
                                   _ corrupt: () -> CohortError) throws {
        guard fields.contains(0xFFFF_FFFF) else { return }
        var q = extra.lowerBound
        while q + 4 <= extra.upperBound {
            let id = r.u16(q)!, length = r.u16(q + 2)!
            if id == 1 {
                var v = q + 4
                for k in fields.indices where fields[k] == 0xFFFF_FFFF {
                    guard v + 8 <= q + 4 + length, let x = r.u64(v) else { throw corrupt() }
                    fields[k] = x
                    v += 8
                }
                return
            }
            q += 4 + length
        }
        throw corrupt()
    }
}

/// Bounds-checked little-endian reads; nil past the end (or for values beyond `Int`).
struct ZipByteReader {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func u16(_ at: Int) -> Int? { read(at, 2) }
    func u32(_ at: Int) -> Int? { read(at, 4) }
    func u64(_ at: Int) -> Int? { read(at, 8) }

    private func read(_ at: Int, _ n: Int) -> Int? {
        guard at >= 0, at <= bytes.count - n else { return nil }
        let v = bytes[at..<at + n].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return v <= UInt64(Int.max) ? Int(v) : nil
    }
}
