// `cohort data make-detection`: a detection data set made from MNIST-format digits
// (DetectionScenes), written as PNG scenes and JSON annotations (DetectionDataset):
// DIR/train from the training images, DIR/val and DIR/test from the two halves of the
// test images, so no held-out scene shows a digit training saw. Deterministic from --seed.
import ArgumentParser
import CohortCore
import CohortData
import Foundation

extension DataCommand {
    struct MakeDetection: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make-detection",
            abstract: "Make a detection data set: digits placed on larger canvases, written as PNG images + JSON boxes (docs/detection.md).",
            discussion: """
                Example: cohort data make-detection --mnist ../shared/data/mnist --out data/digits-det
                Writes OUT/train (from the training images), OUT/val and OUT/test (from the two halves of \
                the test images): images/NNNNNN.png and annotations.json each; the same --seed gives the same bytes.
                """)

        @Option(help: "An MNIST-format directory (MNIST or Fashion-MNIST) whose images are placed on the canvases.") var mnist: String
        @Option(help: "The output directory (its train, val and test splits are created).") var out: String
        @Option(parsing: .unconditional, help: "Training scenes.") var train = 8000
        @Option(parsing: .unconditional, help: "Validation scenes (0: none).") var val = 1000
        @Option(parsing: .unconditional, help: "Test scenes.") var test = 1000
        @Option(parsing: .unconditional, help: "Canvas side in pixels (a multiple of 8, ≥ 48).") var canvas = 96
        @Option(parsing: .unconditional, help: "Seed of every placement draw.") var seed: UInt64 = 0
        @Flag(help: "Replace splits that already exist in --out.") var force = false

        func run() throws { try exitingOnErrors { try make() } }

        func make() throws {
            for (flag, n) in [("--train", train), ("--test", test)] where n < 1 { throw CohortError.badFlag(flag: flag, "must be ≥ 1, got \(n)") }
            guard val >= 0 else { throw CohortError.badFlag(flag: "--val", "must be ≥ 0, got \(val)") }
            guard canvas >= 48, canvas % 8 == 0, canvas <= 1024 else { throw CohortError.badFlag(flag: "--canvas", "must be a multiple of 8 in 48…1024, got \(canvas)") }
            let splits = [("train", train, 0), ("val", val, 1), ("test", test, 2)].filter { $0.1 > 0 }   // the third: the split's seed stream
            for (name, _, _) in splits where !force && FileManager.default.fileExists(atPath: "\(out)/\(name)/\(DetectionDataset.annotationsName)") {
                throw CohortError.badFlag(flag: "--out", "\(out)/\(name) already holds a data set split; pass --force to replace it")
            }
            let trainDigits = try MNIST.readFiles(directory: mnist, split: .train)
            let testDigits = try MNIST.readFiles(directory: mnist, split: .test)
            let half = testDigits.images.shape[0] / 2
            var settings = DetectionScenes.Settings()
            settings.canvas = canvas
            settings.digitSize = (canvas * 20 / 96)...(canvas * 36 / 96)
            for (name, count, k) in splits {
                let digits = name == "train" ? trainDigits : testDigits
                settings.sources = name == "train" ? nil : name == "val" ? 0..<half : half..<testDigits.images.shape[0]
                let scenes = try DetectionScenes.make(images: digits.images, labels: digits.labels, count: count,
                                                      seed: SplitMix64.mix(seed &+ UInt64(k)), settings: settings)
                try DetectionDataset.write(scenes, to: "\(out)/\(name)")
                let objects = scenes.reduce(0) { $0 + $1.objects.count }
                Log.main("cohort data make-detection: \(out)/\(name): \(count) images of \(canvas)×\(canvas), \(objects) objects")
            }
        }
    }
}
