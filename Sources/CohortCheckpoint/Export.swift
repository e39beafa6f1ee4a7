// Exporting a checkpoint's tensors to formats other tools read: NumPy `.npz`
// (a stored, uncompressed zip of `.npy` files, ZIP64 when needed) and
// safetensors. Tensors stream through one chunk-sized buffer, so an export
// needs about 64 MiB of memory whatever the checkpoint's size. docs/checkpoint-format.md.
import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// CRC-32 as used by zip, gzip and PNG (reflected polynomial 0xEDB88320, initial
/// value and final XOR 0xFFFFFFFF): `checksum("123456789") == 0xCBF43926`. Not to be
/// confused with `CRC32C`, which checkpoints use.
public enum CRC32 {
    /// Slicing-by-8 tables: `table[k * 256 + b]` advances a byte `b` followed by `k` zero bytes.
    private static let table: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
            t[i] = c
        }
        for k in 1..<8 { for i in 0..<256 { t[k * 256 + i] = (t[(k - 1) * 256 + i] >> 8) ^ t[Int(t[(k - 1) * 256 + i] & 0xFF)] } }
        return t
    }()

    /// CRC-32 of `bytes`, continuing from `crc` (0 to start).
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        table.withUnsafeBufferPointer { t in
            var c = ~crc
            var i = 0
            let n = bytes.count
            while i + 8 <= n {
                let lo = c ^ (UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
                c = t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(bytes[i + 4])] ^ t[2 * 256 + Int(bytes[i + 5])]
                    ^ t[1 * 256 + Int(bytes[i + 6])] ^ t[Int(bytes[i + 7])]
                i += 8
            }
            while i < n {
                c = (c >> 8) ^ t[Int((c ^ UInt32(bytes[i])) & 0xFF)]
                i += 1
            }
            return ~c
        }
    }

    /// CRC-32 of a byte array.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }
}

/// Reads one tensor's bytes in order, one CRC32C-checked chunk at a time, so at
/// most one chunk (≤ 64 MiB) is in memory however large the tensor is.
public final class TensorStream {
    /// The tensor being read.
    public let record: TensorRecord
    /// Bytes not yet returned.
    public private(set) var remaining: UInt64
    private let files: Checkpoint.DataFiles
    private let buffer: UnsafeMutableRawBufferPointer
    private var nextChunk = 0
    private var start = 0, end = 0   // unread bytes of the current chunk: buffer[start..<end]

    /// Opens tensor `name` of `checkpoint` for sequential reading.
    /// - Throws: `CheckpointError.mismatch` if there is no such tensor.
    public convenience init(_ checkpoint: Checkpoint, name: String) throws {
        guard let i = checkpoint.manifest.tensors.firstIndex(where: { $0.name == name }) else {
            throw CheckpointError.mismatch(path: checkpoint.path, "no tensor named \(name)")
        }
        try self.init(checkpoint, index: i)
    }

    /// Opens the tensor at `index` in `checkpoint.manifest.tensors` (constant time, for
    /// loops over every tensor of a checkpoint with many).
    /// - Throws: `CheckpointError.mismatch` if `index` is out of range.
    public init(_ checkpoint: Checkpoint, index: Int) throws {
        guard checkpoint.manifest.tensors.indices.contains(index) else {
            throw CheckpointError.mismatch(path: checkpoint.path, "no tensor number \(index) (it has \(checkpoint.manifest.tensors.count))")
        }
        let r = checkpoint.manifest.tensors[index]
        record = r
        remaining = r.byteLength
        files = Checkpoint.DataFiles(root: checkpoint.path)
        // Chunk lengths were checked against the 64 MiB limit when the checkpoint was opened.
        let largest = Int(r.chunks.map(\.length).max() ?? 0)
        buffer = .allocate(byteCount: max(largest, 1), alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// Copies the next `min(destination.count, remaining)` bytes into `destination`
    /// and returns that count (0 at the end).
    /// - Throws: `CheckpointError.corrupt` naming the tensor and file if a chunk fails its CRC32C.
    public func read(into destination: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < destination.count {
            if start == end {
                guard try loadChunk() else { break }
                continue
            }
            let n = min(end - start, destination.count - done)
            (destination.baseAddress! + done).copyMemory(from: buffer.baseAddress! + start, byteCount: n)
            start += n
            done += n
        }
        remaining -= UInt64(done)
        return done
    }

    /// Passes each remaining piece of the tensor (one chunk, already checked) to `body`.
    public func forEachPiece(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            if start == end { guard try loadChunk() else { return } }
            let piece = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
            remaining -= UInt64(piece.count)
            start = end
            try body(piece)
        }
    }

    /// Reads and checks the next non-empty chunk; false when there is none.
    private func loadChunk() throws -> Bool {
        while nextChunk < record.chunks.count {
            let c = record.chunks[nextChunk]
            nextChunk += 1
            let n = Int(c.length)
            try files.read(c, of: record.name, into: buffer.baseAddress!)
            if n > 0 { start = 0; end = n; return true }
        }
        return false
    }
}

/// The file formats `CheckpointExport` writes.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// NumPy `.npz`: an uncompressed zip of `<name>.npy` files.
    case npz
    /// safetensors: 8-byte header length, JSON header, raw little-endian data.
    case safetensors
}

