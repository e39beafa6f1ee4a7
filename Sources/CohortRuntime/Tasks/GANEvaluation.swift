// How a GAN is judged during training: a PNG grid of samples from fixed noise
// (rank 0 writes it as a PNG file and as an image in a TensorBoard event file in the same
// directory, so the run's progress can be seen), and with a judge — a
// classifier Cohort trained on the same data — scores over N generated samples,
// each rank generating and classifying its share, the sums reduced exactly:
// the Inception score (exp of the mean KL divergence between each sample's class
// distribution and their mean), the mean confidence, and each class's share of
// the samples' predicted classes (a collapsed generator covers few classes).
import CohortCore
import CohortData
import CohortNN
import CohortRunLog
import CohortTensor
import CohortTrainer
import Foundation

/// Scores a DCGAN's samples; see the file's header.
public final class GANEvaluation {
    /// The classifier that scores samples (a checkpoint of `cohort train` on the same data), or nil.
    public let judge: InferenceModel?
    /// Samples scored per validation (across all ranks).
    public let samples: Int
    /// Where rank 0 writes `step-NNNNNNNN.png` grids (nil: none).
    public let gridDirectory: String?
    /// Fixed noise streams come from this seed.
    public let seed: UInt64
    /// Grid samples (8 per row).
    public let gridCount: Int
    /// The step the next grid is named after (the Trainer's step, set by the module).
    public var step = 0
    /// Whether rank 0 also logs each grid as a TensorBoard image (tag `samples`) in `gridDirectory`.
    public var tensorBoard = true
    private var events: TensorBoardWriter?

    /// - Throws: `CohortError.badFlag(flag: "--judge")` when the judge is not a classifier of 28×28 images.
    public init(judge: InferenceModel?, samples: Int = 10_000, gridDirectory: String?, seed: UInt64, gridCount: Int = 64) throws {
        if let j = judge {
            guard j.metadata.task == .classification, j.metadata.featureCount == DCGAN.imageSize * DCGAN.imageSize, j.metadata.outputs >= 2 else {
                throw CohortError.badFlag(flag: "--judge", "\(j.source) must be a classifier of 28×28 images (784 features) such as `cohort train --model cnn --data mnist`; "
                                          + "it takes \(j.metadata.featureCount) features to \(j.metadata.outputs) outputs (\(j.metadata.task))")
            }
        }
        guard samples >= 1, gridCount >= 1 else { throw CohortError.invalidArgument("GANEvaluation: samples \(samples) and grid count \(gridCount) must be positive") }
        self.judge = judge
        self.samples = samples
        self.gridDirectory = gridDirectory
        self.seed = seed
        self.gridCount = gridCount
    }

    /// The grid's noise stream and the scored samples' (neither is a training step's).
    static let gridStream = UInt64.max, scoreStream = UInt64.max - 1

    /// Writes the grid (rank 0) and, with a judge, scores `samples` samples. Collective.
    public func evaluate(_ gan: DCGAN, _ context: ValidationContext) throws -> [Metric] {
        if context.rank == 0, let dir = gridDirectory {
            let grid = try writeGrid(gan, to: dir + "/" + String(format: "step-%08d.png", step))
            if tensorBoard {
                if events == nil { events = try TensorBoardWriter(runDirectory: dir) }
                try events?.addImage(step: step, ImageValue(tag: "samples", width: grid.width, height: grid.height, colorspace: grid.channels, encoded: grid.encoded()))
            }
        }
        guard let judge else { return [] }
        let classes = judge.metadata.outputs
        var counts = [Int64](repeating: 0, count: classes)
        var sums = [Double](repeating: 0, count: classes + 2)   // Σ p(y|x) per class, Σ max p, Σ Σ p log p
        let mine = context.share(of: samples)
        for start in stride(from: 0, to: mine.count, by: 500) {
            let ids = Array(mine[start..<min(start + 500, mine.count)])
            let pixels = try GANEvaluation.pixels(gan(GANModule.latent(seed: seed, stream: GANEvaluation.scoreStream, ids: ids, size: gan.latent)))
            let probabilities = try judge.outputs(rawRows: pixels, count: ids.count)
            for r in 0..<ids.count {
                let p = probabilities[(r * classes)..<((r + 1) * classes)]
                var best = 0
                for (c, v) in p.enumerated() {
                    sums[c] += Double(v)
                    if v > 0 { sums[classes + 1] += Double(v) * log(Double(v)) }
                    if v > p[p.startIndex + best] { best = c }
                }
                counts[best] += 1
                sums[classes] += Double(p[p.startIndex + best])
            }
        }
        let total = try context.sum(counts, what: "GAN sample class counts")
        let reduced = try context.sum(sums, what: "GAN sample scores")
        return GANEvaluation.metrics(counts: total, sums: reduced, samples: samples)
    }

    /// The metrics from the reduced sums: `val_inception_score`, `val_confidence`, `val_class_min_share`
    /// (its text lists every class's share) and `val_class_max_share`.
    static func metrics(counts: [Int64], sums: [Double], samples: Int) -> [Metric] {
        let n = Double(samples), classes = counts.count
        let marginal = (0..<classes).map { sums[$0] / n }
        let entropyOfMarginal = marginal.reduce(0) { $1 > 0 ? $0 - $1 * log($1) : $0 }
        let meanNegativeEntropy = sums[classes + 1] / n   // E_x Σ_y p log p
        let inception = exp(meanNegativeEntropy + entropyOfMarginal)
        let shares = counts.map { Double($0) / n }
        let listed = shares.enumerated().map { String(format: "%d:%.1f%%", $0.offset, $0.element * 100) }.joined(separator: " ")
        return [Metric(name: "val_inception_score", value: inception, text: String(format: "inception score %.3f", inception)),
                Metric(name: "val_confidence", value: sums[classes] / n, text: String(format: "confidence %.3f", sums[classes] / n)),
                Metric(name: "val_class_min_share", value: shares.min() ?? 0,
                       text: String(format: "class shares of %d samples (min %.1f%%): ", samples, (shares.min() ?? 0) * 100) + listed),
                Metric(name: "val_class_max_share", value: shares.max() ?? 0, text: String(format: "max class share %.1f%%", (shares.max() ?? 0) * 100))]
    }

    /// Generator images (−1…1) as raw pixel rows 0…255, what the judge (like `cohort predict`) reads.
    static func pixels(_ images: Tensor) throws -> [Float] {
        images.scalars.map { min(max(($0 + 1) * 127.5, 0), 255) }
    }

    /// `gridCount` samples from the fixed grid noise as a PNG, 8 per row.
    @discardableResult
    public func writeGrid(_ gan: DCGAN, to path: String) throws -> PNGImage {
        let images = try gan(GANModule.latent(seed: seed, stream: GANEvaluation.gridStream, ids: Array(0..<gridCount), size: gan.latent))
        let values = images.scalars.map { ($0 + 1) / 2 }
        let side = DCGAN.imageSize * DCGAN.imageSize
        let tiles = (0..<gridCount).map { Array(values[($0 * side)..<(($0 + 1) * side)]) }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
        let grid = try PNGImage.grid(tiles: tiles, tileWidth: DCGAN.imageSize, tileHeight: DCGAN.imageSize, columns: 8)
        try grid.write(to: path)
        return grid
    }
}
