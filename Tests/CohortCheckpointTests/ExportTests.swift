// .npz and .safetensors exports of a small checkpoint, parsed back in Swift
// (zip records, CRC-32s, offsets, .npy headers, the safetensors header) and,
// with the reference venv's numpy, loaded by numpy and compared; and read back
// by CohortData's safetensors reader.
import CohortProcess
import CohortProcessTestSupport
import Foundation
import Testing
@testable import CohortCheckpoint
import CohortCore
import CohortData

/// Reads little-endian integers from a byte array.
struct LE {
    let b: [UInt8]
    func u16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
    func u32(_ i: Int) -> UInt64 { (0..<4).reduce(0) { $0 | UInt64(b[i + $1]) << (8 * $1) } }
    func u64(_ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[i + $1]) << (8 * $1) } }
}

/// A zip member as found through the central directory and its local header.
struct ZipMember { var name: String; var crc: UInt32; var data: [UInt8]; var zip64: Bool }

/// Parses a stored zip (with or without ZIP64), checking every record it passes.
func parseZip(_ b: [UInt8]) throws -> [ZipMember] {
    let r = LE(b: b)
    let eocd = b.count - 22
    try #require(eocd >= 0 && r.u32(eocd) == 0x0605_4B50)
    var count = UInt64(r.u16(eocd + 10)), cdSize = r.u32(eocd + 12), cdOffset = r.u32(eocd + 16)
    #expect(r.u16(eocd + 8) == r.u16(eocd + 10) && r.u16(eocd + 20) == 0)
    if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
        let loc = eocd - 20
        try #require(r.u32(loc) == 0x0706_4B50)
        let z = Int(r.u64(loc + 8))
        #expect(z == loc - 56 && r.u32(loc + 16) == 1)
        try #require(r.u32(z) == 0x0606_4B50 && r.u64(z + 4) == 44)
        count = r.u64(z + 32); cdSize = r.u64(z + 40); cdOffset = r.u64(z + 48)
        #expect(r.u64(z + 24) == count)
    }
    var members: [ZipMember] = []
    var p = Int(cdOffset)
    for _ in 0..<count {
        try #require(r.u32(p) == 0x0201_4B50)
        #expect(r.u16(p + 10) == 0, "stored")
        let crc = UInt32(r.u32(p + 16))
        var csize = r.u32(p + 20), usize = r.u32(p + 24), offset = r.u32(p + 42)
        let nlen = r.u16(p + 28), xlen = r.u16(p + 30), clen = r.u16(p + 32)
        let name = String(decoding: b[(p + 46)..<(p + 46 + nlen)], as: UTF8.self)
        var x = p + 46 + nlen
        let zip64 = xlen > 0
        if zip64 {
            #expect(r.u16(x) == 1)
            x += 4
            if usize == 0xFFFF_FFFF { usize = r.u64(x); x += 8 }
            if csize == 0xFFFF_FFFF { csize = r.u64(x); x += 8 }
            if offset == 0xFFFF_FFFF { offset = r.u64(x); x += 8 }
        }
        #expect(csize == usize)
        let o = Int(offset)
        try #require(r.u32(o) == 0x0403_4B50)
        #expect(UInt32(r.u32(o + 14)) == crc)
        let lnlen = r.u16(o + 26), lxlen = r.u16(o + 28)
        #expect(String(decoding: b[(o + 30)..<(o + 30 + lnlen)], as: UTF8.self) == name)
        let start = o + 30 + lnlen + lxlen
        let data = Array(b[start..<(start + Int(usize))])
        #expect(CRC32.checksum(data) == crc, "\(name): CRC-32")
        members.append(ZipMember(name: name, crc: crc, data: data, zip64: zip64))
        p += 46 + nlen + xlen + clen
    }
    #expect(p == Int(cdOffset + cdSize))
    return members
}

/// Splits a .npy file into its header dictionary text and data.
func parseNPY(_ b: [UInt8]) throws -> (header: String, data: [UInt8]) {
    try #require(Array(b.prefix(8)) == [0x93] + Array("NUMPY".utf8) + [1, 0])
    let hlen = LE(b: b).u16(8)
    #expect((10 + hlen) % 64 == 0 && b[10 + hlen - 1] == 0x0A)
    return (String(decoding: b[10..<(10 + hlen)], as: UTF8.self), Array(b[(10 + hlen)...]))
}

/// The reference venv's python (`make deps` creates it with numpy: checks/support/reference-venv.sh).
enum Python {
    static let executable = ReferenceVenv.python
    static func run(_ script: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let r = try runWithTimeout(argv: [executable, "-c", script] + args, timeout: 600)
        return (r.status.processStatus, r.stdout, r.stderr)
    }
    static let hasNumpy: Bool = FileManager.default.isExecutableFile(atPath: executable) && (try? run("import numpy", []).status) == 0
}

