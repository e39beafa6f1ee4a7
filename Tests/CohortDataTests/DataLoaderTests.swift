// DataLoader: the same order as BatchIterator, rank slices that tile each
// global batch, micro-batches that tile the rank slice, prefetch that changes
// nothing but timing and stops at the last step, exact resume from the cursor,
// and transforms and step-aware datasets that see the step and sample ids.
import CohortCore
@testable import CohortData
import CohortTensor
import Foundation
import Testing

@Suite struct DataLoaderTests {
    /// Sample i has every feature equal to i and label i % 3.
    func dataset(_ n: Int) throws -> ClassificationDataset {
        try ClassificationDataset(name: "ramp", features: (0..<n).flatMap { i in [Float](repeating: Float(i), count: 4) },
                                  labels: (0..<n).map { Int32($0 % 3) }, featureShape: [4], numClasses: 3)
    }

    @Test func servesTheBatchIteratorOrderAcrossEpochs() throws {
        let data = try dataset(50)
        let loader = try DataLoader(data, batchSize: 8, seed: 5)
        var reference = try BatchIterator(count: 50, name: "ramp", batchSize: 8, dropLast: true, seed: 5)
        for step in 1...20 {   // 6 batches per epoch: crosses three epoch boundaries
            let b = try loader.next()
            let want = reference.nextIndices()
            #expect(b.indices == want.indices && b.epoch == want.epoch && b.step == step)
            #expect(b.value.inputs.scalars == want.indices.flatMap { [Float](repeating: Float($0), count: 4) })
            #expect(b.value.labels == want.indices.map { $0 % 3 })
        }
        #expect(loader.cursor == 20 * 8)
    }

    @Test func rankSlicesTileEachGlobalBatch() throws {
        let data = try dataset(64)
        let single = try DataLoader(data, batchSize: 12, seed: 2)
        let ranks = try (0..<3).map { try DataLoader(data, batchSize: 12, seed: 2, rank: $0, worldSize: 3) }
        for _ in 0..<10 {
            let global = try single.next().indices
            let parts = try ranks.map { try $0.next().indices }
            #expect(parts.allSatisfy { $0.count == 4 } && parts.joined().map { $0 } == global)
        }
    }

    @Test func prefetchChangesNothingButTiming() throws {
        let data = try dataset(100)
        let plain = try DataLoader(data, batchSize: 16, seed: 9, rank: 1, worldSize: 2)
        let ahead = try DataLoader(data, batchSize: 16, seed: 9, rank: 1, worldSize: 2, prefetch: 3)
        for _ in 0..<25 {
            let a = try plain.next(), b = try ahead.next()
            #expect(a.indices == b.indices && a.step == b.step && a.value.inputs.scalars == b.value.inputs.scalars)
        }
        #expect(plain.cursor == ahead.cursor)
    }

    @Test func seekResumesExactly() throws {
        let data = try dataset(70)
        for prefetch in [0, 2] {
            let straight = try DataLoader(data, batchSize: 10, seed: 3, prefetch: prefetch)
            let all = try (0..<15).map { _ in try straight.next().indices }
            let first = try DataLoader(data, batchSize: 10, seed: 3, prefetch: prefetch)
            for _ in 0..<6 { _ = try first.next() }
            let resumed = try DataLoader(data, batchSize: 10, seed: 3, prefetch: prefetch)
            try resumed.seek(to: first.cursor, step: 6)
            let rest = try (0..<9).map { _ in try resumed.next() }
            #expect(rest.map(\.indices) == Array(all[6...]) && rest.first?.step == 7, "prefetch \(prefetch)")
        }
    }

    @Test func transformSeesStepAndIds() throws {
        let data = try dataset(40)
        let loader = try DataLoader(data, batchSize: 4, seed: 1, prefetch: 2) { batch, ids, step in
            // Adds 1000 × step to every feature: checks the step and the ids line up with the batch.
            (try batch.inputs + Float(1000 * step), batch.labels)
        }
        for step in 1...12 {
            let b = try loader.next()
            #expect(b.value.inputs.scalars == b.indices.flatMap { [Float](repeating: Float($0 + 1000 * step), count: 4) })
        }
    }

    @Test func microBatchesTileTheRankSlice() throws {
        let data = try dataset(96)
        let whole = try DataLoader(data, batchSize: 24, seed: 4, rank: 1, worldSize: 2)
        let cut = try DataLoader(data, batchSize: 24, seed: 4, rank: 1, worldSize: 2, prefetch: 2, microBatches: 3)
        for _ in 0..<9 {
            let a = try whole.next(), b = try cut.next()
            #expect(b.pieces.count == 3 && b.indices == a.indices && b.globalIndices == a.globalIndices && b.step == a.step)
            #expect(b.pieces.flatMap(\.inputs.scalars) == a.value.inputs.scalars && b.pieces.flatMap(\.labels) == a.value.labels)
            #expect(Array(a.globalIndices[12..<24]) == a.indices)
        }
        #expect { try DataLoader(data, batchSize: 24, worldSize: 2, microBatches: 5) } throws: { "\($0)".contains("ramp") && "\($0)".contains("5 micro-batches") }
    }

    @Test func prefetchStopsAtTheLastStep() throws {
        let data = try dataset(40)
        let seen = StepLog()
        let loader = try DataLoader(data, batchSize: 4, seed: 1, prefetch: 3, steps: 5) { batch, _, step in
            seen.add(step)
            return batch
        }
        for step in 1...5 { #expect(try loader.next().step == step) }
        #expect(seen.steps == Array(1...5))
        #expect(throws: CohortError.self) { try loader.next() }
    }

    @Test func stepAwareDatasetsSeeTheStep() throws {
        let loader = try DataLoader(Stepped(), batchSize: 4, seed: 2, worldSize: 1, prefetch: 1)
        for step in 1...8 {
            let b = try loader.next()
            #expect(b.value == b.indices.map { $0 + 1000 * step })
        }
    }

    @Test func badSettingsNameTheDataset() throws {
        let data = try dataset(10)
        #expect { try DataLoader(data, batchSize: 6, worldSize: 4) } throws: { "\($0)".contains("ramp") && "\($0)".contains("4 ranks") }
        #expect { try DataLoader(data, batchSize: 20) } throws: { "\($0)".contains("ramp") }
        #expect(throws: CohortError.self) { try DataLoader(data, batchSize: 4, rank: 2, worldSize: 2) }
    }
}

/// Indices offset by 1000 × the step: which step a batch was gathered for.
private struct Stepped: Dataset {
    var name: String { "stepped" }
    var count: Int { 20 }
    func batch(_ indices: [Int]) -> [Int] { indices }
    func batch(_ indices: [Int], step: Int) -> [Int] { indices.map { $0 + 1000 * step } }
}

/// The steps a transform ran for (it may run on the prefetch thread).
private final class StepLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Int] = []
    func add(_ step: Int) { lock.withLock { recorded.append(step) } }
    var steps: [Int] { lock.withLock { recorded } }
}
