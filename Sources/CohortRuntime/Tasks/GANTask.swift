// `cohort train --model dcgan`: a DCGAN on MNIST-format images as a
// `ManualTrainingModule` — each step updates the discriminator, then the
// generator, each set's gradients averaged across ranks when it steps. The latent
// noise of every sample is drawn from (seed, step, sample id), so a run is the
// same for any world size and a resumed run draws what the uninterrupted one drew.
// Validation writes a PNG grid of fixed-noise samples and, with a judge classifier,
// scores 10,000 samples (GANEvaluation.swift).
import CohortCheckpoint
import CohortCore
import CohortData
import CohortDistributed
import CohortNN
import CohortOptim
import CohortTensor
import CohortTrainer

/// A DCGAN trained on the images of a classification data set (labels unused).
public final class GANModule: ManualTrainingModule {
    public let gan: DCGAN
    public let images: ClassificationDataset
    public let settings: TaskOptions
    /// Scores generated samples (a classifier trained on the same data), or nil: no scores.
    public let evaluation: GANEvaluation
    public var network: any Module { gan }

    /// - Throws: `CohortError.invalidArgument` when the images are not 28×28 with one channel.
    public init(gan: DCGAN, images: ClassificationDataset, settings: TaskOptions, evaluation: GANEvaluation) throws {
        guard images.featureSize == DCGAN.imageSize * DCGAN.imageSize * DCGAN.channels else {
            throw CohortError.invalidArgument("--model dcgan trains on 28×28 single-channel images (MNIST, Fashion-MNIST); \(images.name) has samples of shape \(describeShape(images.featureShape))")
        }
        self.gan = gan
        self.images = images
        self.settings = settings
        self.evaluation = evaluation
    }

    public var trainingSamples: Int { images.count }
    public var dataName: String { images.name }
    public var dataIdentity: DataIdentity? { DataIdentity.generated(images, name: images.name) }

    /// Real images `[n, 1, 28, 28]` scaled to −1…1 (as the generator's tanh), and each sample's latent vector.
    public func trainingBatch(_ indices: [Int], step: Int) throws -> (real: Tensor, noise: Tensor) {
        let size = images.featureSize
        var real = [Float](repeating: 0, count: indices.count * size)
        images.features.withUnsafeBufferPointer { src in
            for (row, i) in indices.enumerated() {
                for k in 0..<size { real[row * size + k] = src[i * size + k] * 2 - 1 }
            }
        }
        let noise = GANModule.latent(seed: settings.seed, stream: UInt64(step), ids: indices, size: gan.latent)
        return (try Tensor(real, shape: [indices.count, DCGAN.channels, DCGAN.imageSize, DCGAN.imageSize]), noise)
    }

    /// Standard normal latent vectors `[ids.count, size]`, each drawn from (seed, stream, id) alone.
    public static func latent(seed: UInt64, stream: UInt64, ids: [Int], size: Int) -> Tensor {
        var values = [Float](repeating: 0, count: ids.count * size)
        for (row, id) in ids.enumerated() {
            var rng = SplitMix64(seed: SplitMix64.mix(SplitMix64.mix(seed ^ 0x6A4E_5F1D) ^ stream) ^ UInt64(id))
            var k = 0
            while k < size {
                let (a, b) = BoxMuller.pair(1 - rng.nextDouble(), rng.nextDouble())
                values[row * size + k] = Float(a)
                if k + 1 < size { values[row * size + k + 1] = Float(b) }
                k += 2
            }
        }
        return try! Tensor(values, shape: [ids.count, size])   // the count matches the shape by construction
    }

    /// The discriminator learns real (target 1, or 1 − ε with `--label-smoothing` ε, one-sided) from
    /// generated (0), a pack of `--pack` samples at a time; then the generator learns to make the discriminator say real (the non-saturating loss).
    /// Returns the generator's loss.
    public func manualTrainingStep(_ step: ManualStep<(real: Tensor, noise: Tensor)>) throws -> Float {
        evaluation.step = step.step
        let realTarget = 1 - settings.labelSmoothing
        try step.optimize("discriminator") { batch in
            let fake = try gan(batch.noise).detached()
            let onReal = try gan.discriminate(batch.real), onFake = try gan.discriminate(fake)   // [N/pack, 1] each
            return try Loss.bceWithLogits(onReal, Tensor.full(onReal.shape, realTarget)) + Loss.bceWithLogits(onFake, Tensor.zeros(onFake.shape))
        }
        return try step.optimize("generator") { batch in
            let verdict = try gan.discriminate(gan(batch.noise))
            return try Loss.bceWithLogits(verdict, Tensor.full(verdict.shape, 1))
        }
    }

    /// Adam with β₁ = 0.5 (DCGAN's setting) for `--optimizer adam`, else the flag's optimizer, for each
    /// network, each on the run's schedule.
    public func configureOptimizerSets(_ parameters: ParameterArena, totalSteps: Int) throws -> [OptimizerSet] {
        try ["discriminator", "generator"].map { name in
            let optimizer: any Optimizer = settings.optimizer == "adam"
                ? Adam(parameters, lr: settings.lr, beta1: 0.5, beta2: 0.999, weightDecay: settings.weightDecay)
                : settings.makeOptimizer(parameters, network: gan)
            return try OptimizerSet(name, prefix: name + ".", optimizer: optimizer, schedule: settings.makeSchedule(totalSteps: totalSteps))
        }
    }

    public func validate(_ context: ValidationContext) throws -> [Metric] { try evaluation.evaluate(gan, context) }
}
