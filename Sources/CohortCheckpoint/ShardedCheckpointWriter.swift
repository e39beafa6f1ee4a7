// A sharded save, in three phases with a two-phase commit: rank 0 begins (takes the
// directory's save lock, clears dead saves' temporaries, checks for room, makes the
// temporary directory); every rank writes its pieces of the tensors there into its
// own data files (`data-r00003-00000.bin`) and fsyncs them; rank 0 then writes the
// one manifest naming every rank's chunks and commits it exactly as a rank-0 save
// does (fsync, rename, fsync). Until that rename nothing is visible, so a crash of
// any rank at any point leaves the previous checkpoints untouched. The result is an
// ordinary checkpoint (format version 1): each tensor's chunks simply come from
// several files, so every reader, `cohort ckpt` tool and resume on any world size
// reads it unchanged. The collectives that carry the temporary directory's name and
// the chunk tables between ranks are the caller's (CohortTrainer).
#if canImport(Glibc)
import Glibc
#endif

/// The file side of a sharded checkpoint save.
public enum ShardedCheckpointWriter {
    /// A save rank 0 has begun: it holds the directory's save lock until `commit` or `abort`.
    public final class Begun: @unchecked Sendable {
        /// The temporary directory every rank writes its pieces into.
        public let temporary: String
        let directory: String
        private var lock: Int32?

        init(temporary: String, directory: String, lock: Int32) {
            self.temporary = temporary; self.directory = directory; self.lock = lock
        }

        /// Releases the lock (once).
        func finish() {
            if let lock { FileIO.unlock(lock) }
            lock = nil
        }

        deinit { finish() }
    }

    /// Phase 0, rank 0: prepares the save of `manifest`'s step into `directory`, for data files
    /// of about `plannedBytes` (each rank's total). A full disk fails here, before any rank writes.
    public static func begin(_ manifest: Manifest, directory: String, plannedBytes: [UInt64],
                             limits: CheckpointLimits = .standard) throws -> Begun {
        try FileIO.makeDirectory(directory)
        let lock = try FileIO.lockDirectory(directory)
        do {
            CheckpointWriter.cleanStaleTemporaries(directory)
            try FileIO.checkSpace(directory, fileSizes: plannedBytes + [UInt64(CheckpointLayout.headerSize + ManifestCodec.encode(manifest).count)],
                                  purpose: "the checkpoint of step \(manifest.step)")
            let finalName = CheckpointLayout.directoryName(step: manifest.step)
            try limits.checkWritable(manifest, payload: ManifestCodec.encode(manifest), directory: nil, target: directory + "/" + finalName)
            return Begun(temporary: try CheckpointWriter.makeTemporary(directory, for: finalName), directory: directory, lock: lock)
        } catch {
            FileIO.unlock(lock)
            throw error
        }
    }

    /// The data-file name prefix of `rank`'s pieces: `data-r00003-`.
    public static func filePrefix(rank: Int) -> String {
        let digits = String(rank)
        return "data-r" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + "-"
    }

    /// Phase 1, every rank: writes `pieces` (each with its `elements`, or whole) into `temporary`,
    /// fsync'd. Returns one record per piece: the tensor's name, whole shape and dtype, the
    /// piece's byte length and its chunks.
    public static func writePieces(_ pieces: [TensorPayload], rank: Int, into temporary: String) throws -> [TensorRecord] {
        CheckpointWriter.saveCount += 1
        return try CheckpointWriter.writeData(pieces, into: temporary, filePrefix: filePrefix(rank: rank))
    }

    /// Phase 2, rank 0: the manifest's records are `order`'s tensors, each made of its pieces from
    /// `pieces` (one table per rank, concatenated in rank order), which must add up to exactly
    /// the tensor; then the commit protocol. Returns the checkpoint's path.
    /// - Throws: `CheckpointError.io` naming the tensor whose pieces do not cover it, or as `write`.
    public static func commit(_ begun: Begun, manifest: Manifest, order: [(name: String, shape: [Int], dtype: DType)],
                              pieces: [[TensorRecord]], limits: CheckpointLimits = .standard) throws -> String {
        defer { begun.finish() }
        do {
            var byName: [String: [Chunk]] = [:], bytes: [String: UInt64] = [:], writers: [String: [Int]] = [:]
            for (rank, table) in pieces.enumerated() {
                for r in table {
                    byName[r.name, default: []] += r.chunks
                    bytes[r.name, default: 0] += r.byteLength
                    writers[r.name, default: []].append(rank)
                }
            }
            var m = manifest
            m.tensors = try order.map { t in
                let whole = UInt64(t.shape.reduce(1, *) * t.dtype.size)
                guard let chunks = byName.removeValue(forKey: t.name) else {
                    throw CheckpointError.io(path: begun.temporary, "no rank wrote tensor \(t.name)")
                }
                guard bytes[t.name] == whole else {
                    throw CheckpointError.io(path: begun.temporary, "the pieces of tensor \(t.name) \(t.shape) written by ranks \(writers[t.name] ?? []) "
                                             + "hold \(bytes[t.name] ?? 0) bytes, the tensor \(whole)")
                }
                return TensorRecord(name: t.name, shape: t.shape, dtype: t.dtype, byteLength: whole, chunks: chunks)
            }
            if let stray = byName.keys.sorted().first {
                throw CheckpointError.io(path: begun.temporary, "ranks \(writers[stray] ?? []) wrote tensor \(stray), which the checkpoint does not hold")
            }
            return try CheckpointWriter.commit(m, temporary: begun.temporary, directory: begun.directory, limits: limits)
        } catch {
            FileIO.removeTree(begun.temporary)
            throw error
        }
    }

    /// One rank's piece records as bytes for the exchange to rank 0 (a manifest holding only them).
    public static func encodeTable(_ records: [TensorRecord]) -> [UInt8] {
        var m = Manifest()
        m.tensors = records
        return ManifestCodec.encode(m)
    }

    /// The records `encodeTable` encoded.
    /// - Throws: `CheckpointError.io` when the bytes are not such a table.
    public static func decodeTable(_ bytes: [UInt8], from rank: Int) throws -> [TensorRecord] {
        do { return try ManifestCodec.decode(bytes).tensors } catch let e as ManifestCodec.DecodeError {
            throw CheckpointError.io(path: "rank \(rank)", "its chunk table does not decode: \(e.message)")
        }
    }

    /// Rank 0, when some rank failed: removes the temporary directory and releases the lock.
    public static func abort(_ begun: Begun) {
        FileIO.removeTree(begun.temporary)
        begun.finish()
    }
}
