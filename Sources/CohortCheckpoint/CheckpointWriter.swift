// Writing a checkpoint directory with the commit protocol: everything goes into
// a hidden temporary directory (data files fsync'd, then the manifest, written
// last and fsync'd), the directory is fsync'd and renamed to `step-NNNNNNNN`,
// and the parent is fsync'd. A crash at any point leaves either the previous
// checkpoints untouched plus a temporary directory (ignored and cleaned up), or
// the new, complete checkpoint.
#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Bytes of one tensor to write. `bytes` must stay valid until the write returns;
/// `owner` (if any) keeps the memory alive (e.g. an asynchronous snapshot).
public struct TensorPayload: @unchecked Sendable {
    public var name: String
    /// The whole tensor's shape (also for a piece).
    public var shape: [Int]
    public var dtype: DType
    public var bytes: UnsafeRawBufferPointer
    public var owner: AnyObject?
    /// The elements `bytes` holds, in row-major order, when it is a piece of the tensor (one
    /// rank's part in a sharded save); nil: the whole tensor.
    public var elements: Range<Int>?
    public init(name: String, shape: [Int], dtype: DType = .float32, bytes: UnsafeRawBufferPointer, owner: AnyObject? = nil,
                elements: Range<Int>? = nil) {
        self.name = name; self.shape = shape; self.dtype = dtype; self.bytes = bytes; self.owner = owner; self.elements = elements
    }
}

/// Checkpoint file layout constants.
public enum CheckpointLayout {
    /// The manifest file inside a checkpoint directory.
    public static let manifestName = "manifest.pb"
    /// Envelope magic at the start of the manifest file.
    public static let magic: [UInt8] = Array("COHORTCK".utf8)
    /// Envelope header size: magic(8) version(4) length(8) payload-crc(4) header-crc(4).
    public static let headerSize = 28
    /// Largest chunk (one CRC each): bounded memory and no 2 GB limits anywhere.
    public static let chunkBytes = CheckpointLimits.standard.maxChunkBytes
    /// A data file is closed and a new one started past this size.
    public static let dataFileBytes: UInt64 = 1 << 30
    /// Largest manifest payload accepted by the reader.
    public static let maxManifestBytes = CheckpointLimits.standard.maxManifestBytes

    /// Directory name for a step: `step-00001200`.
    public static func directoryName(step: Int) -> String {
        let digits = String(step)
        return "step-" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// Step encoded in a directory name, if it is one.
    public static func step(fromDirectoryName name: String) -> Int? {
        guard name.hasPrefix("step-") else { return nil }
        let digits = name.dropFirst(5)
        guard digits.count >= 8, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// The manifest envelope around protobuf `payload`.
    static func envelope(_ payload: [UInt8], version: UInt32) -> [UInt8] {
        var h = magic
        func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { h += $0 } }
        le(version)
        le(UInt64(payload.count))
        le(CRC32C.checksum(payload))
        le(CRC32C.checksum(h))
        return h + payload
    }
}

/// Writes checkpoints.
public enum CheckpointWriter {
    /// Test-only fault injection: `COHORT_TEST_CRASH_POINT=<phase>@<n>` SIGKILLs this
    /// process at `phase` (`data`, `manifest`, `renamed`) of its n-th save (1-based),
    /// so tests can prove a crash mid-save never costs a committed checkpoint.
    static let crashPoint: (phase: String, save: Int)? = {
        guard let v = getenv("COHORT_TEST_CRASH_POINT").map({ String(cString: $0) }) else { return nil }
        let parts = v.split(separator: "@")
        guard parts.count == 2, let n = Int(parts[1]) else { return nil }
        return (String(parts[0]), n)
    }()
    nonisolated(unsafe) static var saveCount = 0
    /// The save number `crashDuringNextSave` armed (0: none).
    nonisolated(unsafe) static var armedCrashSave = 0

    static func maybeCrash(_ phase: String) {
        if let c = crashPoint, c.phase == phase, c.save == saveCount { kill(getpid(), SIGKILL) }
        if phase == "data", armedCrashSave != 0, armedCrashSave == saveCount { kill(getpid(), SIGKILL) }
    }

    /// Fault injection (`cohort train --inject-fault checkpoint-fail@STEP`): SIGKILLs this
    /// process after the first data chunk of the next save, like `COHORT_TEST_CRASH_POINT=data@n`.
    /// Call before starting that save, from the thread that starts saves.
    public static func crashDuringNextSave() { armedCrashSave = saveCount + 1 }

