// `cohort predict` with a detector (`cohort train --task detect`): PNG images in (a file,
// or a directory's *.png files in name order), one JSON line of boxes per image out, and
// with --draw DIR each image written again with its boxes drawn, one colour per class.
// Ranks share the images as they share rows (contiguous runs of whole batches).
import CohortCollectives
import CohortCore
import CohortData
import CohortMetrics
import CohortRuntime
import Foundation

extension Predict {
    /// One colour per class (cycled): red, green, blue, yellow, magenta, cyan, orange, violet, lime, pink.
    static let boxColors: [[UInt8]] = [[230, 25, 75], [60, 180, 75], [0, 130, 200], [255, 225, 25], [240, 50, 230],
                                       [70, 240, 240], [245, 130, 48], [145, 30, 180], [210, 245, 60], [250, 190, 212]]

    /// The PNG files `--input` names: itself, or a directory's `*.png` (else its `images/*.png`), sorted by name.
    func detectionInputs() throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else { throw CohortError.badFlag(flag: "--input", "\(input): no such file or directory") }
        guard isDirectory.boolValue else { return [input] }
        for dir in [input, input + "/images"] {
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.lowercased().hasSuffix(".png") }.sorted()
            if !names.isEmpty { return names.map { dir + "/" + $0 } }
        }
        throw CohortError.badFlag(flag: "--input", "\(input) holds no .png images (nor does \(input)/images)")
    }

    /// This rank's JSON lines (one per image of its shard, in input order); draws into `--draw`.
    func predictDetections(_ comm: any Communicator) throws -> String {
        let model = try DetectionModel(path: checkpoint)
        let files = try detectionInputs()
        if let draw { try FileManager.default.createDirectory(atPath: draw, withIntermediateDirectories: true) }
        let mine = Self.shard(files.count, batch: batchSize, rank: comm.rank, size: comm.size)
        var lines = ""
        var start = mine.lowerBound
        while start < mine.upperBound {
            let chunk = Array(files[start..<min(start + batchSize, mine.upperBound)])
            let images = try chunk.map { try PNGImage(contentsOf: $0) }
            for (file, image) in zip(chunk, images) where image.width != model.head.side || image.height != model.head.side {
                throw CohortError.badFile(path: file, "is \(image.width)×\(image.height); the detector in \(model.source) takes \(model.head.side)×\(model.head.side) images")
            }
            for (file, (image, found)) in zip(chunk, zip(images, try model.detect(images.map(\.grayscale)))) {
                let kept = found.filter { $0.score >= Double(minScore) }
                let boxes = kept.map { d in
                    String(format: #"{"box":[%.1f,%.1f,%.1f,%.1f],"label":%d,"score":%.4f}"#, d.box.x0, d.box.y0, d.box.x1, d.box.y1, d.label, d.score)
                }
                lines += #"{"image":"# + jsonStringLiteral(file) + #","detections":["# + boxes.joined(separator: ",") + "]}\n"
                if let draw { try drawBoxes(kept, on: image, to: draw + "/" + URL(fileURLWithPath: file).lastPathComponent) }
            }
            start += chunk.count
        }
        if comm.rank == 0 {
            Log.main("cohort predict: \(files.count) images, detector from \(model.source), boxes scoring ≥ \(minScore)" + (draw.map { ", drawn into \($0)" } ?? "") + ", \(comm.size) rank(s)")
        }
        return lines
    }

    /// `image` in colour with each detection's box outlined in its class's colour, written to `path`.
    func drawBoxes(_ detections: [ScoredDetection], on image: PNGImage, to path: String) throws {
        var out = try PNGImage(width: image.width, height: image.height, channels: 3)
        for (p, v) in image.grayscale.enumerated() { for c in 0..<3 { out.pixels[3 * p + c] = v } }
        for d in detections.reversed() {   // the best box drawn last, on top
            // Corners clamped to just outside the image (decoded boxes are finite, but may reach past the edges).
            let c = [d.box.x0, d.box.y0, d.box.x1, d.box.y1].map { Int(min(max($0, -2), Double(max(image.width, image.height) + 2)).rounded()) }
            out.drawRectangle(x0: c[0], y0: c[1], x1: c[2] - 1, y1: c[3] - 1,
                              color: Self.boxColors[d.label % Self.boxColors.count])
        }
        try out.write(to: path)
    }
}
