// The validation part `--val-split` carves from training data: disjoint from what is
// left for training and together all of it, stratified for classes (every class's
// share), chronological for sequences (no training window reaches a validation
// token), seeded random for regression, and a pure function of (seed, data, F).
import Testing
@testable import CohortData

@Suite struct ValidationSplitTests {
    /// 200 samples, classes 0/1/2/3 in a 100/60/30/10 mix; feature 0 is the sample's index.
    func data() throws -> ClassificationDataset {
        let labels: [Int32] = (0..<200).map { $0 < 100 ? 0 : $0 < 160 ? 1 : $0 < 190 ? 2 : 3 }
        return try ClassificationDataset(name: "mix", features: (0..<200).flatMap { [Float($0), Float($0 % 7)] }, labels: labels,
                                         featureShape: [2], numClasses: 4)
    }

    @Test func stratifiedValidationIsDisjointAndKeepsEveryClassShare() throws {
        let d = try data()
        let (train, validation) = try d.validationSplit(fraction: 0.2, runSeed: 11)
        let trainIDs = (0..<train.count).map { Int(train.features[$0 * 2]) }, valIDs = (0..<validation.count).map { Int(validation.features[$0 * 2]) }
        #expect(Set(trainIDs).isDisjoint(with: valIDs))
        #expect((trainIDs + valIDs).sorted() == Array(0..<200))
        // Every class gives 20 % of its samples (100 → 20, 60 → 12, 30 → 6, 10 → 2), labels travel with their rows.
        let perClass = (0..<4).map { c in validation.labels.filter { $0 == c }.count }
        #expect(perClass == [20, 12, 6, 2], "\(perClass)")
        #expect(zip(valIDs, validation.labels).allSatisfy { d.labels[$0.0] == $0.1 })
        #expect(train.name == "mix" && validation.name == "mix-val")
        // A pure function of (seed, data, F): the same again, another seed or fraction differs.
        let again = try d.validationSplit(fraction: 0.2, runSeed: 11)
        #expect(again.validation.features == validation.features && again.train.features == train.features)
        #expect(try d.validationSplit(fraction: 0.2, runSeed: 12).validation.features != validation.features)
        #expect(try d.validationSplit(fraction: 0.1, runSeed: 11).validation.count == 20)
        // Not the draw of the test split with the same seed: the validation seed is derived, not reused.
        let (_, sameSeedTest) = try d.stratifiedIndices(testFraction: 0.2, seed: 11)
        #expect(sameSeedTest != valIDs.sorted())
    }

    @Test func randomSplitForRegressionIsDisjointAndSeeded() throws {
        let (train, validation) = try ValidationSplit.random(count: 97, fraction: 0.25, seed: ValidationSplit.seed(3), what: "rows")
        #expect(validation.count == 24 && train.count == 73)
        #expect(Set(train).isDisjoint(with: validation) && (train + validation).sorted() == Array(0..<97))
        #expect(train == train.sorted() && validation == validation.sorted())
        let again = try ValidationSplit.random(count: 97, fraction: 0.25, seed: ValidationSplit.seed(3), what: "rows")
        #expect(again.validation == validation)
        #expect(try ValidationSplit.random(count: 97, fraction: 0.25, seed: ValidationSplit.seed(4), what: "rows").validation != validation)
        // Not a prefix or an ordered block: the draw is spread over the rows.
        #expect(validation != Array(validation.first!..<(validation.first! + 24)))
    }

    @Test func chronologicalSplitLeavesNoTrainingWindowOverValidationTokens() throws {
        // Token value = position, so a window's targets say which positions it covers.
        let tokens = (0..<1000).map { Int32($0) }
        let cut = try ValidationSplit.chronologicalCut(count: tokens.count, fraction: 0.1, what: "corpus")
        #expect(cut == 900)
        let train = try TokenWindows(name: "t", tokens: Array(tokens[..<cut]), context: 16, stride: 8, vocabularySize: 1000)
        let validation = try TokenWindows(name: "v", tokens: Array(tokens[cut...]), context: 16, vocabularySize: 1000)
        let trainBatch = train.makeBatch(indices: Array(0..<train.count)), valBatch = validation.makeBatch(indices: Array(0..<validation.count))
        #expect(trainBatch.targets.max()! < cut && Int(trainBatch.inputs.scalars.max()!) < cut)
        #expect(Int(valBatch.inputs.scalars.min()!) >= cut && valBatch.targets.min()! > cut)
        // The training windows still reach the last training token.
        #expect(trainBatch.targets.max()! >= cut - 8)
    }

    @Test func badFractionsAndTinyDataAreErrorsNamingTheData() throws {
        for f in [0.0, 1.0, -0.1, 1.5] {
            #expect { try ValidationSplit.size(of: 100, fraction: f, what: "wine.csv") } throws: { "\($0)".contains("wine.csv") && "\($0)".contains("\(f)") }
        }
        #expect { try ValidationSplit.size(of: 1, fraction: 0.5, what: "one.csv") } throws: { "\($0)".contains("one.csv") }
        // At least one sample on each side.
        #expect(try ValidationSplit.size(of: 10, fraction: 0.01, what: "x") == 1 && ValidationSplit.size(of: 10, fraction: 0.99, what: "x") == 9)
    }
}
