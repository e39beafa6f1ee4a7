// Normal draws pinned to values computed by a Python transcription of the sampler as
// it was before its Box–Muller transform moved to CohortCore: same seed, same samples.
import Testing
import CohortProbability
import CohortTensor

@Suite struct ProbabilityStreamPinTests {
    @Test func normalSamplesAreUnchanged() throws {
        var g = RandomGenerator(seed: 5)
        let x = try Normal(loc: 0, scale: 1).sample(3, generator: &g)
        // log/cos come from libm, whose CPU-specific variants may differ in the last bit.
        let expected: [Float] = [-1.2635341882705688, 0.4036991000175476, 0.2473224401473999]
        #expect(zip(x.scalars, expected).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) } && x.scalars.count == expected.count, "\(x.scalars)")
    }
}
