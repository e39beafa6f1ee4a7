// .npy and .npz reading: hand-built files for every supported dtype, shape and
// header version and for every error, plus a few tiny files written once by
// numpy 2.4 (embedded below as base64, with the snippet that made them) to check
// compatibility with real numpy output. No Python is needed to run these tests.
import Testing
import Foundation
@testable import CohortData   // CRC32, to build hand-made ZIP archives

/// A `.npy` file built by hand: magic, version, little-endian header length, the header dict padded
/// with spaces to a 64-byte boundary and ended by '\n', then `data`.
fileprivate func npyFile(descr: String, shape: String, fortran: Bool = false, version: UInt8 = 1, data: [UInt8]) -> [UInt8] {
    var dict = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
    let prefix = version == 1 ? 10 : 12
    let total = (prefix + dict.utf8.count + 1 + 63) / 64 * 64
    dict += String(repeating: " ", count: total - prefix - dict.utf8.count - 1) + "\n"
    let n = dict.utf8.count
    let length: [UInt8] = version == 1 ? le([UInt16(n)]) : le([UInt32(n)])
    return [0x93] + Array("NUMPY".utf8) + [version, 0] + length + Array(dict.utf8) + data
}

/// Little-endian bytes of `values`.
fileprivate func le<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) } }
fileprivate func f32(_ values: [Float]) -> [UInt8] { le(values.map(\.bitPattern)) }
fileprivate func f64(_ values: [Double]) -> [UInt8] { le(values.map(\.bitPattern)) }

/// A ZIP archive of STORED members (no compression), as `np.savez` writes. With `zip64`, the central
/// directory keeps sizes and offsets in zip64 extra fields and ends with zip64 end records.
fileprivate func storedZip(_ members: [(name: String, data: [UInt8])], zip64: Bool = false) -> [UInt8] {
    var out: [UInt8] = [], directory: [UInt8] = []
    let big = UInt32.max
    for m in members {
        let name = Array(m.name.utf8), crc = CRC32.checksum(m.data), size = UInt32(m.data.count)
        // version 20, flags 0, method 0, time 0, date 1980-01-01, CRC
        let head: [UInt8] = le([UInt16(20), 0, 0, 0, 0x21]) + le([crc])
        let extra: [UInt8] = zip64 ? le([UInt16(1), 24]) + le([UInt64(size), UInt64(size), UInt64(out.count)]) : []
        let sizes: [UInt8] = le(zip64 ? [big, big] : [size, size])
        // signature, version made by, common fields, name and extra lengths, comment length, disk, attributes, offset
        let entry: [UInt8] = le([UInt32(0x0201_4B50)]) + [0, 0] + head + sizes + le([UInt16(name.count), UInt16(extra.count)])
        directory += entry + le([UInt16(0), 0, 0, 0, 0]) + le([zip64 ? big : UInt32(out.count)]) + name + extra
        out += le([UInt32(0x0403_4B50)]) + head + le([size, size]) + le([UInt16(name.count), 0]) + name + m.data
    }
    let count = UInt16(members.count)
    guard zip64 else {
        return out + directory + le([UInt32(0x0605_4B50)]) + le([0, 0, count, count]) + le([UInt32(directory.count), UInt32(out.count)]) + [0, 0]
    }
    let n = UInt64(members.count)
    let record: [UInt8] = le([UInt32(0x0606_4B50)]) + le([UInt64(44)]) + le([UInt16(45), 45, 0, 0, 0, 0])
        + le([n, n, UInt64(directory.count), UInt64(out.count)])
    let locator: [UInt8] = le([UInt32(0x0706_4B50), 0]) + le([UInt64(out.count + directory.count)]) + le([UInt32(1)])
    let end: [UInt8] = le([UInt32(0x0605_4B50)]) + le([UInt16(0), 0, 0xFFFF, 0xFFFF]) + le([big, big]) + [0, 0]
    return out + directory + record + locator + end
}

fileprivate func base64(_ text: String) -> [UInt8] { [UInt8](Data(base64Encoded: text)!) }