extension CheckpointTests {
    @Suite struct Export {
        static let big = (0..<(128 * 200)).map { Float($0) * 0.25 - 100 }   // > 64 KiB: written unbuffered
        static let tensors: [(String, [Int], DType, [UInt8])] = [
            ("model/0.weight", [2, 3], .float32, bytes([1.5, -2, 3.25, 0, -0.0, 1e-30] as [Float])),
            ("model/0.bias", [3], .float32, bytes([0.1, 0.2, 0.3] as [Float])),
            ("model/1.weight", [128, 200], .float32, bytes(big)),
            ("model/scalar", [], .float32, bytes([42] as [Float])),
            ("model/empty", [0, 4], .float32, []),
            ("model/stats/f64", [2], .float64, bytes([1.0 / 3, -1e300] as [Double])),
            ("model/steps", [3], .int64, bytes([Int64.min, 0, Int64.max])),
            ("model/ids", [2, 2], .int32, bytes([Int32.min, -1, 7, Int32.max])),
            ("model/mask", [5], .uint8, [0, 1, 2, 254, 255]),
            ("optimizer/exp_avg/0.weight", [2, 3], .float32, bytes([6, 5, 4, 3, 2, 1] as [Float])),
        ]
        static func bytes<T>(_ v: [T]) -> [UInt8] { v.withUnsafeBytes { Array($0) } }

        func checkpoint(_ dir: Scratch) throws -> Checkpoint {
            var m = fullManifest(step: 77)
            m.metadata = [KeyValue("note", "hello \"world\"")]
            let path = try CheckpointWriter.write(m, tensors: Self.tensors.map { payload($0.0, $0.1, $0.2, $0.3) }, directory: dir.file("run"))
            return try Checkpoint(path: path)
        }

        func expected(optimizer: Bool) -> [(name: String, shape: [Int], dtype: DType, bytes: [UInt8])] {
            Self.tensors.filter { optimizer || !$0.0.hasPrefix("optimizer/") }
                .map { ($0.0.hasPrefix("model/") ? String($0.0.dropFirst(6)) : $0.0, $0.1, $0.2, $0.3) }
        }

        @Test(arguments: [false, true])
        func npzParsesBack(forceZip64: Bool) throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let c = try checkpoint(dir)
            for optimizer in [false, true] {
                let out = dir.file("out-\(optimizer).npz")
                let s = try CheckpointExport.write(c, format: .npz, to: out, includeOptimizer: optimizer, zip64: forceZip64 ? .always : .automatic)
                #expect(s.zip64 == forceZip64 && s.fileBytes == fileSize(out))
                let members = try parseZip(try readBytes(out))
                let want = expected(optimizer: optimizer)
                #expect(members.map(\.name) == want.map { $0.name + ".npy" })
                #expect(members.allSatisfy { $0.zip64 == forceZip64 })
                for (m, w) in zip(members, want) {
                    let (header, data) = try parseNPY(m.data)
                    let dims = w.shape.count == 1 ? "(\(w.shape[0]),)" : "(" + w.shape.map(String.init).joined(separator: ", ") + ")"
                    let descr = ["float32": "<f4", "float64": "<f8", "int32": "<i4", "int64": "<i8", "uint8": "|u1"]["\(w.dtype)"]!
                    #expect(header.hasPrefix("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"), "\(header)")
                    #expect(data == w.bytes, "\(w.name)")
                }
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["out-false.npz", "out-true.npz", "run"])
        }

        @Test func safetensorsParsesBack() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let c = try checkpoint(dir)
            let out = dir.file("model.safetensors")
            try CheckpointExport.write(c, format: .safetensors, to: out, includeOptimizer: true)
            let b = try readBytes(out)
            let n = Int(LE(b: b).u64(0))
            #expect(n % 8 == 0 && b[8] == UInt8(ascii: "{"))
            let header = try #require(try JSONSerialization.jsonObject(with: Data(b[8..<(8 + n)])) as? [String: Any])
            let meta = try #require(header["__metadata__"] as? [String: String])
            #expect(meta["step"] == "77" && meta["format"] == "cohort-checkpoint" && meta["model"] == "mlp")
            #expect(meta["metadata.note"] == "hello \"world\"" && meta["optimizer"] == "adamw" && meta["source"] == c.path)
            let want = expected(optimizer: true)
            #expect(Set(header.keys) == Set(want.map(\.name) + ["__metadata__"]))
            let names = ["float32": "F32", "float64": "F64", "int32": "I32", "int64": "I64", "uint8": "U8"]
            var covered = 0
            for w in want {
                let t = try #require(header[w.name] as? [String: Any])
                #expect(t["dtype"] as? String == names["\(w.dtype)"] && t["shape"] as? [Int] == w.shape)
                let offsets = try #require(t["data_offsets"] as? [Int])
                #expect(offsets[0] == covered && offsets[1] - offsets[0] == w.bytes.count)   // contiguous, in order
                covered = offsets[1]
                #expect(Array(b[(8 + n + offsets[0])..<(8 + n + offsets[1])]) == w.bytes, "\(w.name)")
            }
            #expect(8 + n + covered == b.count)
            // CohortData's reader sees the same tensors and metadata.
            let file = try SafetensorsFile(path: out)
            #expect(file.metadata == meta && file.entries.map(\.name) == want.map(\.name))
            let f32 = try file.tensor(try #require(want.first { $0.shape == [128, 200] }).name)
            #expect(f32.shape == [128, 200] && f32.values == Self.big)
        }

