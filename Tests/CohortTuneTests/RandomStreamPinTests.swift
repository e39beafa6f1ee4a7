// Seeded search-space draws pinned to values computed by a Python transcription of
// SplitMix64 as it was before it moved from CohortStats to CohortCore: same seed, same trials.
import Testing
import CohortTune

@Suite struct TuneStreamPinTests {
    @Test func sampledTrialsAreUnchanged() throws {
        let space = try SearchSpace([("lr", .uniform(0, 1)), ("k", .choice(["a", "b", "c"]))])
        let trial = space.sample(1, seed: 3)[0]
        #expect(trial.map(\.name) == ["lr", "k"])
        #expect(trial.map(\.value) == ["0.1135", "c"])
    }
}
