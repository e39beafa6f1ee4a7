// The addition corpus and the seed derivation pinned to values computed by a Python
// transcription of their generators as they were before they moved onto CohortCore's
// SplitMix64: the same seed still gives the same problems and the same derived seeds.
import Testing
@testable import CohortData

@Suite struct DataStreamPinTests {
    @Test func additionProblemsAreUnchanged() throws {
        let (train, test) = try AdditionProblems.make(digits: 2, train: 4, test: 3, seed: 11)
        #expect((0..<3).map(test.text) == ["13+45=850\n", "89+80=961\n", "88+82=071\n"])
        #expect((0..<4).map(train.text) == ["56+78=431\n", "70+86=651\n", "64+13=770\n", "91+11=201\n"])
    }

    @Test func derivedSeedsAreUnchanged() {
        #expect(deriveSeed(5, 3) == 0x03BE_967E_49AA_ECB2)
        #expect(deriveSeed(0, 0) == 0)
        #expect(deriveSeed(123_456_789, 7) == 0x5DE9_0CDC_022A_C0F7)
    }
}
