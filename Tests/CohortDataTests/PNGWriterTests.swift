// The PNG writer: its bytes decoded by an independent reader (Python's zlib and
// struct, no imaging library) give back the pixels; chunk CRCs and the grid's layout.
import CohortProcess
import CohortProcessTestSupport
import Foundation
import Testing
import CohortCore
@testable import CohortData

@Suite struct PNGWriterTests {
    /// Decodes a filter-0 8-bit PNG with Python's standard library, checking every chunk's CRC;
    /// prints `width height colortype` and then the pixel bytes in hex.
    static let decoder = """
    import sys, struct, zlib
    b = open(sys.argv[1], 'rb').read()
    assert b[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
    i, idat, ihdr = 8, b'', None
    while i < len(b):
        n, = struct.unpack('>I', b[i:i+4]); t = b[i+4:i+8]; d = b[i+8:i+8+n]
        crc, = struct.unpack('>I', b[i+8+n:i+12+n])
        assert zlib.crc32(t + d) == crc, t
        if t == b'IHDR': ihdr = struct.unpack('>IIBBBBB', d)
        if t == b'IDAT': idat += d
        i += 12 + n
    w, h, depth, ct = ihdr[0], ihdr[1], ihdr[2], ihdr[3]
    ch = 1 if ct == 0 else 3
    raw = zlib.decompress(idat)
    rows = [raw[y*(w*ch+1):(y+1)*(w*ch+1)] for y in range(h)]
    assert all(r[0] == 0 for r in rows)
    print(w, h, ct, depth)
    print(b''.join(r[1:] for r in rows).hex())
    """

    func decode(_ image: PNGImage) throws -> (header: String, pixels: [UInt8]) {
        let path = NSTemporaryDirectory() + "cohort-png-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try image.write(to: path)
        let r = try runWithTimeout(argv: ["/usr/bin/python3", "-c", PNGWriterTests.decoder, path], timeout: 120)
        #expect(r.status.processStatus == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let hex = Array(lines.count > 1 ? lines[1] : "")
        var bytes: [UInt8] = []
        var k = 0
        while k + 1 < hex.count { bytes.append(UInt8(String(hex[k...k + 1]), radix: 16)!); k += 2 }
        return (lines.first ?? "", bytes)
    }

    @Test func grayscaleAndRGBRoundTripThroughAnIndependentDecoder() throws {
        var gray = try PNGImage(width: 7, height: 5, channels: 1)
        for i in gray.pixels.indices { gray.pixels[i] = UInt8((i * 37) % 256) }
        let g = try decode(gray)
        #expect(g.header == "7 5 0 8")
        #expect(g.pixels == gray.pixels)

        var rgb = try PNGImage(width: 4, height: 3, channels: 3, fill: 10)
        rgb.drawRectangle(x0: 0, y0: 0, x1: 3, y1: 2, color: [255, 0, 0])
        rgb.set(1, 1, [0, 200, 50])
        let c = try decode(rgb)
        #expect(c.header == "4 3 2 8")
        #expect(c.pixels == rgb.pixels)
        #expect(Array(rgb.pixels[0..<3]) == [255, 0, 0])
        #expect(Array(rgb.pixels[15..<18]) == [0, 200, 50])   // (1, 1): (1 * 4 + 1) * 3
    }

    @Test func gridPlacesTilesWithPaddingAndClampsValues() throws {
        let tiles: [[Float]] = [[0, 1, 0.5, 2], [-1, .nan, 1, 0], [1, 1, 1, 1]]
        let grid = try PNGImage.grid(tiles: tiles, tileWidth: 2, tileHeight: 2, columns: 2, padding: 1, background: 7)
        #expect(grid.width == 7 && grid.height == 7)
        #expect(grid.pixels[0] == 7)
        #expect(Array(grid.pixels[(1 * 7 + 1)...(1 * 7 + 2)]) == [0, 255])       // tile 0, first row
        #expect(Array(grid.pixels[(2 * 7 + 1)...(2 * 7 + 2)]) == [128, 255])     // 0.5 → 128, 2 clamped to 255
        #expect(Array(grid.pixels[(1 * 7 + 4)...(1 * 7 + 5)]) == [0, 0])         // tile 1: −1 and NaN → 0
        #expect(grid.pixels[4 * 7 + 1] == 255)                                      // tile 2 starts the second row
        #expect(try decode(grid).pixels == grid.pixels)
    }

    @Test func badSizesAndTilesAreErrorsNamingThem() {
        #expect(throws: CohortError.self) { try PNGImage(width: 0, height: 3, channels: 1) }
        #expect(throws: CohortError.self) { try PNGImage(width: 3, height: 3, channels: 4) }
        #expect(throws: CohortError.self) { try PNGImage.grid(tiles: [[0, 0, 0]], tileWidth: 2, tileHeight: 2, columns: 1) }
    }

    @Test func emptyAndFarOutsideRectanglesAreSafe() throws {
        var image = try PNGImage(width: 6, height: 4, channels: 1)
        image.drawRectangle(x0: 3, y0: 2, x1: 2, y1: 2, color: [255])   // empty: nothing drawn
        #expect(image.pixels.allSatisfy { $0 == 0 })
        image.drawRectangle(x0: -1_000_000, y0: 1, x1: 1_000_000, y1: 2, color: [9])   // clipped, without visiting a million pixels
        #expect(image.pixels[1 * 6] == 9 && image.pixels[2 * 6 + 5] == 9 && image.pixels[0] == 0 && image.pixels[3 * 6] == 0)
    }
}