/// Written once with numpy 2.4.6 (python3):
///   import numpy as np
///   np.save('f32.npy', np.arange(6, dtype=np.float32).reshape(2, 3) / 4)
///   np.save('i64.npy', np.array([-3, 0, 7, 1 << 40], dtype=np.int64))
///   np.save('b1.npy', np.array([True, False, True]))
///   x, y = np.array([[1.5, -2.0]], dtype=np.float64), np.array([1, 2, 3], dtype=np.uint8)
///   np.savez('two.npz', x=x, y=y); np.savez_compressed('twoc.npz', x=x, y=y)
/// and printed with base64.b64encode(open(name, 'rb').read()).
fileprivate enum NumpyFixtures {
    static let f32 = base64([
        "k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAg",
        "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPgAAAD8AAEA/",
        "AACAPwAAoD8=",
    ].joined())
    static let i64 = base64([
        "k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDQsKSwgfSAgICAg",
        "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAr9/////////wAAAAAAAAAA",
        "BwAAAAAAAAAAAAAAAAEAAA==",
    ].joined())
    static let b1 = base64([
        "k05VTVBZAQB2AHsnZGVzY3InOiAnfGIxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDMsKSwgfSAgICAg",
        "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=",
    ].joined())
    /// Two STORED members with zip64 local headers; x.npy's data is bytes 55..<199, the directory starts at 385.
    static let twoNpz = base64([
        "UEsDBC0AAAAAAAAAIQB12LF+//////////8FABQAeC5ucHkBABAAkAAAAAAAAACQAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2Ny",
        "JzogJzxmOCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgxLCAyKSwgfSAgICAgICAgICAgICAgICAgICAg",
        "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKAAAAAAAA+D8AAAAAAAAAwFBLAwQtAAAAAAAAACEAKuOO",
        "sf//////////BQAUAHkubnB5AQAQAIMAAAAAAAAAgwAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICd8dTEnLCAnZm9ydHJh",
        "bl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAg",
        "ICAgICAgICAgICAgICAgICAgICAgCgECA1BLAQItAy0AAAAAAAAAIQB12LF+kAAAAJAAAAAFAAAAAAAAAAAAAACAAQAAAAB4",
        "Lm5weVBLAQItAy0AAAAAAAAAIQAq446xgwAAAIMAAAAFAAAAAAAAAAAAAACAAccAAAB5Lm5weVBLBQYAAAAAAgACAGYAAACB",
        "AQAAAAA=",
    ].joined())
    /// Two DEFLATE members; x.npy's compressed data is bytes 55..<134.
    static let twoCompressedNpz = base64([
        "UEsDBC0AAAAIAAAAIQB12LF+//////////8FABQAeC5ucHkBABAAkAAAAAAAAABPAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxc",
        "pG6loG6TZqGuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GoY6CkaaOgq1CmQDLgYw+GEPoRkOAABQSwMELQAAAAgA",
        "AAAhACrjjrH//////////wUAFAB5Lm5weQEAEACDAAAAAAAAAEcAAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgXlNqqK6j",
        "oJ6WX1RSlJgXn1+UkgoSd0vMKU4FihdnJBakAvkaxjqaOgq1ChQALkYmZgBQSwECLQMtAAAACAAAACEAddixfk8AAACQAAAA",
        "BQAAAAAAAAAAAAAAgAEAAAAAeC5ucHlQSwECLQMtAAAACAAAACEAKuOOsUcAAACDAAAABQAAAAAAAAAAAAAAgAGGAAAAeS5u",
        "cHlQSwUGAAAAAAIAAgBmAAAABAEAAAAA",
    ].joined())
}

@Suite struct NPYTests {
    /// Writes `bytes` to `name` in `dir` and returns the `badFile` message of reading it as .npy.
    func npyError(_ bytes: [UInt8], _ name: String, in dir: ScratchDirectory) throws -> String? {
        let p = try dir.write(bytes, to: name)
        return badFileMessage { _ = try NPY.read(path: p) }
    }

