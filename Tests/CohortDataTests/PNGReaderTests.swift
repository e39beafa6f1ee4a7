// The PNG reader: Cohort's own images round-trip; PNGs in grayscale, grayscale + alpha, RGB
// and RGBA — saved by Pillow, and encoded by Tests/Support/png_reference.py with every row
// filter (None, Sub, Up, Average, Paeth) — decode to Pillow's own pixels (alpha dropped);
// a damaged file is an error naming what is wrong.
import CohortProcess
import CohortProcessTestSupport
import Foundation
import Testing
@testable import CohortData

@Suite struct PNGReaderTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Support/png_reference.py").path

    func temporary() throws -> String {
        let dir = NSTemporaryDirectory() + "cohort-pngr-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func cohortsOwnImagesRoundTrip() throws {
        var gray = try PNGImage(width: 9, height: 4, channels: 1)
        for i in gray.pixels.indices { gray.pixels[i] = UInt8((i * 53) % 256) }
        var rgb = try PNGImage(width: 5, height: 6, channels: 3, fill: 40)
        rgb.drawRectangle(x0: 1, y0: 1, x1: 3, y1: 4, color: [250, 10, 128])
        for image in [gray, rgb] {
            #expect(try PNGImage(decoding: image.encoded(), path: "mem") == image)
        }
        #expect(rgb.grayscale.count == 30 && rgb.grayscale[0] == 40)
    }

    @Test func filteredImagesDecodeToPillowsPixels() throws {
        let dir = try temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runWithTimeout(argv: [ReferenceVenv.python, Self.script, dir], timeout: 300)
        #expect(r.status.processStatus == 0, "Pillow is part of the reference venv (make deps): \(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 8)
        var filters = Set<UInt8>()
        for line in lines {
            let f = line.split(separator: " ").map(String.init)
            let (path, mode, w, h, hex) = (f[0], f[1], Int(f[2])!, Int(f[3])!, Array(f[4].utf8))
            let bands = ["L": 1, "LA": 2, "RGB": 3, "RGBA": 4][mode]!
            let reference = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0...$0 + 1], as: UTF8.self), radix: 16)! }
            let image = try PNGImage(contentsOf: path)
            #expect(image.width == w && image.height == h && image.channels == (bands >= 3 ? 3 : 1), "\(mode)")
            let kept = bands >= 3 ? 3 : 1
            let expected = (0..<(w * h)).flatMap { p in reference[(p * bands)..<(p * bands + kept)] }
            #expect(image.pixels == expected, "\(mode)")
            filters.formUnion(try rowFilters(path, width: w, height: h, bands: bands))
        }
        #expect(filters == [0, 1, 2, 3, 4], "the files should use every row filter, used \(filters.sorted())")
    }

    /// The filter byte of every row (inflated with Cohort's zlib wrapper), so the test knows what it covered.
    func rowFilters(_ path: String, width: Int, height: Int, bands: Int) throws -> Set<UInt8> {
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        var at = 8, idat: [UInt8] = []
        while at + 8 <= bytes.count {
            let n = Int(PNGImage.readBigEndian(bytes, at))
            if String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self) == "IDAT" { idat += bytes[(at + 8)..<(at + 8 + n)] }
            at += 12 + n
        }
        var raw: [UInt8] = []
        _ = try GzipInflater(idat, path: path).read(height * (width * bands + 1), into: &raw)
        return Set((0..<height).map { raw[$0 * (width * bands + 1)] })
    }

    @Test func damagedFilesAreNamedErrors() throws {
        var image = try PNGImage(width: 8, height: 8, channels: 1, fill: 7)
        image.set(3, 3, [200])
        let good = image.encoded()
        var flipped = good
        flipped[45] ^= 0x01   // inside the IDAT data: its CRC no longer matches
        let cases: [([UInt8], String)] = [
            (Array(good[0..<30]), "truncated"), (flipped, "CRC"), (Array(good.dropFirst()), "signature"),
        ]
        for (bytes, text) in cases {
            #expect { try PNGImage(decoding: bytes, path: "/x/scene.png") } throws: { error in
                "\(error)".contains("/x/scene.png") && "\(error)".contains(text)
            }
        }
    }
}