    /// Writes `tensors` and `manifest` (its `tensors` field is filled in here) as
    /// `directory/step-NNNNNNNN` with the commit protocol, replacing an existing
    /// checkpoint of the same step. Returns the checkpoint's path.
    /// - Throws: `CheckpointError.io` for a write failure, or when the checkpoint would break one
    ///   of the reader's `limits` (then nothing is committed).
    @discardableResult
    public static func write(_ manifest: Manifest, tensors: [TensorPayload], directory: String,
                             limits: CheckpointLimits = .standard) throws -> String {
        try FileIO.makeDirectory(directory)
        // One writer at a time per directory: then every temporary directory found
        // while holding the lock was left by a writer that died, whatever its pid.
        let lock = try FileIO.lockDirectory(directory)
        defer { FileIO.unlock(lock) }
        cleanStaleTemporaries(directory)
        // Room for every file first: a full disk is one clear error before anything is written.
        try FileIO.checkSpace(directory, fileSizes: plannedSizes(manifest, tensors),
                              purpose: "the checkpoint of step \(manifest.step)")
        saveCount += 1
        let finalName = CheckpointLayout.directoryName(step: manifest.step)
        let finalPath = directory + "/" + finalName
        // A manifest over a limit without its tensor records fails before any data is written.
        try limits.checkWritable(manifest, payload: ManifestCodec.encode(manifest), directory: nil, target: finalPath)
        let tmp = try makeTemporary(directory, for: finalName)
        do {
            var m = manifest
            m.tensors = try writeData(tensors, into: tmp)
            return try commit(m, temporary: tmp, directory: directory, limits: limits)
        } catch {
            FileIO.removeTree(tmp)
            throw error
        }
    }

    /// A new hidden temporary directory for the checkpoint `finalName` (`.tmp-step-…-PID-RANDOM`).
    static func makeTemporary(_ directory: String, for finalName: String) throws -> String {
        let rnd = UInt64.random(in: 1...UInt64.max)   // unique temp names; not a numeric draw
        let tmp = directory + "/.tmp-\(finalName)-\(getpid())-\(String(rnd, radix: 16))"
        try FileIO.makeDirectory(tmp)
        return tmp
    }

    /// The commit protocol's second half, with the data files in `tmp` fsync'd: checks `m` (its
    /// records naming those files) against the reader's limits, writes and fsyncs the manifest and
    /// the directory, renames it to `step-NNNNNNNN` (moving an existing checkpoint of that step
    /// aside, removed once the rename is durable) and fsyncs the parent. Returns the final path.
    static func commit(_ m: Manifest, temporary tmp: String, directory: String, limits: CheckpointLimits) throws -> String {
        let finalName = CheckpointLayout.directoryName(step: m.step)
        let finalPath = directory + "/" + finalName
        let payload = ManifestCodec.encode(m)
        // Every limit of the reader applies here too, so a save never commits a
        // checkpoint that cannot be read back.
        try limits.checkWritable(m, payload: payload, directory: tmp, target: finalPath)
        let envelope = CheckpointLayout.envelope(payload, version: m.formatVersion)
        let mpath = tmp + "/" + CheckpointLayout.manifestName
        let fd = try FileIO.create(mpath)
        defer { close(fd) }
        try envelope.withUnsafeBytes { try FileIO.writeAll(fd, $0.baseAddress!, $0.count, path: mpath) }
        maybeCrash("manifest")
        try FileIO.fsyncFile(fd, path: mpath)
        try FileIO.fsyncDirectory(tmp)
        var displaced: String?
        if FileIO.isDirectory(finalPath) {
            let rnd = UInt64.random(in: 1...UInt64.max)
            displaced = directory + "/.old-\(finalName)-\(getpid())-\(String(rnd, radix: 16))"
            guard rename(finalPath, displaced!) == 0 else {
                let code = errno
                throw FileIO.failure("cannot move the previous checkpoint of this step aside", path: finalPath, code: code)
            }
        }
        guard rename(tmp, finalPath) == 0 else {
            let code = errno
            throw FileIO.failure("rename from \(tmp) failed", path: finalPath, code: code)
        }
        maybeCrash("renamed")
        try FileIO.fsyncDirectory(directory)
        if let displaced { FileIO.removeTree(displaced) }
        return finalPath
    }

    /// Bytes of each file a save of `tensors` writes: the data files (split as `writeData`
    /// splits them) and the manifest (its fixed part encoded, plus a lower bound for each
    /// tensor's and chunk's record).
    static func plannedSizes(_ manifest: Manifest, _ tensors: [TensorPayload]) -> [UInt64] {
        var files: [UInt64] = []
        var current: UInt64 = 0, open = false
        var recordBytes = 0
        for t in tensors {
            recordBytes += t.name.utf8.count + 8 + 2 * t.shape.count
            var done = 0
            repeat {
                let n = min(CheckpointLayout.chunkBytes, t.bytes.count - done)
                if !open || current >= CheckpointLayout.dataFileBytes {
                    if open { files.append(current) }
                    (current, open) = (0, true)
                }
                current += UInt64(n)
                done += n
                recordBytes += 24   // file name, offset, length, CRC
            } while done < t.bytes.count
        }
        if open { files.append(current) }
        var bare = manifest
        bare.tensors = []
        return files + [UInt64(CheckpointLayout.headerSize + ManifestCodec.encode(bare).count + recordBytes)]
    }