    @Test func everySupportedDtypeConverts() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let cases: [(String, [UInt8], [Float])] = [
            ("|b1", [1, 0, 2], [1, 0, 1]),
            ("|i1", [0xFF, 0x7F, 0x80], [-1, 127, -128]),
            ("|u1", [0, 200, 255], [0, 200, 255]),
            ("<i2", le([Int16(-300), 300]), [-300, 300]),
            ("<u2", le([UInt16(65535), 1]), [65535, 1]),
            ("<i4", le([Int32.min, 5]), [-2_147_483_648, 5]),
            ("<u4", le([UInt32(4_000_000_000)]), [4_000_000_000]),
            ("<i8", le([Int64(-7), 1 << 40]), [-7, 1_099_511_627_776]),
            ("<u8", le([UInt64(1) << 63]), [0x1p63]),
            ("<f4", f32([1.5, -0.25, .infinity]), [1.5, -0.25, .infinity]),
            ("=f4", f32([3]), [3]),
            ("<f8", f64([0.1, 1e300, -2]), [Float(0.1), .infinity, -2]),
        ]
        for (descr, data, expected) in cases {
            let p = try dir.write(npyFile(descr: descr, shape: "(\(expected.count),)", data: data), to: "a.npy")
            let a = try NPY.read(path: p)
            #expect(a.shape == [expected.count] && a.values == expected && a.dtype == descr, "\(descr)")
        }
    }

    @Test func shapesAndHeaderVersions() throws {
        let matrix = try NPY.decode(npyFile(descr: "<f4", shape: "(2, 3)", data: f32([1, 2, 3, 4, 5, 6])), path: "m.npy")
        #expect(matrix.shape == [2, 3] && matrix.values == [1, 2, 3, 4, 5, 6] && matrix.count == 6)
        let scalar = try NPY.decode(npyFile(descr: "<f8", shape: "()", data: f64([2.5])), path: "s.npy")
        #expect(scalar.shape == [] && scalar.values == [2.5])
        let empty = try NPY.decode(npyFile(descr: "<f4", shape: "(2, 0, 3)", data: []), path: "e.npy")
        #expect(empty.shape == [2, 0, 3] && empty.values.isEmpty)
        for version: UInt8 in [2, 3] {
            let bytes = npyFile(descr: "<i4", shape: "(1, 2)", version: version, data: le([Int32(-1), 9]))
            #expect(bytes.count == 128 + 8)
            let a = try NPY.decode(bytes, path: "v.npy")
            #expect(a.shape == [1, 2] && a.values == [-1, 9])
        }
        // Fortran order is the same layout when at most one dimension exceeds 1.
        let row = try NPY.decode(npyFile(descr: "<f4", shape: "(1, 3)", fortran: true, data: f32([1, 2, 3])), path: "r.npy")
        #expect(row.values == [1, 2, 3])
    }

    @Test func numpyWrittenFilesAreRead() throws {
        let f = try NPY.decode(NumpyFixtures.f32, path: "f32.npy")
        #expect(f.shape == [2, 3] && f.dtype == "<f4" && f.values == [0, 0.25, 0.5, 0.75, 1, 1.25])
        let i = try NPY.decode(NumpyFixtures.i64, path: "i64.npy")
        #expect(i.shape == [4] && i.dtype == "<i8" && i.values == [-3, 0, 7, 1_099_511_627_776])
        let b = try NPY.decode(NumpyFixtures.b1, path: "b1.npy")
        #expect(b.shape == [3] && b.dtype == "|b1" && b.values == [1, 0, 1])
    }

    @Test func fortranOrderAndBigEndianAreRejected() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let square = npyFile(descr: "<f4", shape: "(2, 2)", fortran: true, data: f32([1, 2, 3, 4]))
        let fortran = try #require(try npyError(square, "f.npy", in: dir))
        #expect(fortran.contains(dir.file("f.npy")) && fortran.contains("Fortran") && fortran.contains("only C order"), "\(fortran)")
        let big = try #require(try npyError(npyFile(descr: ">f4", shape: "(1,)", data: [0x3F, 0x80, 0, 0]), "be.npy", in: dir))
        #expect(big.contains(dir.file("be.npy")) && big.contains("big-endian dtype '>f4'") && big.contains("astype('<f4')"), "\(big)")
    }

    @Test func unsupportedDtypesAreNamed() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        for (descr, kind) in [("<c16", "complex"), ("|O", "Python object"), ("<U5", "Unicode string"), ("<f2", "float of this size")] {
            let msg = try #require(try npyError(npyFile(descr: descr, shape: "(1,)", data: []), "odd.npy", in: dir))
            #expect(msg.contains(dir.file("odd.npy")) && msg.contains("unsupported dtype '\(descr)' (\(kind))") && msg.contains("<f4"), "\(msg)")
        }
        let structured = Array("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n".utf8)
        let bytes = [0x93] + Array("NUMPY".utf8) + [1, 0] + le([UInt16(structured.count)]) + structured + [0, 0, 0, 0]
        let msg = try #require(try npyError(bytes, "struct.npy", in: dir))
        #expect(msg.contains(dir.file("struct.npy")) && msg.contains("unsupported dtype [('a', '<f4')]"), "\(msg)")
    }

    @Test func truncatedAndOverlongFilesSayExpectedAndActualBytes() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let full = npyFile(descr: "<f4", shape: "(2, 3)", data: f32([1, 2, 3, 4, 5, 6]))
        #expect(full.count == 128 + 24)
        let cut = try #require(try npyError(Array(full.dropLast(5)), "cut.npy", in: dir))
        #expect(cut.contains(dir.file("cut.npy")) && cut.contains("truncated .npy file") && cut.contains("expected 152 bytes")
            && cut.contains("got 147") && cut.contains("128-byte header + 6 × 4-byte '<f4' = 24 data bytes"), "\(cut)")
        let long = try #require(try npyError(full + [0], "long.npy", in: dir))
        #expect(long.contains("longer than its header declares") && long.contains("expected 152 bytes") && long.contains("got 153"), "\(long)")
        let inHeader = try #require(try npyError(Array(full.prefix(60)), "head.npy", in: dir))
        #expect(inHeader.contains(dir.file("head.npy")) && inHeader.contains("needs 128 bytes, got 60"), "\(inHeader)")
        let tiny = try #require(try npyError([0x93, 0x4E], "tiny.npy", in: dir))
        #expect(tiny.contains("expected at least 10 bytes") && tiny.contains("got 2"), "\(tiny)")
        let hostile = try #require(try npyError(npyFile(descr: "<f8", shape: "(4611686018427387904, 4)", data: []), "huge.npy", in: dir))
        #expect(hostile.contains("too large"), "\(hostile)")
    }

    @Test func badMagicVersionAndHeaderAreRejected() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let csv = try #require(try npyError(Array("a,b,label\n1,2,0\n".utf8), "notnpy.npy", in: dir))
        #expect(csv.contains(dir.file("notnpy.npy")) && csv.contains("not a .npy file"), "\(csv)")
        var v4 = npyFile(descr: "<f4", shape: "(1,)", data: f32([1]))
        v4[6] = 4
        let version = try #require(try npyError(v4, "v4.npy", in: dir))
        #expect(version.contains("unsupported .npy format version 4.0"), "\(version)")
        for (header, why) in [("{'descr': '<f4', 'shape': (1,)}", "'fortran_order'"),
                              ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "≥ 0"),
                              ("not a dict", "Python dict"), ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "Python dict")] {
            let h = Array((header + "\n").utf8)
            let file = [0x93] + Array("NUMPY".utf8) + [1, 0] + le([UInt16(h.count)]) + h + f32([1])
            let msg = try #require(try npyError(file, "hdr.npy", in: dir))
            #expect(msg.contains(dir.file("hdr.npy")) && msg.contains("bad .npy header") && msg.contains(why), "\(msg)")
        }
    }

    @Test func missingFileNamesThePath() throws {
        let p = "/nonexistent-cohort-dir/weights.npy"
        let msg = try #require(badFileMessage { _ = try NPY.read(path: p) })
        #expect(msg.contains(p) && msg.contains("No such file"))
        let msg2 = try #require(badFileMessage { _ = try NPZ.read(path: p + "z") })
        #expect(msg2.contains(p + "z") && msg2.contains("No such file"))
    }
}

