// Reading PNG images: the detection data set's scenes and the images `cohort predict`
// draws boxes on. 8-bit grayscale, grayscale + alpha, RGB and RGBA (alpha dropped),
// without interlace; every chunk's CRC checked, the image data inflated by zlib
// (Gzip.swift) and each row un-filtered (None, Sub, Up, Average, Paeth).
import CohortCore
import Foundation

extension PNGImage {
    /// The PNG file at `path`.
    /// - Throws: `CohortError.badFile` naming the path when it cannot be read or is not a PNG this reader takes.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw CohortError.badFile(path: path, "cannot read the PNG image") }
        try self.init(decoding: [UInt8](data), path: path)
    }

    /// Decodes PNG file bytes; `path` names the file in errors.
    /// - Throws: `CohortError.badFile` for a truncated or corrupt file (a CRC mismatch names its chunk), or
    ///   a bit depth other than 8, palette colours or interlacing.
    public init(decoding bytes: [UInt8], path: String) throws {
        func bad(_ why: String) -> CohortError { .badFile(path: path, "not a PNG image this reader takes: " + why) }
        guard bytes.count >= 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw bad("no PNG signature") }
        var at = 8
        var header: [UInt8] = [], idat: [UInt8] = []
        var ended = false
        while !ended {
            guard at + 12 <= bytes.count else { throw bad("truncated at byte \(at) (no IEND chunk)") }
            let length = Int(PNGImage.readBigEndian(bytes, at))
            guard length <= bytes.count - at - 12 else { throw bad("truncated: a chunk at byte \(at) declares \(length) bytes") }
            let typed = Array(bytes[(at + 4)..<(at + 8 + length)])
            let type = String(decoding: typed[0..<4], as: UTF8.self)
            let stored = PNGImage.readBigEndian(bytes, at + 8 + length)
            guard typed.withUnsafeBytes({ CRC32.checksum($0) }) == stored else { throw bad("the \(type) chunk at byte \(at) fails its CRC check") }
            switch type {
            case "IHDR": header = Array(typed[4...])
            case "IDAT": idat += typed[4...]
            case "IEND": ended = true
            default: break   // ancillary chunks (text, gamma, …) are not needed
            }
            at += 12 + length
        }
        guard header.count == 13 else { throw bad("no 13-byte IHDR chunk") }
        let width = Int(PNGImage.readBigEndian(header, 0)), height = Int(PNGImage.readBigEndian(header, 4))
        let depth = header[8], color = header[9], interlace = header[12]
        let stored: Int
        switch color {
        case 0: stored = 1
        case 2: stored = 3
        case 4: stored = 2
        case 6: stored = 4
        default: throw bad("colour type \(color) (palette images are not read; save as grayscale or RGB)")
        }
        guard depth == 8 else { throw bad("bit depth \(depth) (only 8 bits per channel)") }
        guard interlace == 0 else { throw bad("an interlaced image (save without interlacing)") }
        guard width > 0, height > 0, width <= 1 << 14, height <= 1 << 14 else { throw bad("size \(width)×\(height) (1…16384 pixels a side)") }
        let stride = width * stored, expected = height * (stride + 1)
        var raw: [UInt8] = []
        do {
            let inflater = try GzipInflater(idat, path: path)
            raw.reserveCapacity(expected)
            let end = try inflater.read(expected, into: &raw)
            guard raw.count == expected, end != .truncated else { throw bad("the image data inflates to \(raw.count) bytes, \(expected) expected") }
        } catch let CohortError.badFile(_, why) where why.hasPrefix("bad gzip stream") {
            throw bad("corrupt image data: \(why)")
        }
        let rows = try PNGImage.unfilter(raw, height: height, stride: stride, bytesPerPixel: stored, bad)
        let channels = stored >= 3 ? 3 : 1
        try self.init(width: width, height: height, channels: channels)
        for p in 0..<(width * height) {
            for c in 0..<channels { pixels[p * channels + c] = rows[p * stored + c] }
        }
    }

    /// The image as grayscale values 0…255 (ITU-R BT.601 luma for RGB), row-major.
    public var grayscale: [UInt8] {
        guard channels == 3 else { return pixels }
        return (0..<(width * height)).map { p in
            let r = Double(pixels[3 * p]), g = Double(pixels[3 * p + 1]), b = Double(pixels[3 * p + 2])
            return UInt8((0.299 * r + 0.587 * g + 0.114 * b).rounded())
        }
    }

    /// Rows with their filter bytes removed and the filters undone (PNG specification, section 9).
    static func unfilter(_ raw: [UInt8], height: Int, stride: Int, bytesPerPixel bpp: Int, _ bad: (String) -> CohortError) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)], src = y * (stride + 1) + 1, row = y * stride, up = row - stride
            for i in 0..<stride {
                let x = raw[src + i]
                let a = i >= bpp ? out[row + i - bpp] : 0, b = y > 0 ? out[up + i] : 0, c = (y > 0 && i >= bpp) ? out[up + i - bpp] : 0
                let predicted: UInt8
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = UInt8((Int(a) + Int(b)) / 2)
                case 4:
                    let p = Int(a) + Int(b) - Int(c), pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
                    predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw bad("row \(y) has filter type \(filter) (0…4 exist)")
                }
                out[row + i] = x &+ predicted
            }
        }
        return out
    }

    static func readBigEndian(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }
}
