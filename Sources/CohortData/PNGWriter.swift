// PNG images written by Cohort itself: GAN sample grids, detection boxes drawn on
// images. 8-bit grayscale or RGB, no interlace, every row with filter 0, the image
// data deflated by zlib (Gzip.swift) and each chunk stamped with the package's CRC-32.
import CohortCore
import Foundation

/// An 8-bit image in memory: `channels` 1 (grayscale) or 3 (RGB), rows top to bottom, pixels
/// interleaved (`pixels[(y * width + x) * channels + c]`).
public struct PNGImage: Sendable, Equatable {
    public let width: Int, height: Int, channels: Int
    public var pixels: [UInt8]

    /// A `width`×`height` image filled with `fill` in every channel.
    /// - Throws: `CohortError.invalidParameter` for a non-positive size or channels other than 1 or 3.
    public init(width: Int, height: Int, channels: Int, fill: UInt8 = 0) throws {
        guard width > 0, height > 0, width <= 1 << 20, height <= 1 << 20 else {
            throw CohortError.invalidParameter(name: "size", "a PNG image must be 1…\(1 << 20) pixels a side, not \(width)×\(height)")
        }
        guard channels == 1 || channels == 3 else {
            throw CohortError.invalidParameter(name: "channels", "a PNG image here has 1 (grayscale) or 3 (RGB) channels, not \(channels)")
        }
        self.width = width; self.height = height; self.channels = channels
        pixels = [UInt8](repeating: fill, count: width * height * channels)
    }

    /// Sets pixel (`x`, `y`) to `color` (one value per channel); outside the image: nothing.
    public mutating func set(_ x: Int, _ y: Int, _ color: [UInt8]) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let base = (y * width + x) * channels
        for c in 0..<channels { pixels[base + c] = color[min(c, color.count - 1)] }
    }

    /// Draws the outline of the box from (`x0`, `y0`) to (`x1`, `y1`) inclusive, `thickness` pixels wide (clipped to the image).
    /// An empty box (`x1 < x0` or `y1 < y0`) draws nothing.
    public mutating func drawRectangle(x0: Int, y0: Int, x1: Int, y1: Int, color: [UInt8], thickness: Int = 1) {
        guard x1 >= x0, y1 >= y0 else { return }
        for t in 0..<max(thickness, 1) {
            // Only the part of each edge inside the image is visited (a box may reach far outside it).
            for x in max(x0 - t, 0)...max(min(x1 + t, width - 1), max(x0 - t, 0)) { set(x, y0 - t, color); set(x, y1 + t, color) }
            for y in max(y0 - t, 0)...max(min(y1 + t, height - 1), max(y0 - t, 0)) { set(x0 - t, y, color); set(x1 + t, y, color) }
        }
    }

    /// The image as PNG file bytes.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = PNGImage.bigEndian(UInt32(width)) + PNGImage.bigEndian(UInt32(height))
        header += [8, channels == 1 ? 0 : 2, 0, 0, 0]   // bit depth 8; gray or truecolor; deflate, filter 0, no interlace
        PNGImage.append(chunk: "IHDR", header, to: &out)
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))   // each row: filter type 0, then its bytes
        for y in 0..<height { raw.replaceSubrange((y * (stride + 1) + 1)...(y * (stride + 1) + stride), with: pixels[(y * stride)..<((y + 1) * stride)]) }
        PNGImage.append(chunk: "IDAT", Gzip.compress(raw, level: 6, zlibWrapper: true), to: &out)
        PNGImage.append(chunk: "IEND", [], to: &out)
        return out
    }

    /// Writes the PNG to `path` (atomically: a temporary file renamed into place).
    /// - Throws: `CohortError.badFile` naming the path when it cannot be written.
    public func write(to path: String) throws {
        do { try Data(encoded()).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw CohortError.badFile(path: path, "cannot write the PNG image: \(error.localizedDescription)")
        }
    }

    /// A grid of equally sized grayscale tiles (values in 0…1, row-major `tileHeight`×`tileWidth`
    /// each), `columns` per row with `padding` pixels of `background` between them: a GAN's samples.
    public static func grid(tiles: [[Float]], tileWidth: Int, tileHeight: Int, columns: Int, padding: Int = 2,
                            background: UInt8 = 40) throws -> PNGImage {
        guard !tiles.isEmpty, columns > 0 else { throw CohortError.invalidParameter(name: "tiles", "a grid needs at least one tile and one column") }
        for (i, t) in tiles.enumerated() where t.count != tileWidth * tileHeight {
            throw CohortError.invalidParameter(name: "tiles", "tile \(i) has \(t.count) values, a \(tileWidth)×\(tileHeight) tile has \(tileWidth * tileHeight)")
        }
        let rows = (tiles.count + columns - 1) / columns
        var image = try PNGImage(width: columns * (tileWidth + padding) + padding, height: rows * (tileHeight + padding) + padding,
                                 channels: 1, fill: background)
        for (i, tile) in tiles.enumerated() {
            let ox = padding + (i % columns) * (tileWidth + padding), oy = padding + (i / columns) * (tileHeight + padding)
            for y in 0..<tileHeight {
                for x in 0..<tileWidth {
                    let v = tile[y * tileWidth + x]
                    image.pixels[(oy + y) * image.width + ox + x] = UInt8((min(max(v.isFinite ? v : 0, 0), 1) * 255).rounded())
                }
            }
        }
        return image
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }

    static func append(chunk type: String, _ data: [UInt8], to out: inout [UInt8]) {
        out += bigEndian(UInt32(data.count))
        let typed = Array(type.utf8) + data
        out += typed
        out += bigEndian(typed.withUnsafeBytes { CRC32.checksum($0) })
    }
}
