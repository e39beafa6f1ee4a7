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
    /// An I/O error while reading or writing that is not one of `storage`'s.
    case io(path: String, String)
    /// The file system refuses the write: no space (ENOSPC, EDQUOT, or less free space
    /// than the save needs), read-only (EROFS), permission denied (EACCES, EPERM), or a
    /// path that is not a directory. The user must fix the disk or directory; retrying
    /// cannot help. The message names the path, and the errno text where there is one.
    case storage(path: String, String)
    /// Another live process holds the checkpoint directory's lock (`CheckpointLock`); `holder` names it.
    case inUse(directory: String, holder: String)

    public var description: String {
        switch self {
        case let .corrupt(path, m): return "checkpoint \(path) is damaged: \(m)"
        case let .mismatch(path, m): return "checkpoint \(path) does not match this run: \(m)"
        case let .notFound(m): return m
        case let .io(path, m): return "checkpoint \(path): \(m)"
        case let .storage(_, m): return m
        case let .inUse(directory, holder):
            return "checkpoint directory \(directory) is in use by \(holder); stop that run or use another --checkpoint-dir"
        }
    }
}
