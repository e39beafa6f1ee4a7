// The safetensors reader: every dtype converted, metadata read, and hostile headers
// (a 2 GB header length, offsets past the end, overlaps, gaps, shapes whose byte size
// overflows, wrong types) refused with an error naming the file and the tensor — and a
// fuzz run of random corruptions that may only throw or read a valid file.
import CohortCore
import CohortData
import Foundation
import Testing

@Suite struct SafetensorsTests {
    /// A safetensors file from a header (JSON text) and data bytes.
    static func file(header: String, data: [UInt8], lengthOverride: UInt64? = nil) -> [UInt8] {
        var h = Array(header.utf8)
        h += [UInt8](repeating: 0x20, count: (8 - h.count % 8) % 8)
        return withUnsafeBytes(of: (lengthOverride ?? UInt64(h.count)).littleEndian, Array.init) + h + data
    }

    static func write(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString).safetensors").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }

    /// Two F32 values, then F16, BF16, F64, I64 and BOOL tensors, with metadata.
    static func sample() -> [UInt8] {
        let f32 = [Float(1.5), -2.25].flatMap { le($0.bitPattern) }
        let f16 = [Float16(0.5), Float16(-3)].flatMap { le($0.bitPattern) }
        let bf16 = [Float(1.0), -0.375].flatMap { le(UInt16($0.bitPattern >> 16)) }
        let f64 = le(Double(0.1).bitPattern)
        let i64 = le(Int64(-7)) + le(Int64(1 << 20))
        let bool: [UInt8] = [0, 1, 1]
        let header = #"{"__metadata__":{"format":"pt","model":"mlp"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"# +
            #""h":{"dtype":"F16","shape":[1,2],"data_offsets":[8,12]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},"# +
            #""d":{"dtype":"F64","shape":[],"data_offsets":[16,24]},"i":{"dtype":"I64","shape":[2],"data_offsets":[24,40]},"# +
            #""m":{"dtype":"BOOL","shape":[3],"data_offsets":[40,43]}}"#
        return file(header: header, data: f32 + f16 + bf16 + f64 + i64 + bool)
    }

    @Test func readsEveryDtypeAndTheMetadata() throws {
        let path = try Self.write(Self.sample())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata == ["format": "pt", "model": "mlp"])
        #expect(file.entries.map(\.name) == ["w", "h", "b", "d", "i", "m"])   // data order
        let t = Dictionary(uniqueKeysWithValues: try file.tensors().map { ($0.name, $0) })
        #expect(t["w"]?.values == [1.5, -2.25] && t["w"]?.shape == [2])
        #expect(t["h"]?.values == [0.5, -3] && t["h"]?.shape == [1, 2])
        #expect(t["b"]?.values == [1.0, -0.375])
        #expect(t["d"]?.values == [Float(0.1)] && t["d"]?.shape == [])
        #expect(t["i"]?.values == [-7, 1_048_576])
        #expect(t["m"]?.values == [0, 1, 1])
        #expect(try file.tensor("h") == t["h"])
        #expect(throws: CohortError.self) { try file.tensor("missing") }
    }

    /// `header` with `data`, opened: the error text (nil when it opens).
    func openError(_ header: String, data: [UInt8] = [UInt8](repeating: 0, count: 8), lengthOverride: UInt64? = nil) throws -> String? {
        let path = try Self.write(Self.file(header: header, data: data, lengthOverride: lengthOverride))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do { _ = try SafetensorsFile(path: path); return nil } catch { return "\(error)" }
    }

    @Test func hostileHeadersAreClearErrors() throws {
        let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        #expect(try openError(ok) == nil)
        let cases: [(String, UInt64?, String)] = [
            (ok, 2_000_000_000, "exceeds the 100000000-byte limit"),
            (ok, 90_000_000, "exceeds the file"),
            (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, nil, "outside the 8 data bytes"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, nil, "overlaps"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, nil, "a gap of unused bytes 0..<4 before tensor 'a'"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, nil, "4 bytes after the last tensor"),
            (#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, nil, "needs more bytes than the file has"),
            (#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, nil, "negative"),
            (#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,8]}}"#, nil, "tensor 'a' needs dtype"),
            (#"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, nil, "dtype C64"),
            (#"{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, nil, "__metadata__ must map strings"),
            ("[1,2,3]", nil, "not a JSON object"),
        ]
        for (header, length, expected) in cases {
            let message = try openError(header, lengthOverride: length)
            #expect(message?.contains(expected) == true && message?.contains("not a valid safetensors file") == true,
                    "\(header): \(message ?? "opened")")
        }
        let sized = try openError(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#,
                                  data: [UInt8](repeating: 0, count: 16))
        #expect(sized?.contains("tensor 'a': shape [3] of F32 is 12 bytes but data_offsets [0, 8] span 8") == true, "\(sized ?? "opened")")
        let short = try Self.write([1, 2, 3])
        defer { try? FileManager.default.removeItem(atPath: short) }
        #expect(throws: CohortError.self) { try SafetensorsFile(path: short) }
    }

    @Test func randomCorruptionsThrowOrReadConsistently() throws {
        let original = Self.sample()
        var g = SplitMix64(seed: 16)
        for trial in 0..<400 {
            var bytes = original
            for _ in 0..<(1 + Int(g.next() % 4)) {
                let i = Int(g.next() % UInt64(bytes.count))
                bytes[i] = UInt8(truncatingIfNeeded: g.next())
            }
            if trial % 10 == 0 { bytes = Array(bytes.prefix(Int(g.next() % UInt64(bytes.count)))) }
            let path = try Self.write(bytes)
            defer { try? FileManager.default.removeItem(atPath: path) }
            guard let file = try? SafetensorsFile(path: path) else { continue }
            for t in try file.tensors() {
                #expect(t.values.count == t.shape.reduce(1, *), "trial \(trial): \(t.name)")
            }
        }
    }
}
