// `cohort train --model dcgan`: its flags, its data (the training images of an
// MNIST-format directory, pixels 0…1, labels unused) and its TrainingModule
// (GANModule: the discriminator and generator as two optimizer sets).
import ArgumentParser
import CohortCore
import CohortData
import CohortNN
import CohortRuntime
import CohortTrainer
import Foundation

/// The flags only `--model dcgan` reads.
struct GANFlags: ParsableArguments {
    @Option(parsing: .unconditional, help: "dcgan: the latent vector's size (the generator's input).") var latent = 64
    @Option(name: .customLong("sample-every"), parsing: .unconditional, help: "dcgan: every N steps and after the last, write a PNG grid of 64 samples from fixed noise to --log-dir/samples and, with --judge, score generated samples.") var sampleEvery: Int?
    @Option(help: "dcgan: a classifier checkpoint of the same data (e.g. cohort train --model cnn --data mnist) that scores generated samples: inception score, confidence and each class's share.") var judge: String?
    @Option(parsing: .unconditional, help: "dcgan: the discriminator judges K samples at once, stacked as channels (PacGAN; against dropped modes); K must divide each rank's batch. 1: one at a time.") var pack = 1
    @Option(name: .customLong("judge-samples"), parsing: .unconditional, help: "dcgan: how many generated samples --judge scores at each evaluation.") var judgeSamples = 10_000

    /// The flags fit the model: they are dcgan's only, with positive sizes.
    func check(model: String) throws {
        if model != "dcgan" {
            for (flag, given) in [("--sample-every", sampleEvery != nil), ("--judge", judge != nil)] where given {
                throw ValidationError("\(flag) applies to --model dcgan, not \(model)")
            }
        }
        guard latent >= 1 else { throw ValidationError("--latent must be positive, got \(latent)") }
        guard pack >= 1 else { throw ValidationError("--pack must be positive, got \(pack)") }
        if model != "dcgan" && pack != 1 { throw ValidationError("--pack applies to --model dcgan, not \(model)") }
        if let n = sampleEvery, n < 1 { throw ValidationError("--sample-every must be positive, got \(n)") }
        guard judgeSamples >= 1 else { throw ValidationError("--judge-samples must be positive, got \(judgeSamples)") }
    }

    /// The `--judge` classifier, loaded (nil without the flag); its errors name the flag.
    func judgeModel() throws -> InferenceModel? {
        guard let judge else { return nil }
        do { return try InferenceModel(path: judge) } catch {
            throw CohortError.badFlag(flag: "--judge", "\(judge): cannot load a classifier from it: \(error)")
        }
    }
}

extension Train {
    /// The images a DCGAN learns: the training split of `--data` (an MNIST-format directory), pixels 0…1.
    func ganImages() throws -> ClassificationTask {
        guard let data else { throw CohortError.badFlag(flag: "--data", "--model dcgan needs an MNIST-format image directory (e.g. ../shared/data/mnist)") }
        guard !data.lowercased().hasSuffix(".csv") else { throw CohortError.badFlag(flag: "--data", "\(data): --model dcgan needs an MNIST-format image directory, not a CSV table") }
        let train = try MNIST.load(directory: data, split: .train)
        return ClassificationTask(train: train, validation: nil, test: try MNIST.load(directory: data, split: .test))
    }

    /// The GAN module over `net` (a DCGAN) and the images of `task`.
    func ganModule(task: any TrainTask, net: any Module) throws -> GANModule {
        guard let images = task as? ClassificationTask, let gan = net as? DCGAN else {
            throw CohortError.invalidArgument("--model dcgan: expected images and a DCGAN, got \(task.name) and \(type(of: net))")
        }
        // PacGAN packs consecutive samples of each rank's batch (each virtual shard's in deterministic mode).
        let pieces = deterministic ? virtualShards : RunInfo.current.worldSize
        if self.gan.pack > 1, batchSize % pieces != 0 || (batchSize / pieces) % self.gan.pack != 0 {
            throw CohortError.badFlag(flag: "--pack", "\(self.gan.pack) must divide each \(deterministic ? "virtual shard's" : "rank's") batch: "
                                      + "--global-batch \(batchSize) over \(pieces) \(deterministic ? "virtual shards" : "ranks") is not a multiple of \(self.gan.pack) each")
        }
        let evaluation = try GANEvaluation(judge: try self.gan.judgeModel(), samples: self.gan.judgeSamples, gridDirectory: logDir.map { $0 + "/samples" }, seed: seed)
        evaluation.tensorBoard = tensorboard   // --no-tensorboard: the PNG files only
        return try GANModule(gan: gan, images: images.train, settings: try taskOptions(), evaluation: evaluation)
    }
}
