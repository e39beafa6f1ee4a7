// A DCGAN-style generator and discriminator for small single-channel images
// (28×28 MNIST and Fashion-MNIST), in one module so that one parameter arena,
// one checkpoint and one broadcast hold both: parameters are named
// `generator.*` and `discriminator.*`, the two optimizer sets of a GAN.
import CohortCore
import CohortTensor

/// Radford et al.'s DCGAN shape at MNIST size: transposed convolutions with batch norm and
/// ReLU up from a latent vector, strided convolutions with leaky ReLU down to one logit.
///
/// Generator (`forward`): `[N, latent]` → linear to `2w·7·7` → `[N, 2w, 7, 7]`, batch norm, ReLU →
/// ConvTranspose2d 4×4 stride 2 to `[N, w, 14, 14]`, batch norm, ReLU → ConvTranspose2d 4×4 stride 2
/// to `[N, 1, 28, 28]` → tanh (pixels in −1…1). Discriminator: `[N, 1, 28, 28]` (or `[N, 784]`) →
/// Conv2d 4×4 stride 2 to `w` channels, leaky ReLU 0.2 → Conv2d 4×4 stride 2 to `2w`, batch norm, leaky
/// ReLU 0.2 → flatten → linear to one logit (real vs generated; no sigmoid, the loss takes logits).
/// The discriminator's batch norm matters: without it, the same network in PyTorch as here draws
/// blotchy strokes after 1,500 steps where with it the digits are clean.
public final class DCGAN: Module {
    public var isTraining = true
    /// Latent size and base width `w`.
    public let latent: Int, width: Int
    /// Image side (28) and channels (1).
    public static let imageSize = 28, channels = 1
    public let generator: Sequential, discriminator: Sequential

    /// Initialised as PyTorch initialises the layers, generator first, from `generator`.
    /// - Throws: `CohortError.invalidArgument` for a non-positive latent size or width.
    public init(latent: Int = 64, width: Int = 32, generator rng: inout RandomGenerator) throws {
        guard latent >= 1, width >= 1 else { throw CohortError.invalidArgument("DCGAN: latent size \(latent) and width \(width) must be positive") }
        self.latent = latent
        self.width = width
        let w = width
        generator = Sequential([
            Linear(latent, 2 * w * 7 * 7, generator: &rng), Reshape([2 * w, 7, 7]), BatchNorm2d(2 * w), ReLU(),
            try ConvTranspose2d(2 * w, w, kernelSize: 4, stride: 2, padding: 1, generator: &rng), BatchNorm2d(w), ReLU(),
            try ConvTranspose2d(w, DCGAN.channels, kernelSize: 4, stride: 2, padding: 1, generator: &rng), Tanh(),
        ])
        discriminator = Sequential([
            Reshape([DCGAN.channels, DCGAN.imageSize, DCGAN.imageSize]),
            try Conv2d(DCGAN.channels, w, kernelSize: 4, stride: 2, padding: 1, generator: &rng), LeakyReLU(negativeSlope: 0.2),
            try Conv2d(w, 2 * w, kernelSize: 4, stride: 2, padding: 1, generator: &rng), BatchNorm2d(2 * w), LeakyReLU(negativeSlope: 0.2),
            Flatten(), Linear(2 * w * 7 * 7, 1, generator: &rng),
        ])
    }

    public var children: [(name: String, module: any Module)] { [("generator", generator), ("discriminator", discriminator)] }

    /// Generated images `[N, 1, 28, 28]` in −1…1 from latent vectors `[N, latent]`.
    /// - Throws: `CohortError.shapeMismatch` naming the expected latent size.
    public func forward(_ z: Tensor) throws -> Tensor {
        guard z.rank == 2, z.shape[1] == latent else {
            throw CohortError.shapeMismatch(op: "DCGAN generator", "latent input \(describeShape(z.shape)) must be [N, \(latent)]")
        }
        return try generator(z)
    }

    /// The discriminator's logits `[N, 1]` for images `[N, 1, 28, 28]` (or `[N, 784]`), in −1…1.
    public func discriminate(_ images: Tensor) throws -> Tensor {
        guard images.count == images.shape[0] * DCGAN.imageSize * DCGAN.imageSize * DCGAN.channels else {
            throw CohortError.shapeMismatch(op: "DCGAN discriminator", "images \(describeShape(images.shape)) must be [N, 1, 28, 28]")
        }
        return try discriminator(images)
    }
}
