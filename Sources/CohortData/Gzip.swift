// gzip through zlib: a pull-style inflater that decompresses only as many bytes
// as the caller asks for (so a reader can check a header before allocating),
// and a one-shot compressor for writing fixtures. The only file importing CZlib.
import CZlib
import CohortCore

/// Internal gzip helpers; zlib types never leave this file.
enum Gzip {
    /// Whether `bytes` start with the gzip magic `1f 8b`.
    static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B }

    /// `bytes` as a single-member gzip stream (RFC 1952) at compression `level` (0…9), or with
    /// `zlibWrapper` a zlib stream (RFC 1950, what PNG's image data is).
    static func compress(_ bytes: [UInt8], level: Int32 = 6, zlibWrapper: Bool = false) -> [UInt8] {
        let strm = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        strm.initialize(to: z_stream())
        defer { deflateEnd(strm); strm.deinitialize(count: 1); strm.deallocate() }
        // 15: a 32 KiB window; + 16: with a gzip (not zlib) wrapper.
        let rc = deflateInit2_(strm, level, Z_DEFLATED, zlibWrapper ? 15 : 15 + 16, 8, Z_DEFAULT_STRATEGY,
                               zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "deflateInit2 failed (\(rc))")
        var out = [UInt8](repeating: 0, count: Int(deflateBound(strm, uLong(bytes.count))) + 64)
        var input = bytes
        let produced: Int = input.withUnsafeMutableBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf in
                strm.pointee.next_in = inBuf.baseAddress
                strm.pointee.avail_in = uInt(inBuf.count)
                strm.pointee.next_out = outBuf.baseAddress
                strm.pointee.avail_out = uInt(outBuf.count)
                let r = deflate(strm, Z_FINISH)
                precondition(r == Z_STREAM_END, "deflate did not finish (\(r)) despite deflateBound")
                return Int(strm.pointee.total_out)
            }
        }
        out.removeLast(out.count - produced)
        return out
    }
}

/// How a call to `GzipInflater.read` ended.
enum InflateStatus: Equatable {
    /// The requested bytes were produced and the stream continues.
    case more
    /// The compressed stream ended (checksums verified); fewer bytes may have been produced.
    case end
    /// The compressed input ran out before the stream's end: a truncated file.
    case truncated
}

/// Decompresses a gzip (or zlib) stream held in memory, a requested number of
/// bytes at a time. Owns its `z_stream` and a copy of the input; frees both in `deinit`.
final class GzipInflater {
    private let strm: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let path: String
    private var ended = false

    /// Starts inflating `compressed`; `path` is used in error messages.
    /// - Throws: `CohortError.badFile` if zlib cannot be initialised.
    init(_ compressed: [UInt8], path: String) throws {
        self.path = path
        input = .allocate(capacity: max(compressed.count, 1))
        _ = input.initialize(from: compressed)
        // zlib keeps a back-pointer to the stream, so it needs a fixed address.
        strm = .allocate(capacity: 1)
        strm.initialize(to: z_stream())
        strm.pointee.next_in = input.baseAddress
        strm.pointee.avail_in = uInt(compressed.count)
        // 15 + 32: 32 KiB window, detect a gzip or zlib header automatically.
        let rc = inflateInit2_(strm, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            strm.deallocate(); input.deallocate()
            throw CohortError.badFile(path: path, "cannot start gzip decompression (zlib error \(rc))")
        }
    }

    deinit {
        inflateEnd(strm)
        strm.deinitialize(count: 1)
        strm.deallocate()
        input.deallocate()
    }

    /// Decompressed bytes produced so far (over all gzip members).
    private(set) var totalOut = 0

    /// Inflates the rest of the stream into a small scratch buffer and discards it, only to
    /// verify it: used when the content looks wrong, because a corrupt stream explains that better.
    /// - Throws: `CohortError.badFile` for a corrupt stream.
    func drain() throws {
        var scratch: [UInt8] = []
        scratch.reserveCapacity(1 << 16)
        while try read(1 << 16, into: &scratch) == .more { scratch.removeAll(keepingCapacity: true) }
    }

    /// Appends up to `count` decompressed bytes to `out`, growing it as data
    /// actually arrives (never by more than 1 MiB beyond what was produced).
    /// - Returns: `.more` once `count` bytes were appended; `.end` or `.truncated` if the stream stopped first.
    /// - Throws: `CohortError.badFile` for a corrupt stream (bad header, data or CRC).
    func read(_ count: Int, into out: inout [UInt8]) throws -> InflateStatus {
        var remaining = count
        while remaining > 0 {
            if ended { return .end }
            let chunk = min(remaining, 1 << 20)
            let start = out.count
            out += [UInt8](repeating: 0, count: chunk)   // memset + memcpy, fast even in debug builds
            let (rc, produced) = out.withUnsafeMutableBufferPointer { buf -> (Int32, Int) in
                strm.pointee.next_out = buf.baseAddress! + start
                strm.pointee.avail_out = uInt(chunk)
                let rc = inflate(strm, Z_NO_FLUSH)
                return (rc, chunk - Int(strm.pointee.avail_out))
            }
            out.removeLast(chunk - produced)
            remaining -= produced
            totalOut += produced
            switch rc {
            case Z_OK:
                continue
            case Z_STREAM_END:
                // A file may hold several concatenated gzip members (RFC 1952 §2.2).
                let rest = Int(strm.pointee.avail_in)
                if rest >= 2, strm.pointee.next_in[0] == 0x1F, strm.pointee.next_in[1] == 0x8B {
                    inflateReset(strm)
                    continue
                }
                if rest > 0 {
                    throw CohortError.badFile(path: path, "bad gzip stream: \(rest) unexpected bytes after the end of the compressed data")
                }
                ended = true
                return .end
            case Z_BUF_ERROR:
                // No progress possible: with output space left, that means the input ran out.
                if strm.pointee.avail_in == 0 { return .truncated }
                throw CohortError.badFile(path: path, "bad gzip stream: zlib made no progress after \(totalOut) decompressed bytes")
            default:
                let detail = strm.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                throw CohortError.badFile(path: path, "bad gzip stream: \(detail) (after \(totalOut) decompressed bytes)")
            }
        }
        return .more
    }
}
