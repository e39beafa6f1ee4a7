// The one CRC-32 (check value, continuation, a bit-at-a-time reference) and the
// zip/npy writers against the readers: NPZ.encode → NPZ.decode, stored and ZIP64
// archives from ZipWriter read back, and, with numpy from the reference venv
// (`ReferenceVenv`; missing numpy fails the test), np.load of our
// archive and our reader on an archive np.savez wrote.
import CohortProcess
import CohortProcessTestSupport
import Foundation
import Testing
import CohortCore
@testable import CohortData

/// Bit-at-a-time CRC-32 (reflected 0xEDB88320), the definition.
func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
    }
    return ~c
}

/// Runs a Python snippet with numpy from the reference venv (`make deps` creates it), or
/// returns nil when that venv has no numpy — which the caller reports as a failure.
func runNumpy(_ script: String, _ args: [String]) throws -> (status: Int32, out: String, err: String)? {
    let venv = ReferenceVenv.python
    // CohortProcess's runner: a signal another test raises cannot interrupt its reads (EINTR).
    func run(_ code: String, _ args: [String]) throws -> (Int32, String, String) {
        let r = try runWithTimeout(argv: [venv, "-c", code] + args, timeout: 600)
        return (r.status.processStatus, r.stdout, r.stderr)
    }
    guard (try? run("import numpy", []).0) == 0 else { return nil }
    return try run(script, args)
}

@Suite struct ZipTests {
    static let arrays: [(name: String, values: [Float], shape: [Int])] = [
        ("w", [1.5, -2, 3.25, 0, -0.0, 1e-30], [2, 3]),
        ("b", [0.1, 0.2, 0.3], [3]),
        ("s", [42], []),
        ("e", [], [0, 4]),
        ("nested/name", (0..<300).map { Float($0) * 0.5 }, [3, 10, 10]),
    ]

    @Test func zipCRC32CheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        let bytes = (0..<777).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 5) }
        let a = bytes[..<333].withUnsafeBytes { CRC32.checksum($0) }
        #expect(bytes[333...].withUnsafeBytes { CRC32.checksum($0, continuing: a) } == CRC32.checksum(bytes))
        for n in [0, 1, 7, 8, 9, 63, 777] { #expect(CRC32.checksum(Array(bytes.prefix(n))) == referenceCRC32(Array(bytes.prefix(n)))) }
    }

    @Test func npzEncodeRoundTrips() throws {
        let decoded = try NPZ.decode(try NPZ.encode(Self.arrays), path: "memory.npz")
        #expect(decoded.count == Self.arrays.count)
        for a in Self.arrays {
            let d = try #require(decoded[a.name])
            #expect(d.shape == a.shape && d.dtype == "<f4")
            #expect(d.values.map(\.bitPattern) == a.values.map(\.bitPattern), "\(a.name)")
        }
    }

    @Test func npyEncodeRoundTripsAndMatchesTheHeaderLayout() throws {
        let npy = try NPY.encode([1, 2, 3, 4, 5, 6], shape: [2, 3])
        #expect(npy.count == 128 + 24 && npy[127] == 0x0A)   // 10 + 60-byte dict + newline, padded to 128
        #expect(String(decoding: npy[10..<128], as: UTF8.self).hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(try NPY.decode(npy, path: "x.npy") == NPYArray(shape: [2, 3], values: [1, 2, 3, 4, 5, 6], dtype: "<f4"))
        #expect(throws: CohortError.self) { try NPY.encode([1, 2], shape: [3]) }
    }

    @Test func zip64ArchivesReadBack() throws {
        for force in [false, true] {
            let out = ZipMemoryOutput()
            let writer = ZipWriter(out, forceZip64: force)
            let members: [(String, [UInt8])] = [("a.bin", Array("hello".utf8)), ("b/c.bin", (0..<1000).map { UInt8($0 % 251) }), ("empty", [])]
            for (name, data) in members {
                try writer.addStored(name: name, size: UInt64(data.count)) { append in try data.withUnsafeBytes { try append($0) } }
            }
            #expect(try writer.finish() == force)
            let dir = try ZipDirectory(out.bytes, path: "memory.zip")
            #expect(dir.entries.map(\.name) == members.map(\.0))
            for (e, m) in zip(dir.entries, members) {
                #expect(try e.content(out.bytes, path: "memory.zip") == m.1)
                #expect(e.crc == referenceCRC32(m.1))
            }
        }
    }

    @Test func addStoredRejectsAWrongSize() throws {
        let zip = ZipWriter(ZipMemoryOutput())
        #expect(throws: CohortError.self) {
            try zip.addStored(name: "x", size: 3) { append in try [UInt8(1)].withUnsafeBytes { try append($0) } }
        }
    }

    @Test func numpyReadsOurArchiveAndWeReadNumpys() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-zip-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ours = dir.appendingPathComponent("ours.npz").path, theirs = dir.appendingPathComponent("theirs.npz").path
        try Data(try NPZ.encode(Self.arrays)).write(to: URL(fileURLWithPath: ours))
        let script = """
            import sys, numpy as np
            z = np.load(sys.argv[1])
            print(";".join(f"{k}:{z[k].dtype}:{z[k].shape}:{float(z[k].sum())!r}" for k in sorted(z.files)))
            np.savez(sys.argv[2], a=np.arange(12, dtype=np.float32).reshape(3, 4), b=np.array([1.5, -2.0]))
            np.savez_compressed(sys.argv[2] + ".c.npz", a=np.arange(12, dtype=np.int64))
            """
        let r = try #require(try runNumpy(script, [ours, theirs]), "no numpy in the reference venv: run `make deps` (checks/support/reference-venv.sh)")
        #expect(r.status == 0, "\(r.err)")
        let expected = Self.arrays.sorted { $0.name < $1.name }.map { a in
            let shape = a.shape.count == 1 ? "(\(a.shape[0]),)" : "(" + a.shape.map(String.init).joined(separator: ", ") + ")"
            return "\(a.name):float32:\(shape)"
        }
        let got = r.out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").map { $0.split(separator: ":").prefix(3).joined(separator: ":") }
        #expect(got == expected)
        let back = try NPZ.read(path: theirs)
        #expect(back["a"]?.shape == [3, 4] && back["a"]?.values == (0..<12).map(Float.init))
        #expect(back["b"]?.values == [1.5, -2] && back["b"]?.dtype == "<f8")
        #expect(try NPZ.read(path: theirs + ".c.npz")["a"]?.values == (0..<12).map(Float.init))
    }
}
