// Reading a checkpoint: the manifest envelope is checked (magic, version,
// lengths, two CRCs) and every record is validated against the actual file
// sizes before anything is allocated; tensor bytes are CRC-checked as they are
// read. A hostile or damaged checkpoint produces a CheckpointError, never a crash.
#if canImport(Glibc)
import Glibc
#endif

/// An opened, structurally validated checkpoint.
public final class Checkpoint {
    /// The checkpoint directory.
    public let path: String
    /// Its manifest.
    public let manifest: Manifest
    /// Tensor name → index into `manifest.tensors` (names are unique once validated).
    private let index: [String: Int]

    /// The record named `name`, if present.
    public func record(_ name: String) -> TensorRecord? { index[name].map { manifest.tensors[$0] } }

    /// Opens the checkpoint at `path` (a `step-…` directory) and validates its
    /// manifest and layout against the files present and `limits`. Does not read tensor data.
    public init(path: String, limits: CheckpointLimits = .standard) throws {
        self.path = path
        guard FileIO.isDirectory(path) else { throw CheckpointError.notFound("no checkpoint directory at \(path)") }
        let mpath = path + "/" + CheckpointLayout.manifestName
        guard let size = FileIO.fileSize(mpath) else {
            throw CheckpointError.corrupt(path: path, "\(CheckpointLayout.manifestName) is missing (the save did not complete)")
        }
        let header = CheckpointLayout.headerSize
        guard size >= UInt64(header) else {
            throw CheckpointError.corrupt(path: path, "\(CheckpointLayout.manifestName) is truncated (\(size) bytes, the header alone is \(header))")
        }
        let fd = open(mpath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CheckpointError.io(path: mpath, "cannot open: \(FileIO.errorText())") }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: header)
        try head.withUnsafeMutableBytes { try FileIO.readExactly(fd, $0.baseAddress!, header, offset: 0, path: mpath) }
        guard Array(head[0..<8]) == CheckpointLayout.magic else {
            throw CheckpointError.corrupt(path: path, "\(CheckpointLayout.manifestName) does not start with the Cohort checkpoint magic")
        }
        func le<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            var v: T = 0
            for i in 0..<MemoryLayout<T>.size { v |= T(head[at + i]) << (8 * i) }
            return v
        }
        guard CRC32C.checksum(Array(head[0..<24])) == le(24, UInt32.self) else {
            throw CheckpointError.corrupt(path: path, "manifest header checksum mismatch")
        }
        let version = le(8, UInt32.self), length = le(12, UInt64.self), crc = le(20, UInt32.self)
        guard version == Manifest.currentFormatVersion else {
            throw CheckpointError.corrupt(path: path, "format version \(version) is not supported (this Cohort reads version \(Manifest.currentFormatVersion))")
        }
        guard length <= UInt64(limits.maxManifestBytes) else {
            throw CheckpointError.corrupt(path: path, "the manifest payload of \(length) bytes exceeds the reader's limit of "
                                          + CheckpointLimits.describe(bytes: limits.maxManifestBytes))
        }
        guard length == size - UInt64(header) else {
            throw CheckpointError.corrupt(path: path, "the manifest header declares a \(length)-byte payload but \(CheckpointLayout.manifestName) "
                                          + "holds \(size - UInt64(header)) bytes after its \(header)-byte header (truncated or appended to)")
        }
        var payload = [UInt8](repeating: 0, count: Int(length))
        try payload.withUnsafeMutableBytes { try FileIO.readExactly(fd, $0.baseAddress!, Int(length), offset: UInt64(header), path: mpath) }
        guard CRC32C.checksum(payload) == crc else {
            throw CheckpointError.corrupt(path: path, "manifest checksum mismatch (the manifest was modified or damaged)")
        }
        let m: Manifest
        do { m = try ManifestCodec.decode(payload) } catch let e as ManifestCodec.DecodeError {
            throw CheckpointError.corrupt(path: path, "manifest: \(e.message)")
        }
        guard m.formatVersion == version else { throw CheckpointError.corrupt(path: path, "manifest version \(m.formatVersion) differs from its envelope (\(version))") }
        try Checkpoint.validateLayout(m, path: path, limits: limits)
        manifest = m
        var idx: [String: Int] = [:]
        for (i, t) in m.tensors.enumerated() { idx[t.name] = i }
        index = idx
    }

    /// Checks every record against the data files before anything is read.
    static func validateLayout(_ m: Manifest, path: String, limits: CheckpointLimits = .standard) throws {
        // Never above the standard chunk: `verify` reads into a buffer of that size.
        let chunkLimit = min(limits.maxChunkBytes, CheckpointLayout.chunkBytes)
        var names = Set<String>()
        var sizes: [String: UInt64] = [:]
        // Every non-empty chunk, to rule out overlaps: then the records together claim
        // no more bytes than the data files hold, so no read allocates beyond that.
        var ranges: [(file: String, offset: UInt64, length: UInt64, tensor: String)] = []
        for t in m.tensors {
            guard names.insert(t.name).inserted else { throw CheckpointError.corrupt(path: path, "tensor \(t.name) appears twice") }
            var elements = 1
            for d in t.shape {
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw CheckpointError.corrupt(path: path, "tensor \(t.name): shape \(t.shape) overflows") }
                elements = p
            }
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: t.dtype.size)
            guard !overflow, UInt64(bytes) == t.byteLength else {
                throw CheckpointError.corrupt(path: path, "tensor \(t.name): shape \(t.shape) × \(t.dtype.size) bytes does not equal its byte length \(t.byteLength)")
            }
            var total: UInt64 = 0
            for c in t.chunks {
                guard !c.file.isEmpty, !c.file.contains("/"), c.file != ".", c.file != ".." else {
                    throw CheckpointError.corrupt(path: path, "tensor \(t.name): invalid data file name '\(c.file)'")
                }
                guard c.length <= UInt64(chunkLimit) else {
                    throw CheckpointError.corrupt(path: path, "tensor \(t.name): chunk of \(c.length) bytes exceeds the \(chunkLimit)-byte limit")
                }
                let size: UInt64
                if let s = sizes[c.file] { size = s } else {
                    guard let s = FileIO.fileSize(path + "/" + c.file) else {
                        throw CheckpointError.corrupt(path: path, "tensor \(t.name): data file \(c.file) is missing")
                    }
                    sizes[c.file] = s
                    size = s
                }
                let (end, o) = c.offset.addingReportingOverflow(c.length)
                guard !o, end <= size else {
                    throw CheckpointError.corrupt(path: path, "tensor \(t.name): data file \(c.file) is truncated (needs \(end) bytes, has \(size))")
                }
                total += c.length
                if c.length > 0 { ranges.append((c.file, c.offset, c.length, t.name)) }
            }
            guard total == t.byteLength else {
                throw CheckpointError.corrupt(path: path, "tensor \(t.name): chunks hold \(total) bytes, the record says \(t.byteLength)")
            }
        }
        ranges.sort { ($0.file, $0.offset) < ($1.file, $1.offset) }
        for (a, b) in zip(ranges, ranges.dropFirst()) where a.file == b.file && a.offset + a.length > b.offset {
            throw CheckpointError.corrupt(path: path, "tensors \(a.tensor) and \(b.tensor) overlap in \(a.file) at bytes \(b.offset)..<\(min(a.offset + a.length, b.offset + b.length))")
        }
    }

    /// Open data files of one read, verification or export pass, closed together.
    final class DataFiles {
        let root: String
        var fds: [String: Int32] = [:]
        init(root: String) { self.root = root }
        deinit { for fd in fds.values { close(fd) } }

        /// Reads chunk `c` of tensor `tensor` into `dst` and checks its CRC32C.
        func read(_ c: Chunk, of tensor: String, into dst: UnsafeMutableRawPointer) throws {
            let fpath = root + "/" + c.file
            let fd: Int32
            if let f = fds[c.file] { fd = f } else {
                fd = open(fpath, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw CheckpointError.corrupt(path: root, "cannot open \(c.file): \(FileIO.errorText())") }
                fds[c.file] = fd
            }
            try FileIO.readExactly(fd, dst, Int(c.length), offset: c.offset, path: fpath)
            guard CRC32C.checksum(UnsafeRawPointer(dst), count: Int(c.length)) == c.crc32c else {
                throw CheckpointError.corrupt(path: root, "tensor \(tensor): checksum mismatch in \(c.file) at bytes \(c.offset)..<\(c.offset + c.length)")
            }
        }
    }

    /// Reads tensor `name` into `destination` (exactly its byte length), checking every chunk's CRC.
    public func read(_ name: String, into destination: UnsafeMutableRawBufferPointer) throws {
        guard let t = record(name) else { throw CheckpointError.mismatch(path: path, "no tensor named \(name)") }
        guard UInt64(destination.count) == t.byteLength else {
            throw CheckpointError.mismatch(path: path, "tensor \(name) has \(t.byteLength) bytes, the destination \(destination.count)")
        }
        let files = DataFiles(root: path)
        // An empty destination may have no base address; nothing is read through it then.
        let base = destination.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 1)!
        var done = 0
        for c in t.chunks {
            try files.read(c, of: name, into: base + done)
            done += Int(c.length)
        }
    }

    /// Reads a Float32 tensor into a new array.
    public func readFloats(_ name: String) throws -> [Float] {
        guard let t = record(name) else { throw CheckpointError.mismatch(path: path, "no tensor named \(name)") }
        guard t.dtype == .float32 else { throw CheckpointError.mismatch(path: path, "tensor \(name) is \(t.dtype), not float32") }
        var out = [Float](repeating: 0, count: t.count)
        try out.withUnsafeMutableBytes { try read(name, into: $0) }
        return out
    }

    /// Reads every tensor (in bounded chunks) and checks every checksum.
    public func verify() throws {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: CheckpointLayout.chunkBytes, alignment: 64)
        defer { buffer.deallocate() }
        let files = DataFiles(root: path)
        for t in manifest.tensors {
            for c in t.chunks { try files.read(c, of: t.name, into: buffer) }
        }
    }
}
