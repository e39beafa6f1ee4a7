// SHA-256 and size of a file on disk, read in 1 MiB blocks so checking a large
// download needs no memory in proportion to it.
import CohortCore
import Foundation

enum FileDigest {
    /// Lower-case hex SHA-256 of the file at `path`.
    /// - Throws: `FetchError.io` naming `path` if it cannot be read.
    static func sha256(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FetchError.io(path: path, "cannot open for reading")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let block = try handle.read(upToCount: 1 << 20), !block.isEmpty {
                block.withUnsafeBytes { hasher.update($0) }
            }
        } catch {
            throw FetchError.io(path: path, "read failed: \(error.localizedDescription)")
        }
        return hexString(hasher.finalize())
    }

    /// Size in bytes of the regular file at `path`, or nil when there is none.
    static func size(of path: String) -> Int64? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              (attributes[.type] as? FileAttributeType) == .typeRegular,
              let size = attributes[.size] as? NSNumber else { return nil }
        return size.int64Value
    }
}
