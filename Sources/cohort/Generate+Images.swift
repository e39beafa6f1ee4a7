// `cohort generate` for a GAN checkpoint (`--model dcgan`): the generator, rebuilt
// from the checkpoint's model settings, draws `--images` samples from seeded noise
// (in evaluation mode: batch norm uses its running statistics) into a PNG grid.
import CohortCheckpoint
import CohortCore
import CohortData
import CohortNN
import CohortRuntime
import CohortTensor
import Foundation

extension Generate {
    /// Writes `--images` generated images of the dcgan in `c` to `--out` as a PNG grid.
    func generateImages(_ c: Checkpoint, settings: [String: String]) throws {
        guard let out else { throw CohortError.badFlag(flag: "--out", "a dcgan checkpoint generates images: give the PNG file to write, e.g. --out samples.png") }
        guard (1...4096).contains(images) else { throw CohortError.badFlag(flag: "--images", "must be 1…4096, got \(images)") }
        var g = RandomGenerator(seed: 0)
        let model = try ModelZoo.build(ModelSpec(name: "dcgan", settings: settings), shape: ModelShape(inputs: 784, outputs: 10, sequence: false), generator: &g)
        guard let gan = model as? DCGAN else { throw CohortError.badFlag(flag: "--checkpoint", "\(c.path): its dcgan model could not be rebuilt") }
        try TrainingCheckpoint.restore(c, arena: ParameterArena(gan), optimizer: nil)
        gan.eval()
        let evaluation = try GANEvaluation(judge: nil, gridDirectory: nil, seed: seed, gridCount: images)
        try evaluation.writeGrid(gan, to: out)
        print("wrote \(images) images of \(c.path) (seed \(seed)) to \(out)")
    }
}
