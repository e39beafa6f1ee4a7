// A detection split written as PNG scenes + annotations.json reads back as the same
// scenes (pixels, boxes, classes, source ids); broken splits are errors naming the file.
import CohortCore
import Foundation
import Testing
@testable import CohortData

@Suite struct DetectionDatasetTests {
    func scenes() throws -> [DetectionScene] {
        var bytes = [UInt8](repeating: 0, count: 2 * 784)
        for k in 0..<2 { for y in (4 + k)..<(22 - k) { for x in 6..<20 { bytes[k * 784 + y * 28 + x] = UInt8(90 + 60 * k) } } }
        return try DetectionScenes.make(images: try IDXArray(shape: [2, 28, 28], bytes: bytes), labels: try IDXArray(shape: [2], bytes: [4, 9]), count: 5, seed: 3)
    }

    func temporary() throws -> String {
        let dir = NSTemporaryDirectory() + "cohort-det-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func writtenSplitsReadBackExactly() throws {
        let dir = try temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = try scenes()
        try DetectionDataset.write(made, to: dir + "/train")
        let read = try DetectionDataset(directory: dir + "/train")
        #expect(read.scenes == made && read.canvas == 96 && read.classes == 10 && read.files[4] == "images/000004.png")
        #expect(FileManager.default.fileExists(atPath: dir + "/train/images/000000.png"))
    }

    @Test func brokenSplitsNameTheFileAtFault() throws {
        let dir = try temporary()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try DetectionDataset.write(try scenes(), to: dir + "/s")
        let path = dir + "/s/annotations.json"
        let good = try String(contentsOfFile: path, encoding: .utf8)
        func expectError(_ text: String, _ fragments: [String]) throws {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            #expect { try DetectionDataset(directory: dir + "/s") } throws: { error in fragments.allSatisfy { "\(error)".contains($0) } }
        }
        try expectError(good.replacingOccurrences(of: #""label":4"#, with: #""label":12"#), ["annotations.json", "label 12"])
        try expectError(good.replacingOccurrences(of: "000002.png", with: "missing.png"), ["missing.png"])
        try expectError(good.replacingOccurrences(of: #""canvas":96"#, with: #""canvas":64"#), ["000000.png", "96×96", "64×64"])
        try expectError("[1, 2]", ["annotations.json", "\"canvas\""])
        try FileManager.default.removeItem(atPath: path)
        #expect { try DetectionDataset(directory: dir + "/s") } throws: { "\($0)".contains("make-detection") }
    }
}
