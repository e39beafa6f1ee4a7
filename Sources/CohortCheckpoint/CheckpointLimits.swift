// The one table of limits a checkpoint must respect. The reader rejects a
// checkpoint beyond any of them (a manifest is untrusted input), and the writer
// checks the same table before it commits, so a save can never produce a
// checkpoint that the reader then refuses (docs/checkpoint-format.md).

/// Limits shared by the checkpoint reader and writer.
public struct CheckpointLimits: Sendable, Equatable {
    /// Largest manifest payload (the protobuf message, without the 28-byte envelope header).
    public var maxManifestBytes = 256 << 20
    /// Largest chunk of tensor bytes (one CRC32C each): the most a reader holds in memory at once.
    public var maxChunkBytes = 64 << 20
    /// Longest string (tensor, metric, key and value names, file names, versions), in UTF-8 bytes.
    public var maxStringBytes = 4096
    /// Most dimensions of one tensor.
    public var maxDimensions = 32
    /// Most words of one random generator's state.
    public var maxRNGWords = 64

    /// The limits of this version of Cohort.
    public static let standard = CheckpointLimits()

    public init() {}

    /// `268435456 bytes (256 MiB)`: a byte count with its binary-unit size, for messages.
    static func describe(bytes: Int) -> String {
        guard bytes >= 1 << 20 else { return "\(bytes) bytes" }
        let tenths = (bytes * 10) >> 20
        return "\(bytes) bytes (\(tenths / 10)\(tenths % 10 == 0 ? "" : ".\(tenths % 10)") MiB)"
    }
}

extension CheckpointLimits {
    /// Checks a manifest about to be committed against every limit the reader applies:
    /// the decoder's (string lengths, dimensions, RNG words, no negative counts, through a
    /// decode of `payload`), the payload size, and, when `directory` holds the data files,
    /// the layout checks (unique names, byte lengths, chunk sizes, files and overlaps).
    /// - Throws: `CheckpointError.io` for `target` ("cannot save: …"), naming the limit.
    func checkWritable(_ m: Manifest, payload: [UInt8], directory: String?, target: String) throws {
        guard payload.count <= maxManifestBytes else {
            throw CheckpointError.io(path: target, "cannot save: the manifest would be \(payload.count) bytes, over the limit of "
                                     + "\(CheckpointLimits.describe(bytes: maxManifestBytes)) that checkpoint readers accept "
                                     + "(\(m.metrics.count) metric points, \(m.tensors.count) tensors, \(m.metadata.count) metadata "
                                     + "and \(m.trainingConfig.count) training-config entries)")
        }
        do { _ = try ManifestCodec.decode(payload) } catch let e as ManifestCodec.DecodeError {
            throw CheckpointError.io(path: target, "cannot save: \(e.message)")
        }
        guard let directory else { return }
        do { try Checkpoint.validateLayout(m, path: directory, limits: self) } catch let CheckpointError.corrupt(_, message) {
            throw CheckpointError.io(path: target, "cannot save: \(message)")
        }
    }
}
