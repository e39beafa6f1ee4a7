// The DCGAN module's shapes and PacGAN packing: with `pack` k the discriminator
// judges k consecutive images at once (one logit per pack, each depending on all
// of its images and on no other pack's), and batches k does not divide are refused.
import CohortCore
@testable import CohortNN
import CohortTensor
import CohortTestSupport
import Testing

@Suite struct DCGANTests {
    @Test func generatorAndSingleSampleDiscriminatorShapes() throws {
        var g = RandomGenerator(seed: 3)
        let gan = try DCGAN(latent: 8, width: 4, generator: &g)
        let images = try gan(Fixtures.uniform([3, 8], seed: 4, requiresGrad: false))
        #expect(images.shape == [3, 1, 28, 28])
        #expect(images.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
        #expect(try gan.discriminate(images).shape == [3, 1])
    }

    @Test func packedDiscriminatorJudgesConsecutiveImagesTogether() throws {
        var g = RandomGenerator(seed: 5)
        let gan = try DCGAN(latent: 8, width: 4, pack: 2, generator: &g)
        let first = gan.discriminator.children.compactMap { $0.module as? Conv2d }.first
        #expect(first?.weight.shape == [4, 2, 4, 4], "the first convolution sees 2 images as 2 channels")
        gan.eval()   // batch norm on running statistics: packs are independent of each other
        var pixels = Fixtures.uniform([4, 1, 28, 28], seed: 6, requiresGrad: false).scalars
        let before = try gan.discriminate(Tensor(pixels, shape: [4, 1, 28, 28])).scalars
        #expect(before.count == 2)
        // Changing image 1 (the second of pack 0) changes pack 0's logit and leaves pack 1's as it was.
        for k in 784..<(2 * 784) { pixels[k] = -pixels[k] }
        let after = try gan.discriminate(Tensor(pixels, shape: [4, 1, 28, 28])).scalars
        #expect(abs(after[0] - before[0]) > 1e-6, "\(before) → \(after)")
        #expect(after[1] == before[1], "\(before) → \(after)")
        // Swapping the two images of pack 1 changes its logit: the order of a pack is seen (its channels).
        var swapped = pixels
        for k in 0..<784 { swapped.swapAt(2 * 784 + k, 3 * 784 + k) }
        let swappedLogits = try gan.discriminate(Tensor(swapped, shape: [4, 784])).scalars
        #expect(swappedLogits[0] == after[0] && abs(swappedLogits[1] - after[1]) > 1e-6, "\(after) → \(swappedLogits)")
    }

    @Test func packThatDoesNotDivideTheBatchIsRefused() throws {
        var g = RandomGenerator(seed: 7)
        let gan = try DCGAN(latent: 8, width: 4, pack: 2, generator: &g)
        #expect(throws: CohortError.self) { try gan.discriminate(Tensor.zeros([3, 1, 28, 28])) }
        #expect(throws: CohortError.self) { try DCGAN(latent: 8, width: 4, pack: 0, generator: &g) }
    }
}
