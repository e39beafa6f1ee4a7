// ClassificationDataset: validation of its parts, subsets and seeded splits,
// and the batch gather with its index check.
import CohortCore
import CohortData
import CohortTensor
import Testing

@Suite struct DatasetTests {
    func dataset() throws -> ClassificationDataset {
        try ClassificationDataset(name: "toy", features: (0..<12).map(Float.init), labels: [0, 1, 2, 1, 0, 2],
                                  featureShape: [2], numClasses: 3)
    }

    @Test func inconsistentPartsAreRejected() {
        #expect(throws: CohortError.self) {
            try ClassificationDataset(name: "x", features: [1, 2, 3], labels: [0, 1], featureShape: [2], numClasses: 2)
        }
        #expect(throws: CohortError.self) {
            try ClassificationDataset(name: "x", features: [1, 2], labels: [0, 5], featureShape: [1], numClasses: 2)
        }
        #expect(throws: CohortError.self) {
            try ClassificationDataset(name: "x", features: [], labels: [], featureShape: [], numClasses: 2)
        }
    }

    @Test func subsetsAndSplits() throws {
        let d = try dataset()
        #expect(d.count == 6 && d.featureSize == 2 && d.labelCounts() == [2, 2, 2])
        let s = try d.subset([4, 1])
        #expect(s.features == [8, 9, 2, 3] && s.labels == [0, 1])
        #expect(try d.subset(2..<4).features == [4, 5, 6, 7])
        let (a, b) = try d.split(firstCount: 4)
        #expect(a.count == 4 && b.labels == [0, 2] && a.name == "toy-a")
        let (x, y) = try d.split(firstCount: 3, shuffleSeed: 9, names: ("train", "val"))
        let (x2, _) = try d.split(firstCount: 3, shuffleSeed: 9)
        #expect(x.features == x2.features && x.name == "train" && y.name == "val")
        #expect((x.features + y.features).sorted() == d.features)
        #expect(throws: CohortError.self) { try d.split(firstCount: 7) }
        #expect(throws: CohortError.self) { try d.subset([6]) }
        #expect(throws: CohortError.self) { try d.reshaped(featureShape: [3]) }
    }

    @Test func makeBatchGathersRowsAndChecksIndices() throws {
        let d = try dataset()
        let (x, y) = try d.makeBatch(indices: [5, 0])
        #expect(x.shape == [2, 2] && x.scalars == [10, 11, 0, 1] && y == [2, 0])
        #expect(throws: CohortError.self) { try d.makeBatch(indices: [6]) }
    }
}
