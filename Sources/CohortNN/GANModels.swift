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
///
/// With `pack` k > 1 the discriminator is PacGAN's (Lin et al., 2018): it judges k samples at once,
/// stacked as the channels of one input (`[N/k, k, 28, 28]`, consecutive samples together), all real or
/// all generated — a generator that drops modes makes packs that look less varied than real ones, which
/// one sample alone cannot show. Only the first convolution's input channels change.
public final class DCGAN: Module {
    public var isTraining = true
    /// Latent size, base width `w` and how many samples the discriminator judges together (PacGAN; 1: one).
    public let latent: Int, width: Int, pack: Int
    /// Image side (28) and channels (1).
    public static let imageSize = 28, channels = 1
    public let generator: Sequential, discriminator: Sequential

    /// Initialised as PyTorch initialises the layers, generator first, from `generator`.
    /// - Throws: `CohortError.invalidArgument` for a non-positive latent size, width or pack.
    public init(latent: Int = 64, width: Int = 32, pack: Int = 1, generator rng: inout RandomGenerator) throws {
        guard latent >= 1, width >= 1, pack >= 1 else {
            throw CohortError.invalidArgument("DCGAN: latent size \(latent), width \(width) and pack \(pack) must be positive")
        }
        self.latent = latent
        self.width = width
        self.pack = pack
        let w = width
        generator = Sequential([
            Linear(latent, 2 * w * 7 * 7, generator: &rng), Reshape([2 * w, 7, 7]), BatchNorm2d(2 * w), ReLU(),
            try ConvTranspose2d(2 * w, w, kernelSize: 4, stride: 2, padding: 1, generator: &rng), BatchNorm2d(w), ReLU(),
            try ConvTranspose2d(w, DCGAN.channels, kernelSize: 4, stride: 2, padding: 1, generator: &rng), Tanh(),
        ])
        discriminator = Sequential([
            Reshape([pack * DCGAN.channels, DCGAN.imageSize, DCGAN.imageSize]),
            try Conv2d(pack * DCGAN.channels, w, kernelSize: 4, stride: 2, padding: 1, generator: &rng), LeakyReLU(negativeSlope: 0.2),
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

    /// The discriminator's logits `[N/pack, 1]` for images `[N, 1, 28, 28]` (or `[N, 784]`), in −1…1: one
    /// logit per pack of `pack` consecutive images.
    /// - Throws: `CohortError.shapeMismatch` for other shapes, or when `pack` does not divide N.
    public func discriminate(_ images: Tensor) throws -> Tensor {
        let side = DCGAN.imageSize * DCGAN.imageSize * DCGAN.channels
        guard images.rank >= 1, images.count == images.shape[0] * side else {
            throw CohortError.shapeMismatch(op: "DCGAN discriminator", "images \(describeShape(images.shape)) must be [N, 1, 28, 28]")
        }
        let n = images.shape[0]
        guard n % pack == 0 else {
            throw CohortError.shapeMismatch(op: "DCGAN discriminator", "\(n) images cannot be cut into packs of \(pack) (--pack): "
                                            + "each rank's batch (each virtual shard's, in deterministic mode) must be a multiple of \(pack)")
        }
        return try discriminator(pack == 1 ? images : images.reshape([n / pack, pack * side]))
    }
}