extension NPYTests {
    /// .npz archives (nested so that the filter `NPYTests` selects them).
    @Suite struct Archives {
        @Test func numpySavezAndSavezCompressedAreRead() throws {
            let dir = try ScratchDirectory()
            defer { dir.remove() }
            for (bytes, name) in [(NumpyFixtures.twoNpz, "two.npz"), (NumpyFixtures.twoCompressedNpz, "twoc.npz")] {
                let arrays = try NPZ.read(path: try dir.write(bytes, to: name))
                #expect(arrays.keys.sorted() == ["x", "y"], "\(name)")
                let x = try #require(arrays["x"]), y = try #require(arrays["y"])
                #expect(x.shape == [1, 2] && x.values == [1.5, -2] && x.dtype == "<f8", "\(name)")
                #expect(y.shape == [3] && y.values == [1, 2, 3] && y.dtype == "|u1", "\(name)")
            }
        }

        @Test func handBuiltArchiveSkipsDirectoriesAndNamesBadMembers() throws {
            let dir = try ScratchDirectory()
            defer { dir.remove() }
            let a = npyFile(descr: "<i4", shape: "(2,)", data: le([Int32(4), -4]))
            let ok = try NPZ.read(path: try dir.write(storedZip([("weights/", []), ("weights/a.npy", a), ("b", a)]), to: "ok.npz"))
            #expect(ok.keys.sorted() == ["b", "weights/a"] && ok["weights/a"]?.values == [4, -4])
            let p = try dir.write(storedZip([("a.npy", a), ("z.npy", npyFile(descr: "<c16", shape: "(1,)", data: []))]), to: "bad.npz")
            let msg = try #require(badFileMessage { _ = try NPZ.read(path: p) })
            #expect(msg.contains(p + " (member z.npy)") && msg.contains("unsupported dtype '<c16'"), "\(msg)")
            let cut = try dir.write(storedZip([("a.npy", Array(a.dropLast(2)))]), to: "cut.npz")
            let msg2 = try #require(badFileMessage { _ = try NPZ.read(path: cut) })
            #expect(msg2.contains(cut + " (member a.npy)") && msg2.contains("expected 136 bytes") && msg2.contains("got 134"), "\(msg2)")
            let big = try NPZ.read(path: try dir.write(storedZip([("x.npy", a), ("y.npy", a)], zip64: true), to: "zip64.npz"))
        #expect(big.keys.sorted() == ["x", "y"] && big["y"]?.values == [4, -4])
        let twice = try dir.write(storedZip([("a.npy", a), ("a.npy", a)]), to: "twice.npz")
            #expect(badFileMessage { _ = try NPZ.read(path: twice) }?.contains("appears twice") == true)
        }

