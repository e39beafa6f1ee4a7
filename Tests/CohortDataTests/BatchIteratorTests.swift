// Mini-batching: the order is a pure function of (seed, epoch), drop-last
// trims epochs to whole batches, batches hold the right rows, and resuming
// from a saved cursor (even mid-batch) serves exactly the remaining batches.
import CohortCore
import CohortData
import CohortTensor
import Testing

@Suite struct BatchIteratorTests {
    /// `n` samples of shape [2]; sample i has features (i, −i) and label i % 3.
    func dataset(_ n: Int) throws -> ClassificationDataset {
        try ClassificationDataset(name: "toy", features: (0..<n).flatMap { [Float($0), -Float($0)] },
                                  labels: (0..<n).map { Int32($0 % 3) }, featureShape: [2], numClasses: 3)
    }

    func indices(_ it: inout BatchIterator, _ batches: Int) -> [[Int]] { (0..<batches).map { _ in it.nextBatch().indices } }

    @Test func shufflingIsAPureFunctionOfSeedAndEpoch() throws {
        let d = try dataset(100)
        var a = try BatchIterator(dataset: d, batchSize: 10, seed: 7)
        var b = try BatchIterator(dataset: d, batchSize: 10, seed: 7)
        var c = try BatchIterator(dataset: d, batchSize: 10, seed: 8)
        let epochs01 = indices(&a, 20)
        #expect(epochs01 == indices(&b, 20))
        #expect(epochs01 != indices(&c, 20))
        let e0 = Array(epochs01[0..<10].joined()), e1 = Array(epochs01[10..<20].joined())
        #expect(e0.sorted() == Array(0..<100) && e1.sorted() == Array(0..<100))
        #expect(e0 != e1 && e0 != Array(0..<100))
        #expect(e0 == BatchIterator.order(count: 100, seed: 7, epoch: 0))
        #expect(e1 == BatchIterator.order(count: 100, seed: 7, epoch: 1))
        var plain = try BatchIterator(dataset: d, batchSize: 30, shuffle: false)
        #expect(Array(indices(&plain, 4).joined()) == Array(0..<100))
    }

    @Test func dropLastTrimsEachEpochToWholeBatches() throws {
        let d = try dataset(10)
        var keep = try BatchIterator(dataset: d, batchSize: 4, seed: 1)
        #expect(keep.samplesPerEpoch == 10 && keep.batchesPerEpoch == 3)
        #expect((0..<3).map { _ in keep.nextBatch().labels.count } == [4, 4, 2])
        #expect(keep.cursor == 10 && keep.epoch == 1)

        var drop = try BatchIterator(dataset: d, batchSize: 4, dropLast: true, seed: 1)
        #expect(drop.samplesPerEpoch == 8 && drop.batchesPerEpoch == 2 && drop.batchesRemainingInEpoch == 2)
        let batches = (0..<4).map { _ in drop.nextBatch() }
        #expect(batches.map(\.labels.count) == [4, 4, 4, 4])
        #expect(batches.map(\.epoch) == [0, 0, 1, 1])
        #expect(Array(batches[0].indices + batches[1].indices) == Array(BatchIterator.order(count: 10, seed: 1, epoch: 0).prefix(8)))
        #expect(drop.cursor == 16 && drop.epoch == 2)
        #expect(throws: CohortError.self) { try BatchIterator(dataset: d, batchSize: 11, dropLast: true) }
        #expect(throws: CohortError.self) { try BatchIterator(dataset: d, batchSize: 0) }
    }

    @Test func batchesHoldTheSelectedRows() throws {
        let d = try dataset(10)
        var it = try BatchIterator(dataset: d, batchSize: 3, seed: 2)
        let b = it.nextBatch()
        #expect(b.inputs.shape == [3, 2])
        #expect(b.inputs.scalars == b.indices.flatMap { [Float($0), -Float($0)] })
        #expect(b.labels == b.indices.map { $0 % 3 })
        let img = try ClassificationDataset(name: "img", features: (0..<24).map(Float.init), labels: [0, 1],
                                            featureShape: [1, 3, 4], numClasses: 2)
        var it2 = try BatchIterator(dataset: img, batchSize: 2, shuffle: false)
        let b2 = it2.nextBatch()
        #expect(b2.inputs.shape == [2, 1, 3, 4] && b2.inputs.scalars == (0..<24).map(Float.init))
    }

    @Test func resumingFromTheCursorServesTheSameRemainingBatches() throws {
        let d = try dataset(23)
        for dropLast in [false, true] {
            var full = try BatchIterator(dataset: d, batchSize: 5, dropLast: dropLast, seed: 3)
            _ = indices(&full, 7)                    // crosses into epoch 1
            let saved = full.cursor
            let rest = (0..<9).map { _ in full.nextBatch() }
            var resumed = try BatchIterator(dataset: d, batchSize: 5, dropLast: dropLast, seed: 3, cursor: saved)
            let again = (0..<9).map { _ in resumed.nextBatch() }
            #expect(rest.map(\.indices) == again.map(\.indices))
            #expect(rest.map(\.epoch) == again.map(\.epoch))
            #expect(rest.map(\.inputs.scalars) == again.map(\.inputs.scalars))
            #expect(rest.map(\.labels) == again.map(\.labels))
        }
        // A cursor in the middle of a batch continues from that exact sample.
        var it = try BatchIterator(dataset: d, batchSize: 5, seed: 3)
        try it.seek(to: 23 + 7)
        let order1 = BatchIterator.order(count: 23, seed: 3, epoch: 1)
        #expect(it.epoch == 1 && it.positionInEpoch == 7 && it.batchesRemainingInEpoch == 4)
        #expect(it.nextBatch().indices == Array(order1[7..<12]))
        #expect(throws: CohortError.self) { try it.seek(to: -1) }
    }
}
