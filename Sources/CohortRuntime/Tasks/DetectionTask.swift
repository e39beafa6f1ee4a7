// Object detection (`cohort train --task detect --data DIR`): the splits of a data set
// `cohort data make-detection` wrote (DIR/train, DIR/val, DIR/test), a CenterNet-style
// detector's targets and loss (CenterNetHead), and mAP@0.5 and mAP@[.5:.95] on the
// held-out parts: each rank decodes a strided share of the images, the detections are
// summed into one table every rank holds (each slot written by exactly one rank, so the
// sum is exact), and every rank scores the same table.
import CohortCollectives
import CohortCore
import CohortData
import CohortDistributed
import CohortMetrics
import CohortNN
import CohortTensor
import CohortTrainer
import Foundation

public struct DetectionTask: TrainTask {
    public let train: DetectionDataset
    public let validation: DetectionDataset?
    public let test: DetectionDataset
    public let head: CenterNetHead
    /// The data set's directory (`--data`).
    public let directory: String

    /// The splits under `directory`: `train` and `test` must exist, `val` is used when present.
    /// - Throws: `CohortError.badFile` naming the split or file at fault (docs/detection.md), or when the
    ///   splits disagree on the canvas or classes.
    public init(directory: String) throws {
        train = try DetectionDataset(directory: directory + "/train")
        let hasValidation = FileManager.default.fileExists(atPath: directory + "/val/" + DetectionDataset.annotationsName)
        validation = hasValidation ? try DetectionDataset(directory: directory + "/val") : nil
        test = try DetectionDataset(directory: directory + "/test")
        for part in [validation, test].compactMap({ $0 }) where part.canvas != train.canvas || part.classes != train.classes {
            throw CohortError.badFile(path: part.directory, "has \(part.canvas)×\(part.canvas) images of \(part.classes) classes; the training split has \(train.canvas)×\(train.canvas) of \(train.classes)")
        }
        guard train.canvas % DetectorModels.stride == 0 else {
            throw CohortError.badFile(path: train.directory, "the canvas \(train.canvas) must be a multiple of \(DetectorModels.stride) (the detector's grid stride)")
        }
        head = CenterNetHead(side: train.canvas, classes: train.classes)
        self.directory = directory
    }

    public var name: String { "detection " + URL(fileURLWithPath: directory).lastPathComponent }
    public var count: Int { train.count }
    public var hasValidation: Bool { validation != nil }
    public var summary: String {
        let objects = train.scenes.reduce(0) { $0 + $1.objects.count }
        return "\(name): \(train.count) train (\(objects) objects) / " + (validation.map { "\($0.count) validation / " } ?? "")
            + "\(test.count) test images of \(train.canvas)×\(train.canvas), \(train.classes) classes, \(head.grid)×\(head.grid) grid"
    }
    public var modelShape: ModelShape { ModelShape(inputs: train.canvas * train.canvas, outputs: train.classes, sequence: false) }
    public var inference: [(key: String, value: String)] {
        [("task", "detect"), ("input_shape", "[1,\(train.canvas),\(train.canvas)]"), ("input_dtype", "float32"),
         ("normalization", "{\"scale\":255}"), ("grid_stride", "\(DetectorModels.stride)")]
    }

    /// Pixels scaled to 0…1, `[B, 1, S, S]`.
    public static func inputs(_ scenes: [DetectionScene], side: Int) throws -> Tensor {
        try Tensor(scenes.flatMap { $0.pixels.map { Float($0) / 255 } }, shape: [scenes.count, 1, side, side])
    }

    public func batch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, targets: Targets) {
        let scenes = indices.map { train.scenes[$0] }, g = head.grid
        let targets = try Tensor(scenes.flatMap { head.encode($0.objects) }, shape: [indices.count, head.targetChannels, g, g])
        return (try Self.inputs(scenes, side: train.canvas), .values(targets))
    }

    public func loss(_ output: Tensor, _ targets: Targets, labelSmoothing: Float) throws -> Tensor {
        guard case .values(let t) = targets else { throw CohortError.invalidArgument("detection targets are a target grid, not class ids") }
        return try head.loss(output, t)
    }

    /// The detections of `model` on every image of `part`, each rank decoding a strided share; every rank gets all.
    public func detections(_ model: any Module, _ part: DetectionDataset, _ comm: any Communicator, _ guarding: CollectiveGuard) throws -> [[ScoredDetection]] {
        let k = head.maxDetections, fields = 6
        var table = [Double](repeating: 0, count: part.count * k * fields)
        let mine = Array(stride(from: comm.rank, to: part.count, by: comm.size))
        try withNoGrad {
            var start = 0
            while start < mine.count {
                let chunk = Array(mine[start..<min(start + 128, mine.count)])
                let out = try model(try Self.inputs(chunk.map { part.scenes[$0] }, side: part.canvas)).contiguous().scalars
                let per = out.count / chunk.count
                for (j, image) in chunk.enumerated() {
                    for (d, det) in try head.decode(out[(j * per)..<((j + 1) * per)]).enumerated() {
                        let b = det.box, at = (image * k + d) * fields
                        table.replaceSubrange(at..<(at + fields), with: [b.x0, b.y0, b.x1, b.y1, Double(det.label), det.score])
                    }
                }
                start += 128
            }
        }
        let all = try guarding("allreduce of the detections") { try comm.allreduce(table, op: .sum) }
        return (0..<part.count).map { image in
            (0..<k).compactMap { d in
                let at = (image * k + d) * fields
                guard all[at + 5] > 0 else { return nil }
                return ScoredDetection(box: DetectionBox(x0: all[at], y0: all[at + 1], x1: all[at + 2], y1: all[at + 3]), label: Int(all[at + 4]), score: all[at + 5])
            }
        }
    }

    /// mAP@0.5 and mAP@[.5:.95] on the part (`val_map50`, `val_map`; `test_…`).
    public func evaluate(_ model: any Module, _ comm: any Communicator, _ guarding: CollectiveGuard, on split: HeldOut) throws -> [Metric] {
        let part = split == .validation ? validation! : test
        let found = try detections(model, part, comm, guarding)
        let images = zip(found, part.scenes).map { predictions, scene in
            ImageDetections(predictions: predictions, truths: scene.objects.map {
                LabeledBox(box: DetectionBox(x0: Double($0.x0), y0: Double($0.y0), x1: Double($0.x1), y1: Double($0.y1)), label: $0.label)
            })
        }
        let map50 = DetectionMetrics.meanAveragePrecision(images, classes: part.classes, threshold: 0.5)
        let map = DetectionMetrics.meanAveragePrecisionCOCO(images, classes: part.classes)
        let p = split.prefix, w = split.word
        return [Metric(name: p + "map50", value: map50, text: String(format: "%@ mAP@0.5 %.4f", w, map50)),
                Metric(name: p + "map", value: map, text: String(format: "%@ mAP@[.5:.95] %.4f", w, map))]
    }
}
