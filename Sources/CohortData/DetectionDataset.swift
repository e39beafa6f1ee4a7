// A detection data set on disk, one directory per split: `images/NNNNNN.png` (grayscale
// scenes) and `annotations.json` (DetectionScenes.annotationsJSON: each image's boxes
// and classes). `cohort data make-detection` writes it; `cohort train --task detect`
// reads it. The annotations are written last, so a split without them is incomplete.
import CohortCore
import Foundation

/// One split of a detection data set, in memory: square grayscale scenes and their objects.
public struct DetectionDataset: Sendable {
    /// The split's directory.
    public let directory: String
    /// Canvas side in pixels (every image is `canvas × canvas`).
    public let canvas: Int
    /// Number of object classes (labels are `0..<classes`).
    public let classes: Int
    /// The scenes in annotation order.
    public let scenes: [DetectionScene]
    /// Each scene's image file, relative to `directory`.
    public let files: [String]

    /// The name of a split's annotation file.
    public static let annotationsName = "annotations.json"

    public var count: Int { scenes.count }

    /// Writes `scenes` into `directory` (created): `images/NNNNNN.png`, then `annotations.json`.
    /// - Throws: `CohortError.badFile` naming the path that cannot be written.
    public static func write(_ scenes: [DetectionScene], classes: Int = 10, to directory: String) throws {
        let images = directory + "/images"
        do { try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true) } catch {
            throw CohortError.badFile(path: images, "cannot create the directory: \(error.localizedDescription)")
        }
        var files: [String] = []
        for (i, scene) in scenes.enumerated() {
            let file = "images/" + String(format: "%06d.png", i)
            var png = try PNGImage(width: scene.size, height: scene.size, channels: 1)
            png.pixels = scene.pixels
            try png.write(to: directory + "/" + file)
            files.append(file)
        }
        let path = directory + "/" + annotationsName
        do { try Data(DetectionScenes.annotationsJSON(scenes, files: files, classes: classes).utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw CohortError.badFile(path: path, "cannot write the annotations: \(error.localizedDescription)")
        }
    }

    /// Reads the split in `directory`.
    /// - Throws: `CohortError.badFile` naming the annotation file or image at fault: missing annotations,
    ///   malformed JSON, an image that is missing or not `canvas × canvas`, a box outside the canvas or empty,
    ///   a label outside `0..<classes`.
    public init(directory: String) throws {
        let path = directory + "/" + DetectionDataset.annotationsName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CohortError.badFile(path: path, "no detection annotations (cohort data make-detection writes a split's images and \(DetectionDataset.annotationsName))")
        }
        func bad(_ why: String) -> CohortError { .badFile(path: path, why) }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let canvas = root["canvas"] as? Int,
              let classes = root["classes"] as? Int, let list = root["images"] as? [[String: Any]] else {
            throw bad("expected a JSON object with \"canvas\", \"classes\" and \"images\" (docs/detection.md)")
        }
        guard canvas >= 8, canvas <= 4096, classes >= 1, classes <= 1000 else { throw bad("canvas \(canvas) (8…4096) or classes \(classes) (1…1000) out of range") }
        var scenes: [DetectionScene] = [], files: [String] = []
        for (i, entry) in list.enumerated() {
            guard let file = entry["file"] as? String, let objects = entry["objects"] as? [[String: Any]] else {
                throw bad("image \(i): expected \"file\" and \"objects\"")
            }
            let image = try PNGImage(contentsOf: directory + "/" + file)
            guard image.width == canvas, image.height == canvas else {
                throw CohortError.badFile(path: directory + "/" + file, "is \(image.width)×\(image.height); the annotations say every image is \(canvas)×\(canvas)")
            }
            let boxes = try objects.enumerated().map { k, o -> SceneObject in
                guard let b = o["box"] as? [Int], b.count == 4, let label = o["label"] as? Int else {
                    throw bad("image \(i) (\(file)), object \(k): expected \"box\": [x0, y0, x1, y1] in whole pixels and \"label\"")
                }
                guard b[0] >= 0, b[1] >= 0, b[0] < b[2], b[1] < b[3], b[2] <= canvas, b[3] <= canvas else {
                    throw bad("image \(i) (\(file)), object \(k): box \(b) is empty or outside the \(canvas)×\(canvas) canvas")
                }
                guard (0..<classes).contains(label) else { throw bad("image \(i) (\(file)), object \(k): label \(label) is not in 0…\(classes - 1)") }
                return SceneObject(x0: b[0], y0: b[1], x1: b[2], y1: b[3], label: label, source: o["source"] as? Int ?? -1)
            }
            scenes.append(DetectionScene(size: canvas, pixels: image.grayscale, objects: boxes))
            files.append(file)
        }
        guard !scenes.isEmpty else { throw bad("lists no images") }
        (self.directory, self.canvas, self.classes, self.scenes, self.files) = (directory, canvas, classes, scenes, files)
    }
}