        @Test func unusableNamesAndDamageAreErrors() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            for names in [["model/x", "x"], ["model/../evil"], ["model//x"], ["/abs"], ["model/__metadata__"], ["model/a\nb"]] {
                let path = try CheckpointWriter.write(Manifest(), tensors: names.map { payload($0, [1], [1]) }, directory: dir.file("bad"))
                let c = try Checkpoint(path: path)
                let e = checkpointError { try CheckpointExport.write(c, format: .npz, to: dir.file("x.npz")) }
                #expect(e.map { "\($0)".contains("export") } == true, "\(names): \(String(describing: e))")
            }
            // A damaged tensor stops the export and leaves no file behind.
            let c = try checkpoint(dir)
            let rec = try #require(c.manifest.tensor(named: "model/1.weight"))
            var data = try readBytes(c.path + "/" + rec.chunks[0].file)
            data[Int(rec.chunks[0].offset) + 100] ^= 1
            try writeBytes(data, c.path + "/" + rec.chunks[0].file)
            for format in ExportFormat.allCases {
                let e = checkpointError { try CheckpointExport.write(c, format: format, to: dir.file("damaged.\(format)")) }
                #expect(e.map { "\($0)".contains("model/1.weight") && "\($0)".contains("checksum") } == true)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["bad", "run"])
            // The output file's errors name it (and are not about the checkpoint).
            #expect(throws: CohortError.badFile(path: dir.file("no/such/dir/x.npz"), "cannot create: No such file or directory")) {
                try CheckpointExport.write(c, format: .npz, to: dir.file("no/such/dir/x.npz"))
            }
        }

        static let numpyScript = """
        import json, sys, zipfile, numpy as np
        npz, npz64, st = sys.argv[1:4]
        def describe(a):
            return {"dtype": str(a.dtype), "shape": list(a.shape), "hex": a.astype(a.dtype.newbyteorder("<")).tobytes().hex()}
        out = {}
        for path in (npz, npz64):
            assert zipfile.ZipFile(path).testzip() is None, path
            with np.load(path) as z:
                out[path] = {k: describe(z[k]) for k in z.files}
        b = open(st, "rb").read()
        n = int.from_bytes(b[:8], "little")
        h = json.loads(b[8:8 + n])
        types = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "U8": "u1"}
        d = {}
        for k, v in h.items():
            if k == "__metadata__":
                continue
            s, e = v["data_offsets"]
            a = np.frombuffer(b[8 + n + s:8 + n + e], dtype=types[v["dtype"]]).reshape(v["shape"])
            d[k] = describe(a)
        out[st] = d
        out["metadata"] = h["__metadata__"]
        print(json.dumps(out))
        """

        @Test func numpyLoadsBothFormats() throws {
            // A missing reference is a failure, not a skip: it would hide a broken `make deps`.
            try #require(Python.hasNumpy, "no numpy in the reference venv \(Python.executable): run make deps")
            let dir = try Scratch()
            defer { dir.remove() }
            let c = try checkpoint(dir)
            let npz = dir.file("a.npz"), npz64 = dir.file("b.npz"), st = dir.file("c.safetensors")
            try CheckpointExport.write(c, format: .npz, to: npz, includeOptimizer: true)
            try CheckpointExport.write(c, format: .npz, to: npz64, includeOptimizer: true, zip64: .always)
            try CheckpointExport.write(c, format: .safetensors, to: st, includeOptimizer: true)
            let r = try Python.run(Self.numpyScript, [npz, npz64, st])
            try #require(r.status == 0, "python failed: \(r.err)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
            let numpyNames = ["float32": "float32", "float64": "float64", "int32": "int32", "int64": "int64", "uint8": "uint8"]
            for file in [npz, npz64, st] {
                let got = try #require(json[file] as? [String: [String: Any]])
                let want = expected(optimizer: true)
                #expect(Set(got.keys) == Set(want.map(\.name)), "\(file)")
                for w in want {
                    let g = try #require(got[w.name], "\(file): \(w.name) missing")
                    #expect(g["dtype"] as? String == numpyNames["\(w.dtype)"] && g["shape"] as? [Int] == w.shape, "\(file): \(w.name)")
                    let hex = w.bytes.map { String(format: "%02x", $0) }.joined()
                    #expect(g["hex"] as? String == hex, "\(file): \(w.name) bytes differ")   // bitwise
                }
            }
            #expect((json["metadata"] as? [String: String])?["step"] == "77")
        }
    }
}
