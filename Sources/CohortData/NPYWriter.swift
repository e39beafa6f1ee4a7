// Writing NumPy files: the `.npy` v1.0 header for a little-endian C-order array
// (the one header both `NPY.encode` and checkpoint exports write), float32 `.npy`
// bytes, and uncompressed `.npz` archives (np.savez's layout) through `ZipWriter`.
import CohortCore

extension NPY {
    /// The `.npy` v1.0 header (magic, version, length, dict) for a little-endian C-order
    /// array of dtype `descr` (e.g. `<f4`, `|u1`) and `shape`, padded with spaces and a
    /// newline to a multiple of 64 bytes, as NumPy writes it.
    public static func header(shape: [Int], descr: String) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }".utf8)
        let unpadded = 10 + dict.count + 1
        dict += [UInt8](repeating: 0x20, count: (64 - unpadded % 64) % 64) + [0x0A]
        return magic + [1, 0, UInt8(dict.count & 0xFF), UInt8(dict.count >> 8)] + dict
    }

    /// A `.npy` file holding `values` (C order, `values.count` = the product of `shape`) as `<f4`.
    /// - Throws: `CohortError.invalidArgument` if the counts disagree.
    public static func encode(_ values: [Float], shape: [Int]) throws -> [UInt8] {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
            throw CohortError.invalidArgument("NPY.encode: \(values.count) values do not fill shape \(describeShape(shape))")
        }
        var out = header(shape: shape, descr: "<f4")
        out.reserveCapacity(out.count + 4 * values.count)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        return out
    }
}

extension NPZ {
    /// An uncompressed `.npz` archive (as `np.savez` writes) of float32 arrays, member
    /// `<name>.npy` each, in the order given; `NPZ.decode` and `np.load` read it back.
    /// - Throws: `CohortError.invalidArgument` if an array's values do not fill its shape.
    public static func encode(_ arrays: [(name: String, values: [Float], shape: [Int])]) throws -> [UInt8] {
        let out = ZipMemoryOutput()
        let zip = ZipWriter(out)
        for a in arrays {
            let npy = try NPY.encode(a.values, shape: a.shape)
            try zip.addStored(name: a.name + ".npy", size: UInt64(npy.count)) { append in try npy.withUnsafeBytes { try append($0) } }
        }
        try zip.finish()
        return out.bytes
    }
}
