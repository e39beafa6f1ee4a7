// Errors from writing, reading and verifying checkpoints; each names the
// checkpoint path and the tensor, file or field at fault.

/// What went wrong with a checkpoint.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    /// The checkpoint (or a file in it) is damaged, incomplete or not a checkpoint.
    case corrupt(path: String, String)
    /// The checkpoint is sound but does not fit the model/optimizer/run it is loaded into.
    case mismatch(path: String, String)
    /// No usable checkpoint was found.
    case notFound(String)
    /// An I/O error while writing (disk full, permissions, …).
    case io(path: String, String)
    /// Another live process holds the checkpoint directory's lock (`CheckpointLock`); `holder` names it.
    case inUse(directory: String, holder: String)

    public var description: String {
        switch self {
        case let .corrupt(path, m): return "checkpoint \(path) is damaged: \(m)"
        case let .mismatch(path, m): return "checkpoint \(path) does not match this run: \(m)"
        case let .notFound(m): return m
        case let .io(path, m): return "checkpoint \(path): \(m)"
        case let .inUse(directory, holder):
            return "checkpoint directory \(directory) is in use by \(holder); stop that run or use another --checkpoint-dir"
        }
    }
}
