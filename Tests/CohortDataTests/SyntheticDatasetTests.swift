// The built-in synthetic dataset: the same seed gives identical bytes, another
// seed differs, and the default sizes, shapes and class balance hold.
import Testing
import CohortData
import CohortCore

@Suite struct SyntheticDatasetTests {
    func bits(_ d: ClassificationDataset) -> [UInt32] { d.features.map(\.bitPattern) }

    @Test func sameSeedSameBytesDifferentSeedDiffers() throws {
        let a = try SyntheticDataset.make(seed: 11, trainCount: 2_000, testCount: 500)
        let b = try SyntheticDataset.make(seed: 11, trainCount: 2_000, testCount: 500)
        let c = try SyntheticDataset.make(seed: 12, trainCount: 2_000, testCount: 500)
        #expect(bits(a.train) == bits(b.train) && a.train.labels == b.train.labels)
        #expect(bits(a.test) == bits(b.test) && a.test.labels == b.test.labels)
        #expect(bits(a.train) != bits(c.train) && a.train.labels != c.train.labels)
        #expect(try bits(a.train.subset(0..<500)) != bits(a.test))
        // The test set does not depend on the training-set size.
        let d = try SyntheticDataset.make(seed: 11, trainCount: 100, testCount: 500)
        #expect(bits(d.test) == bits(a.test))
    }

    @Test func defaultsHaveTheDocumentedShape() throws {
        let (train, test) = try SyntheticDataset.make()
        #expect(train.count == 20_000 && test.count == 4_000)
        #expect(train.featureShape == [64] && train.numClasses == 10 && train.name == "synthetic-train")
        #expect(train.labelCounts().allSatisfy { (1_800...2_200).contains($0) })
        #expect(train.features.allSatisfy { $0.isFinite })
        let mean = train.features.reduce(0, +) / Float(train.features.count)
        #expect(abs(mean) < 0.5)
        #expect(throws: CohortError.self) { try SyntheticDataset.make(seed: 0, trainCount: -1) }
    }
}