        @Test func corruptArchivesAreReported() throws {
            let dir = try ScratchDirectory()
            defer { dir.remove() }
            var stored = NumpyFixtures.twoNpz
            stored[190] ^= 0xFF
            let p1 = try dir.write(stored, to: "crc.npz")
            let m1 = try #require(badFileMessage { _ = try NPZ.read(path: p1) })
            #expect(m1.contains(p1) && m1.contains("member 'x.npy'") && m1.contains("CRC-32 mismatch"), "\(m1)")

            var deflated = NumpyFixtures.twoCompressedNpz
            for i in 60..<70 { deflated[i] ^= 0x5A }
            let p2 = try dir.write(deflated, to: "deflate.npz")
            let m2 = try #require(badFileMessage { _ = try NPZ.read(path: p2) })
            #expect(m2.contains(p2) && m2.contains("member 'x.npy'") && m2.contains("corrupt DEFLATE data"), "\(m2)")

            let p3 = try dir.write(Array(NumpyFixtures.twoNpz.prefix(300)), to: "short.npz")
            let m3 = try #require(badFileMessage { _ = try NPZ.read(path: p3) })
            #expect(m3.contains(p3) && m3.contains("not a ZIP archive, or a truncated one") && m3.contains("300 bytes"), "\(m3)")

            let p4 = try dir.write(NumpyFixtures.f32, to: "really.npy.npz")
            let m4 = try #require(badFileMessage { _ = try NPZ.read(path: p4) })
            #expect(m4.contains(p4) && m4.contains("this is a .npy file"), "\(m4)")

            var bzip = NumpyFixtures.twoNpz
            bzip[385 + 10] = 12   // the first central-directory entry's compression method
            let p5 = try dir.write(bzip, to: "bzip.npz")
            let m5 = try #require(badFileMessage { _ = try NPZ.read(path: p5) })
            #expect(m5.contains(p5) && m5.contains("member 'x.npy'") && m5.contains("compression method 12 is not supported"), "\(m5)")
        }
    }
}