    /// Writes tensor bytes into data files in ≤64 MiB chunks, each with a CRC32C.
    /// Writeback of each chunk starts as soon as it is written (`sync_file_range`),
    /// so the disk works while the next chunk is checksummed; every file is fsync'd
    /// once, at the end, before the manifest is written.
    /// `filePrefix` starts the data files' names (`data-00000.bin`; a rank of a sharded save
    /// writes `data-r00003-00000.bin`). A piece's record has the whole tensor's shape and the
    /// piece's byte length.
    static func writeData(_ tensors: [TensorPayload], into dir: String, filePrefix: String = "data-") throws -> [TensorRecord] {
        var records: [TensorRecord] = []
        var fileIndex = 0
        var fd: Int32 = -1
        var fileName = ""
        var filePath = ""
        var fileOffset: UInt64 = 0
        var finished: [(fd: Int32, path: String)] = []
        func closeCurrent() {
            guard fd >= 0 else { return }
            finished.append((fd, filePath))
            fd = -1
        }
        func openNext() throws {
            closeCurrent()
            fileName = filePrefix + String(repeating: "0", count: max(0, 5 - String(fileIndex).count)) + String(fileIndex) + ".bin"
            filePath = dir + "/" + fileName
            fd = try FileIO.create(filePath)
            fileOffset = 0
            fileIndex += 1
        }
        defer {
            if fd >= 0 { close(fd) }
            for f in finished { close(f.fd) }
        }
        // Plan every chunk first (validating shapes), so the checksums can be computed
        // on another core while this thread writes: the CRC is then off the critical path.
        var seen = Set<String>()
        var plan: [(tensor: Int, pointer: UnsafeRawPointer, count: Int)] = []
        for (ti, t) in tensors.enumerated() {
            guard seen.insert(t.name).inserted else { throw CheckpointError.io(path: dir, "two tensors are named \(t.name)") }
            // Checked arithmetic: a bad shape from the caller is an error, not a trap.
            let whole = t.shape.reduce(Optional(1)) { acc, d in
                guard let acc, d >= 0 else { return nil }
                let (p, o) = acc.multipliedReportingOverflow(by: d)
                return o ? nil : p
            }
            if let e = t.elements, let whole, e.lowerBound < 0 || e.upperBound > whole {
                throw CheckpointError.io(path: dir, "tensor \(t.name): piece \(e) is outside its \(whole) elements (shape \(t.shape))")
            }
            let count = t.elements.map { Optional($0.count) } ?? whole
            let expected = count.flatMap { c in
                let (p, o) = c.multipliedReportingOverflow(by: t.dtype.size)
                return o ? nil : p
            }
            guard expected == t.bytes.count else {
                let what = t.elements.map { "elements \($0) of shape \(t.shape)" } ?? "shape \(t.shape)"
                throw CheckpointError.io(path: dir, "tensor \(t.name): \(what) needs \(expected.map(String.init) ?? "an impossible number of") bytes, got \(t.bytes.count)")
            }
            var done = 0
            repeat {
                let n = min(CheckpointLayout.chunkBytes, t.bytes.count - done)
                let p = t.bytes.baseAddress.map { UnsafeRawPointer($0) + done } ?? UnsafeRawPointer(bitPattern: 1)!
                plan.append((ti, p, n))
                done += n
            } while done < t.bytes.count
        }
        let crcs = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: max(plan.count, 1))
        defer { crcs.deallocate() }
        let job = ChecksumJob(chunks: plan.map { ($0.pointer, $0.count) }, out: crcs)
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { job.run() }
        var locations: [(file: String, offset: UInt64)] = []
        do {
            for c in plan {
                if fd < 0 || fileOffset >= CheckpointLayout.dataFileBytes { try openNext() }
                try FileIO.writeAll(fd, c.pointer, c.count, path: filePath)
                FileIO.startWriteback(fd, offset: fileOffset, length: c.count)
                locations.append((fileName, fileOffset))
                maybeCrash("data")
                fileOffset += UInt64(c.count)
            }
        } catch {
            group.wait()
            throw error
        }
        group.wait()
        var i = 0
        for (ti, t) in tensors.enumerated() {
            var chunks: [Chunk] = []
            while i < plan.count && plan[i].tensor == ti {
                chunks.append(Chunk(file: locations[i].file, offset: locations[i].offset, length: UInt64(plan[i].count), crc32c: crcs[i]))
                i += 1
            }
            records.append(TensorRecord(name: t.name, shape: t.shape, dtype: t.dtype, byteLength: UInt64(t.bytes.count), chunks: chunks))
        }
        closeCurrent()
        for f in finished { try FileIO.fsyncFile(f.fd, path: f.path) }
        return records
    }

    /// Checksums of planned chunks, computed on a background thread; each output slot
    /// is written once and read only after the job's group is waited on.
    private struct ChecksumJob: @unchecked Sendable {
        let chunks: [(UnsafeRawPointer, Int)]
        let out: UnsafeMutableBufferPointer<UInt32>
        func run() { for (i, c) in chunks.enumerated() { out[i] = CRC32C.checksum(c.0, count: c.1) } }
    }

    /// Removes temporary directories left by writers that died (`.tmp-*`, `.old-*`);
    /// called with the directory lock held, so no live writer owns one.
    static func cleanStaleTemporaries(_ directory: String) {
        for name in FileIO.list(directory) where name.hasPrefix(".tmp-") || name.hasPrefix(".old-") {
            FileIO.removeTree(directory + "/" + name)
        }
    }
}
