// What a run trains on, for its checkpoints: a name people recognise (`mnist`,
// `fashion-mnist`, `iris.csv`, `synthetic`, …) and a SHA-256 fingerprint of the
// content, so a resume on other data can be refused naming both
// (docs/checkpoint-format.md, "Data identity").
import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// A dataset's name and content fingerprint.
public struct DataIdentity: Sendable, Equatable, CustomStringConvertible {
    /// What the data is, e.g. `mnist`, `fashion-mnist`, `iris.csv`, `tiny-shakespeare`, `synthetic`.
    public var name: String
    /// Lower-case hex SHA-256 of the content (how it is computed depends on the kind of data).
    public var sha256: String

    public init(name: String, sha256: String) {
        self.name = name
        self.sha256 = sha256
    }

    /// `mnist (sha256 c5097fdd51cf…)`.
    public var description: String { "\(name) (sha256 \(sha256.prefix(12))…)" }

    /// Files up to this size are hashed whole; larger ones (huge corpora) from samples.
    public static let wholeFileLimit: Int64 = 1 << 30
    /// A larger file's fingerprint hashes this many evenly spaced windows of `sampleBytes`.
    public static let samples = 64, sampleBytes = 1 << 20

    /// The identity of the file at `path`: SHA-256 of its bytes, read in 1 MiB blocks, if it
    /// is at most `wholeFileLimit`; otherwise SHA-256 of the text `cohort-sampled-v1 <size>\n`
    /// followed by `samples` windows of `sampleBytes` at offsets `i·(size − sampleBytes)/(samples − 1)`
    /// (the first and the last bytes included), so a huge corpus costs 64 MiB of reading.
    /// - Throws: `CohortError.badFile` if the file cannot be read.
    public static func file(_ path: String, name: String) throws -> DataIdentity {
        try file(path, name: name, wholeFileLimit: wholeFileLimit, samples: samples, sampleBytes: sampleBytes)
    }

    /// `file(_:name:)` with other limits (tests use small ones).
    static func file(_ path: String, name: String, wholeFileLimit: Int64, samples: Int, sampleBytes: Int) throws -> DataIdentity {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CohortError.badFile(path: path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CohortError.badFile(path: path, "cannot stat: \(String(cString: strerror(errno)))") }
        let size = Int64(st.st_size)
        var hasher = SHA256()
        var block = [UInt8](repeating: 0, count: sampleBytes)
        func hashRange(_ start: Int64, _ count: Int64) throws {
            var done: Int64 = 0
            while done < count {
                let want = Int(min(Int64(block.count), count - done))
                let n = block.withUnsafeMutableBytes { pread(fd, $0.baseAddress, want, off_t(start + done)) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw CohortError.badFile(path: path, "read failed at byte \(start + done): \(n == 0 ? "file ended early" : String(cString: strerror(errno)))") }
                block.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                done += Int64(n)
            }
        }
        if size <= wholeFileLimit {
            try hashRange(0, size)
        } else {
            hasher.update(Array("cohort-sampled-v1 \(size)\n".utf8))
            let window = Int64(sampleBytes)
            for i in 0..<samples { try hashRange(Int64(i) * (size - window) / Int64(samples - 1), window) }
        }
        return DataIdentity(name: name, sha256: hexString(hasher.finalize()))
    }

    /// The identity of a generated dataset: SHA-256 of its features (Float32) then labels (Int32),
    /// little-endian, as the training run sees them.
    public static func generated(_ dataset: ClassificationDataset, name: String) -> DataIdentity {
        var hasher = SHA256()
        dataset.features.withUnsafeBytes { hasher.update($0) }
        dataset.labels.withUnsafeBytes { hasher.update($0) }
        return DataIdentity(name: name, sha256: hexString(hasher.finalize()))
    }

    /// The identity of generated text lines (e.g. the addition corpus): SHA-256 of the lines, each ended by `\n`.
    public static func generated(lines: [String], name: String) -> DataIdentity {
        var hasher = SHA256()
        for line in lines { hasher.update(Array((line + "\n").utf8)) }
        return DataIdentity(name: name, sha256: hexString(hasher.finalize()))
    }
}
