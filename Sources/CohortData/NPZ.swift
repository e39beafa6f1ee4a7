// NumPy .npz files: a ZIP archive of .npy members (np.savez stores them,
// np.savez_compressed deflates them). Members are found through the central
// directory (whose sizes and CRC-32 are valid even when a local header defers
// them, as numpy's zip64 local headers do), checked against the archive's size,
// and verified by CRC-32. A DEFLATE member is inflated by the package's zlib
// reader by framing it as a gzip stream: both formats are raw DEFLATE followed
// by the same CRC-32 and the length mod 2^32.
import CohortCore

/// Reads NumPy `.npz` archives.
public enum NPZ {
    /// Reads every `.npy` member of the archive at `path`, keyed by member name without `.npy` (as `np.load` does).
    /// - Throws: `CohortError.badFile(path:, _)` if the file is missing, not a ZIP archive, truncated,
    ///   encrypted, uses a compression other than STORED or DEFLATE, fails its CRC-32 check, or holds a
    ///   member that is not a valid `.npy` file (the error then names the member and the problem).
    public static func read(path: String) throws -> [String: NPYArray] {
        try decode(try FileBytes.read(path), path: path)
    }

    /// Decodes the content of an `.npz` file; `path` is used in error messages.
    /// - Throws: `CohortError.badFile(path:, _)` as `read(path:)` does.
    public static func decode(_ bytes: [UInt8], path: String) throws -> [String: NPYArray] {
        var out: [String: NPYArray] = [:]
        for entry in try ZipDirectory(bytes, path: path).entries where !entry.name.hasSuffix("/") {
            let key = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
            guard out[key] == nil else { throw CohortError.badFile(path: path, "member '\(entry.name)' appears twice") }
            out[key] = try NPY.decode(try entry.content(bytes, path: path), path: "\(path) (member \(entry.name))")
        }
        return out
    }
}
