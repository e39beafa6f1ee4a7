// Exporting a checkpoint's tensors to formats other tools read: NumPy `.npz`
// (a stored, uncompressed zip of `.npy` files, ZIP64 when needed, written by
// CohortData's `ZipWriter` and `NPY.header`) and safetensors. Tensors stream through one chunk-sized buffer, so an export
// needs about 64 MiB of memory whatever the checkpoint's size. docs/checkpoint-format.md.
import CohortCore
import CohortData
#if canImport(Glibc)
import Glibc
#endif

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
    /// Written transposed (a name map's rule; 2-D float32 only): `shape` is the written shape.
    public var transposed = false
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
    /// With `nameMap`, model tensors get the map's names (transposed where it says so), and each
    /// of its ties adds a copy of the tied tensor under the other name.
    /// - Throws: `CheckpointError.io` if two tensors would get the same name or a name
    ///   is unusable in an archive (empty, control characters, `..`, absolute), or a transposed
    ///   tensor is not a 2-D float32 matrix.
    public static func tensors(of checkpoint: Checkpoint, includeOptimizer: Bool, nameMap: NameMap? = nil) throws -> [ExportedTensor] {
        var out: [ExportedTensor] = []
        var seen = Set<String>()
        for (index, t) in Array(checkpoint.manifest.tensors.enumerated()) + tiedCopies(checkpoint, nameMap) {
            if RecordName.isOptimizer(t.name) && !includeOptimizer { continue }
            let modelTensor = RecordName.modelTensor(of: t.name)
            var (name, transposed) = (modelTensor ?? t.name, false)
            var shape = t.shape
            if let nameMap, let modelTensor {
                (name, transposed) = nameMap.external(modelTensor)
                if let tie = nameMap.ties.first(where: { $0.cohortName == modelTensor }), index < 0 { name = tie.name }
                if transposed {
                    guard shape.count == 2, t.dtype == .float32 else {
                        throw CheckpointError.io(path: checkpoint.path, "cannot export \(t.name) transposed (name map \(nameMap.origin)): it is \(describeShape(shape)) \(t.dtype), not a 2-D float32 matrix")
                    }
                    shape = [shape[1], shape[0]]
                }
            }
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            guard !name.isEmpty, name != "__metadata__", !name.hasPrefix("/"), !name.contains("\\"),
                  !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
                  !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw CheckpointError.io(path: checkpoint.path, "cannot export tensor \(t.name): '\(name)' is not a usable name in an archive")
            }
            guard seen.insert(name).inserted else {
                throw CheckpointError.io(path: checkpoint.path, "cannot export: two tensors would both be named '\(name)'")
            }
            out.append(ExportedTensor(name: name, source: t.name, index: index < 0 ? -index - 1 : index, shape: shape,
                                      dtype: t.dtype, byteLength: t.byteLength, transposed: transposed))
        }
        return out
    }

    /// The checkpoint's tensors a tie of `nameMap` writes a second time, each with index −1 − its
    /// manifest index (so `tensors(of:)` can tell the copy).
    private static func tiedCopies(_ checkpoint: Checkpoint, _ nameMap: NameMap?) -> [(offset: Int, element: TensorRecord)] {
        let records = checkpoint.manifest.tensors
        var copies: [(offset: Int, element: TensorRecord)] = []
        for tie in nameMap?.ties ?? [] {
            if let i = records.firstIndex(where: { $0.name == RecordName.model(tie.cohortName) }) { copies.append((-i - 1, records[i])) }
        }
        return copies
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
        kv += m.model.settings.filter { applies($0.key, to: m.model.name) }.map { KeyValue("model.\($0.key)", $0.value) }
        if !m.optimizer.kind.isEmpty {
            kv += [KeyValue("optimizer", m.optimizer.kind), KeyValue("optimizer.step", "\(m.optimizer.step)")]
            kv += m.optimizer.hyperParameters.map { KeyValue("optimizer.\($0.name)", "\($0.value)") }
        }
        kv += inference(of: m)
        kv += m.metadata.filter { !$0.key.hasPrefix("inference.") }.map { KeyValue("metadata.\($0.key)", $0.value) }
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
                             includeOptimizer: Bool = false, nameMap: NameMap? = nil) throws -> ExportSummary {
        try write(checkpoint, format: format, to: path, includeOptimizer: includeOptimizer, nameMap: nameMap, zip64: .automatic)
    }

    @discardableResult
    static func write(_ checkpoint: Checkpoint, format: ExportFormat, to path: String, includeOptimizer: Bool,
                      nameMap: NameMap? = nil, zip64: Zip64Policy) throws -> ExportSummary {
        let tensors = try tensors(of: checkpoint, includeOptimizer: includeOptimizer, nameMap: nameMap)
        let metadata = metadata(of: checkpoint) + (nameMap.map { [KeyValue("names", $0.origin)] } ?? [])
        let tmp = path + ".tmp-\(getpid())"
        let out = try OutputFile(tmp, reportedAs: path)
        do {
            var usedZip64 = false
            switch format {
            case .npz: usedZip64 = try writeNPZ(checkpoint, tensors, hasInference(checkpoint.manifest) ? metadata : nil, out, zip64: zip64)
            case .safetensors: try writeSafetensors(checkpoint, tensors, metadata, out)
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

    /// The `.npy` dtype of each checkpoint element type (little-endian).
    static let npyDescr: [DType: String] = [.float32: "<f4", .float64: "<f8", .int32: "<i4", .int64: "<i8", .uint8: "|u1"]

    private static func writeNPZ(_ checkpoint: Checkpoint, _ tensors: [ExportedTensor], _ metadata: [KeyValue]?, _ out: OutputFile,
                                 zip64 policy: Zip64Policy) throws -> Bool {
        let zip = ZipWriter(out, forceZip64: policy == .always)
        for t in tensors {
            let header = NPY.header(shape: t.shape, descr: npyDescr[t.dtype]!)
            try zip.addStored(name: t.name + ".npy", size: UInt64(header.count) + t.byteLength) { append in
                try header.withUnsafeBytes { try append($0) }
                try data(of: t, in: checkpoint, append)
            }
        }
        if let metadata {
            let member = metadataMember(metadata)
            try zip.addStored(name: "__metadata__.npy", size: UInt64(member.count)) { append in try member.withUnsafeBytes { try append($0) } }
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

    private static func writeSafetensors(_ checkpoint: Checkpoint, _ tensors: [ExportedTensor], _ metadata: [KeyValue], _ out: OutputFile) throws {
        var header = Array(safetensorsHeader(tensors, metadata: metadata).utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        try out.appendLE(UInt64(header.count))
        try header.withUnsafeBytes { try out.append($0) }
        for t in tensors { try data(of: t, in: checkpoint, out.append) }
    }

    /// Passes `t`'s bytes to `append`: streamed chunk by chunk, or whole and transposed.
    private static func data(of t: ExportedTensor, in checkpoint: Checkpoint, _ append: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard t.transposed else { return try TensorStream(checkpoint, index: t.index).forEachPiece(append) }
        let values = try checkpoint.readFloats(t.source)
        let transposed = NameMap.transposed(values, rows: t.shape[1], columns: t.shape[0])
        try transposed.withUnsafeBytes { try append($0) }
    }
}

/// A file written sequentially through a buffer, with positional patches (zip CRCs).
/// Its errors are `CohortError.badFile` naming the output path: it is not a checkpoint.
final class OutputFile: ZipOutput {
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
