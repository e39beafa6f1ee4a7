// Where a model's starting weights come from (`cohort train --init-from`): a Cohort
// checkpoint (a `step-NNNNNNNN` directory, or a checkpoint directory, whose newest
// valid checkpoint is taken), a safetensors file, or a NumPy `.npz` archive. Each
// source becomes named Float32 arrays for `Module.load`; a checkpoint contributes
// its model tensors only (`model/<name>`), never optimizer state or the step.
import CohortCore
import CohortData
import CohortNN

/// Reads pretrained weights as named arrays.
public enum PretrainedWeights {
    /// The kinds of file `read` accepts.
    public enum Format: String, Sendable, CaseIterable {
        case checkpoint, safetensors, npz
    }

    /// The weights at `path` and the source's metadata (safetensors `__metadata__`; a
    /// checkpoint's model settings as `model.<key>`; none for `.npz`).
    /// - Throws: `CohortError.badFile` naming the path when it is none of the accepted kinds or
    ///   cannot be read; `CheckpointError` for a damaged checkpoint.
    public static func read(_ path: String) throws -> (arrays: [NamedArray], metadata: [String: String]) {
        switch try format(of: path) {
        case .safetensors:
            let file = try SafetensorsFile(path: path)
            return (try file.tensors().map { NamedArray(name: $0.name, shape: $0.shape, values: $0.values) }, file.metadata)
        case .npz:
            let members = try NPZ.read(path: path)
            // `__metadata__` is an export's metadata (a JSON byte string), not a tensor.
            return (members.keys.sorted().filter { $0 != "__metadata__" }.map { NamedArray(name: $0, shape: members[$0]!.shape, values: members[$0]!.values) }, [:])
        case .checkpoint:
            return try readCheckpoint(path)
        }
    }

    /// Which kind of source `path` is: a directory is a checkpoint; files go by extension.
    public static func format(of path: String) throws -> Format {
        if FileIO.isDirectory(path) { return .checkpoint }
        guard FileIO.fileSize(path) != nil else { throw CohortError.badFile(path: path, "does not exist") }
        if path.hasSuffix(".safetensors") { return .safetensors }
        if path.hasSuffix(".npz") { return .npz }
        throw CohortError.badFile(path: path, "is not a checkpoint directory, a .safetensors file or a .npz file")
    }

    private static func readCheckpoint(_ path: String) throws -> (arrays: [NamedArray], metadata: [String: String]) {
        let checkpoint: Checkpoint
        if FileIO.fileSize(path + "/manifest.pb") != nil {
            checkpoint = try Checkpoint(path: path)
        } else {
            guard let newest = CheckpointStore(directory: path).latestValid() else {
                throw CohortError.badFile(path: path, "holds no valid checkpoint (no manifest.pb here and no step-NNNNNNNN directory that verifies)")
            }
            checkpoint = newest
        }
        var arrays: [NamedArray] = []
        for record in checkpoint.manifest.tensors {
            guard let name = RecordName.modelTensor(of: record.name), record.dtype == .float32 else { continue }
            arrays.append(NamedArray(name: name, shape: record.shape, values: try checkpoint.readFloats(record.name)))
        }
        var metadata: [String: String] = [:]
        let model = checkpoint.manifest.model
        if !model.name.isEmpty { metadata["model"] = model.name }
        for s in model.settings { metadata["model." + s.key] = s.value }
        return (arrays, metadata)
    }
}