/// One tensor as written to an export file.
public struct ExportedTensor: Sendable, Equatable {
    /// Name in the export (`model/` dropped, `optimizer/…` kept).
    public var name: String
    /// Name in the checkpoint.
    public var source: String
    /// Position of its record in the checkpoint's `manifest.tensors`.
    public var index: Int
    /// Shape, element type and size, as in the checkpoint.
    public var shape: [Int]
    public var dtype: DType
    public var byteLength: UInt64
}

/// What an export wrote.
public struct ExportSummary: Sendable {
    /// The file written.
    public var path: String
    public var format: ExportFormat
    /// What it holds, in file order.
    public var tensors: [ExportedTensor]
    /// Size of the written file.
    public var fileBytes: UInt64
    /// Whether the `.npz` needed (or was forced to use) ZIP64 records.
    public var zip64: Bool
}

/// Writes a checkpoint's tensors as `.npz` or `.safetensors`.
public enum CheckpointExport {
    /// Whether to use ZIP64 records: when sizes or counts need them, or always (tests).
    enum Zip64Policy { case automatic, always }

    /// The tensors an export holds, in manifest order: parameters as `<param>` (without
    /// `model/`), optimizer buffers as `optimizer/<buffer>/<param>` only if
    /// `includeOptimizer`, anything else under its own name.
    /// - Throws: `CheckpointError.io` if two tensors would get the same name or a name
    ///   is unusable in an archive (empty, control characters, `..`, absolute).
    public static func tensors(of checkpoint: Checkpoint, includeOptimizer: Bool) throws -> [ExportedTensor] {
        var out: [ExportedTensor] = []
        var seen = Set<String>()
        for (index, t) in checkpoint.manifest.tensors.enumerated() {
            if t.name.hasPrefix("optimizer/") && !includeOptimizer { continue }
            let name = t.name.hasPrefix("model/") ? String(t.name.dropFirst(6)) : t.name
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            guard !name.isEmpty, name != "__metadata__", !name.hasPrefix("/"), !name.contains("\\"),
                  !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
                  !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw CheckpointError.io(path: checkpoint.path, "cannot export tensor \(t.name): '\(name)' is not a usable name in an archive")
            }
            guard seen.insert(name).inserted else {
                throw CheckpointError.io(path: checkpoint.path, "cannot export: two tensors would both be named '\(name)'")
            }
            out.append(ExportedTensor(name: name, source: t.name, index: index, shape: t.shape, dtype: t.dtype, byteLength: t.byteLength))
        }
        return out
    }

    /// String metadata describing the checkpoint (step, epoch, versions, model,
    /// optimizer, user metadata as `metadata.<key>`, flags as `config.<key>`); keys unique.
    public static func metadata(of checkpoint: Checkpoint) -> [KeyValue] {
        let m = checkpoint.manifest
        var kv: [KeyValue] = [
            KeyValue("format", "cohort-checkpoint"), KeyValue("format_version", "\(m.formatVersion)"),
            KeyValue("cohort_version", m.cohortVersion), KeyValue("created_unix_ms", "\(m.createdUnixMs)"),
            KeyValue("step", "\(m.step)"), KeyValue("epoch", "\(m.epoch)"),
            KeyValue("global_batch_size", "\(m.globalBatchSize)"), KeyValue("world_size", "\(m.worldSize)"),
            KeyValue("model", m.model.name), KeyValue("model.parameter_count", "\(m.model.parameterCount)"),
        ]
        kv += m.model.settings.map { KeyValue("model.\($0.key)", $0.value) }
        if !m.optimizer.kind.isEmpty {
            kv += [KeyValue("optimizer", m.optimizer.kind), KeyValue("optimizer.step", "\(m.optimizer.step)")]
            kv += m.optimizer.hyperParameters.map { KeyValue("optimizer.\($0.name)", "\($0.value)") }
        }
        kv += m.metadata.map { KeyValue("metadata.\($0.key)", $0.value) }
        kv += m.trainingConfig.map { KeyValue("config.\($0.key)", $0.value) }
        kv.append(KeyValue("source", checkpoint.path))
        var seen = Set<String>()
        return kv.filter { seen.insert($0.key).inserted }
    }

    /// Writes `checkpoint`'s tensors to `path` in `format` (through a temporary file
    /// renamed into place, so a failed export leaves no partial file).
    /// - Throws: `CheckpointError.corrupt` for a damaged tensor (CRC32C mismatch),
    ///   `CheckpointError.io` for an unusable name, `CohortError.badFile` naming the
    ///   output file if it cannot be written.
    @discardableResult
    public static func write(_ checkpoint: Checkpoint, format: ExportFormat, to path: String,
                             includeOptimizer: Bool = false) throws -> ExportSummary {
        try write(checkpoint, format: format, to: path, includeOptimizer: includeOptimizer, zip64: .automatic)
    }

    @discardableResult
    static func write(_ checkpoint: Checkpoint, format: ExportFormat, to path: String, includeOptimizer: Bool,
                      zip64: Zip64Policy) throws -> ExportSummary {
        let tensors = try tensors(of: checkpoint, includeOptimizer: includeOptimizer)
        let tmp = path + ".tmp-\(getpid())"
        let out = try OutputFile(tmp, reportedAs: path)
        do {
            var usedZip64 = false
            switch format {
            case .npz: usedZip64 = try writeNPZ(checkpoint, tensors, out, zip64: zip64)
            case .safetensors: try writeSafetensors(checkpoint, tensors, out)
            }
            try out.finish()
            guard rename(tmp, path) == 0 else { throw CohortError.badFile(path: path, "cannot rename \(tmp) into place: \(FileIO.errorText())") }
            return ExportSummary(path: path, format: format, tensors: tensors, fileBytes: out.position, zip64: usedZip64)
        } catch {
            out.abandon()
            unlink(tmp)
            throw error
        }
    }

    // MARK: npz

    /// The `.npy` v1.0 header for a little-endian C-order array, padded to 64 bytes.
    static func npyHeader(shape: [Int], dtype: DType) -> [UInt8] {
        let descr: String
        switch dtype {
        case .float32: descr = "<f4"
        case .float64: descr = "<f8"
        case .int32: descr = "<i4"
        case .int64: descr = "<i8"
        case .uint8: descr = "|u1"
        }
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }".utf8)
        let unpadded = 10 + dict.count + 1
        dict += [UInt8](repeating: 0x20, count: (64 - unpadded % 64) % 64) + [0x0A]
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dict.count & 0xFF), UInt8(dict.count >> 8)] + dict
    }

    private static func writeNPZ(_ checkpoint: Checkpoint, _ tensors: [ExportedTensor], _ out: OutputFile,
                                 zip64 policy: Zip64Policy) throws -> Bool {
        let zip = ZipWriter(out, forceZip64: policy == .always)
        for t in tensors {
            let header = npyHeader(shape: t.shape, dtype: t.dtype)
            let stream = try TensorStream(checkpoint, index: t.index)
            try zip.addStored(name: t.name + ".npy", size: UInt64(header.count) + t.byteLength) { append in
                try header.withUnsafeBytes { try append($0) }
                try stream.forEachPiece(append)
            }
        }
        return try zip.finish()
    }

    // MARK: safetensors

    static let safetensorsDType: [DType: String] = [.float32: "F32", .float64: "F64", .int32: "I32", .int64: "I64", .uint8: "U8"]

    /// A JSON string literal.
    static func json(_ s: String) -> String { jsonStringLiteral(s) }

    /// The safetensors JSON header (without padding): tensors in order, data contiguous.
    static func safetensorsHeader(_ tensors: [ExportedTensor], metadata: [KeyValue]) -> String {
        var parts = ["\"__metadata__\":{" + metadata.map { json($0.key) + ":" + json($0.value) }.joined(separator: ",") + "}"]
        var offset: UInt64 = 0
        for t in tensors {
            let shape = "[" + t.shape.map(String.init).joined(separator: ",") + "]"
            parts.append(json(t.name) + ":{\"dtype\":\"\(safetensorsDType[t.dtype]!)\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + t.byteLength)]}")
            offset += t.byteLength
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    private static func writeSafetensors(_ checkpoint: Checkpoint, _ tensors: [ExportedTensor], _ out: OutputFile) throws {
        var header = Array(safetensorsHeader(tensors, metadata: metadata(of: checkpoint)).utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        try out.appendLE(UInt64(header.count))
        try header.withUnsafeBytes { try out.append($0) }
        for t in tensors { try TensorStream(checkpoint, index: t.index).forEachPiece(out.append) }
    }
}

/// A file written sequentially through a buffer, with positional patches (zip CRCs).
/// Its errors are `CohortError.badFile` naming the output path: it is not a checkpoint.
final class OutputFile {
    private var fd: Int32
    private let path: String
    private var pending: [UInt8] = []
    /// Bytes appended so far.
    private(set) var position: UInt64 = 0

    init(_ tmpPath: String, reportedAs path: String) throws {
        self.path = path
        fd = open(tmpPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CohortError.badFile(path: path, "cannot create: \(FileIO.errorText())") }
        pending.reserveCapacity(1 << 16)
    }

    deinit { if fd >= 0 { close(fd) } }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        if bytes.count >= 1 << 16 {
            try flush()
            if let b = bytes.baseAddress { try io { try FileIO.writeAll(fd, b, bytes.count, path: path) } }
        } else {
            pending.append(contentsOf: bytes)
            if pending.count >= 1 << 16 { try flush() }
        }
        position += UInt64(bytes.count)
    }

    func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }

    func appendLE<T: FixedWidthInteger>(_ v: T) throws { try withUnsafeBytes(of: v.littleEndian) { try append($0) } }

    /// Overwrites bytes already appended at `offset`.
    func patch(_ bytes: [UInt8], at offset: UInt64) throws {
        try flush()
        let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard n == bytes.count else { throw CohortError.badFile(path: path, "write failed: \(FileIO.errorText())") }
    }

    private func flush() throws {
        guard !pending.isEmpty else { return }
        try io { try pending.withUnsafeBytes { try FileIO.writeAll(fd, $0.baseAddress!, $0.count, path: path) } }
        pending.removeAll(keepingCapacity: true)
    }

    /// Flushes, fsyncs and closes.
    func finish() throws {
        try flush()
        try io { try FileIO.fsyncFile(fd, path: path) }
        let closing = fd
        fd = -1
        guard close(closing) == 0 else { throw CohortError.badFile(path: path, "close failed: \(FileIO.errorText())") }
    }

    /// FileIO reports checkpoint errors; this file is an export.
    private func io(_ body: () throws -> Void) throws {
        do { try body() } catch let CheckpointError.io(_, message) { throw CohortError.badFile(path: path, message) }
    }

    /// Closes without flushing (the file is about to be removed).
    func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
    }
}

/// A zip archive of stored (uncompressed) entries, with ZIP64 records where sizes,
/// offsets or the entry count need them (APPNOTE 6.3, sections 4.3 and 4.5.3).
final class ZipWriter {
    private struct Entry { var name: [UInt8]; var crc: UInt32; var size: UInt64; var offset: UInt64 }
    private let out: OutputFile
    private let forceZip64: Bool
    private var entries: [Entry] = []
    private static let max32: UInt64 = 0xFFFF_FFFF
    /// 1980-01-01 00:00:00 in MS-DOS format, so the same checkpoint gives the same bytes.
    private static let dosTime: UInt16 = 0, dosDate: UInt16 = (1 << 5) | 1
    private static let utf8Names: UInt16 = 1 << 11

    init(_ out: OutputFile, forceZip64: Bool) { self.out = out; self.forceZip64 = forceZip64 }

    /// Adds entry `name` of exactly `size` bytes, produced by `body` through `append`.
    func addStored(name: String, size: UInt64,
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
    func finish() throws -> Bool {
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
