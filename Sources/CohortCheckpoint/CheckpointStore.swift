// The checkpoints of one run directory: listing, resolving the newest complete
// and verified one by scanning (no pointer file that could go stale), and
// retention (keep the last K, and every N-th step).

#if canImport(Glibc)
import Glibc
#endif

/// The checkpoints under one `--checkpoint-dir`.
public struct CheckpointStore: Sendable {
    /// The directory holding `step-NNNNNNNN` checkpoints.
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// Committed checkpoint directories, oldest first: (step, path).
    public func list() -> [(step: Int, path: String)] {
        FileIO.list(directory).compactMap { name in
            guard let s = CheckpointLayout.step(fromDirectoryName: name), FileIO.isDirectory(directory + "/" + name) else { return nil }
            return (s, directory + "/" + name)
        }.sorted { $0.step < $1.step }
    }

    /// The newest checkpoint that opens and verifies completely. Each newer one that
    /// fails is passed to `skipped` with the reason, so callers can say so.
    public func latestValid(skipped: (String, CheckpointError) -> Void = { _, _ in }) -> Checkpoint? {
        for (_, path) in list().reversed() {
            do {
                let c = try Checkpoint(path: path)
                try c.verify()
                return c
            } catch let e as CheckpointError {
                skipped(path, e)
            } catch {
                skipped(path, .corrupt(path: path, "\(error)"))
            }
        }
        return nil
    }

    /// Renames a damaged checkpoint to `step-NNNNNNNN.damaged` (kept for inspection,
    /// no longer listed), so retention and later resumes do not trip over it.
    /// Returns the new path, or nil if the rename failed.
    @discardableResult
    public func quarantine(_ path: String) -> String? {
        var target = path + ".damaged"
        var n = 1
        while FileIO.isDirectory(target) { n += 1; target = path + ".damaged\(n)" }
        guard rename(path, target) == 0 else { return nil }
        try? FileIO.fsyncDirectory(directory)
        return target
    }

    /// Deletes committed checkpoints except the newest `keepLast` and those whose step
    /// is a multiple of `keepEvery` (0 = none kept that way). Returns the deleted paths.
    @discardableResult
    public func applyRetention(keepLast: Int, keepEvery: Int = 0) -> [String] {
        guard keepLast > 0 else { return [] }
        let all = list()
        var deleted: [String] = []
        for (i, c) in all.enumerated() where i < all.count - keepLast {
            if keepEvery > 0 && c.step % keepEvery == 0 { continue }
            FileIO.removeTree(c.path)
            deleted.append(c.path)
        }
        if !deleted.isEmpty { try? FileIO.fsyncDirectory(directory) }
        return deleted
    }
}
