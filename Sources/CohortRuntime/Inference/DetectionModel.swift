// A trained detector (`cohort train --task detect`) rebuilt from its checkpoint, and
// detection on images of its canvas size: what `cohort predict` runs on PNG images.
import CohortCheckpoint
import CohortCore
import CohortData
import CohortMetrics
import CohortNN
import CohortTensor
import Foundation

/// A detector and its output head, in evaluation mode.
public final class DetectionModel {
    public let module: any Module
    public let head: CenterNetHead
    /// The checkpoint it was loaded from.
    public let source: String

    /// Whether the checkpoint or run directory at `path` holds a detector: a peek at one manifest (a run
    /// directory's newest checkpoint's), with no tensor read or verified — the loader that follows verifies once.
    public static func isDetector(path: String) -> Bool {
        let path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let candidate = FileManager.default.fileExists(atPath: path + "/" + CheckpointLayout.manifestName)
            ? path : CheckpointStore(directory: path).list().max { $0.step < $1.step }?.path
        guard let candidate, let c = try? Checkpoint(path: candidate) else { return false }
        return c.manifest.model.name == "detector"
    }

    /// The detector in the checkpoint (or the newest valid one of the run directory) at `path`.
    /// - Throws: `CohortError.badFile` naming the checkpoint when it holds no detector or lacks its sizes; `CheckpointError` for a damaged one.
    public init(path: String) throws {
        let c = try InferenceModel.checkpoint(at: path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path)
        let record = c.manifest.model
        guard record.name == "detector" else { throw CohortError.badFile(path: c.path, "holds a '\(record.name)' model, not a detector (cohort train --task detect)") }
        let settings = Dictionary(record.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let spec = ModelSpec(name: record.name, settings: settings)
        guard let inputs = settings["inputs"].flatMap(Int.init), let classes = settings["classes"].flatMap(Int.init), let width = spec.hidden.first else {
            throw CohortError.badFile(path: c.path, "the detector's record lacks its input size, classes or width")
        }
        let side = Int(Double(inputs).squareRoot().rounded())
        var g = RandomGenerator(seed: 0)
        module = try DetectorModels.centerNet(side: side, classes: classes, width: width, generator: &g)
        try TrainingCheckpoint.restore(c, arena: ParameterArena(module), optimizer: nil)
        module.eval()
        head = CenterNetHead(side: side, classes: classes)
        source = c.path
    }

    /// The detections in `images` (grayscale values, `side × side` each, row-major), best first per image.
    /// - Throws: `CohortError.shapeMismatch` when an image is not `side × side`.
    public func detect(_ images: [[UInt8]]) throws -> [[ScoredDetection]] {
        let side = head.side
        for (i, image) in images.enumerated() where image.count != side * side {
            throw CohortError.shapeMismatch(op: "detect", "image \(i) has \(image.count) pixels; the detector takes \(side)×\(side)")
        }
        return try withNoGrad {
            let scenes = images.map { DetectionScene(size: side, pixels: $0, objects: []) }
            let out = try module(try DetectionTask.inputs(scenes, side: side)).contiguous().scalars
            let per = out.count / max(images.count, 1)
            return try (0..<images.count).map { try head.decode(out[($0 * per)..<(($0 + 1) * per)]) }
        }
    }
}
