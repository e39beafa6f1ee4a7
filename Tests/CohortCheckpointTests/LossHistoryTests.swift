// The loss history stays bounded however long the run: exact recent steps, older
// ones as block means that merge pairwise; it survives a manifest round trip
// exactly, old checkpoints (a `loss` point per step) restore into it, and a
// 20-million-step history is written and read back as a small manifest.
import Foundation
import Testing
@testable import CohortCheckpoint

extension CheckpointTests {
    @Suite struct LossHistoryTests {
        @Test func recentStepsAreExactAndOlderOnesBecomeBlockMeans() {
            var h = LossHistory(recentCapacity: 4)
            h.append(contentsOf: (1...10).map(Float.init))
            // Steps leaving the 4-step window close blocks of one step: steps 1…6 are blocks, 7…10 recent.
            #expect(h.lastStep == 10 && h.blockSteps == 1 && h.blockMeans == [1, 2, 3, 4, 5, 6])
            #expect(h.recentLosses == [7, 8, 9, 10] && h.firstRecentStep == 7)
            let points = h.metricPoints()
            #expect(points.filter { $0.name == "loss" }.map(\.step) == [7, 8, 9, 10])
            #expect(points.filter { $0.name == "loss_block_mean" }.map(\.step) == [1, 2, 3, 4, 5, 6])
        }

        @Test func blocksMergeInPairsWhenThereAreTooMany() {
            var h = LossHistory(recentCapacity: 8)
            let n = 8 + 3000
            h.append(contentsOf: (1...n).map { Float($0 % 2) })   // 1, 0, 1, 0, …: every even-sized block averages 0.5
            #expect(h.blockMeans.count < LossHistory.maxBlocks && h.blockMeans.count >= LossHistory.maxBlocks / 2)
            #expect(h.blockSteps == 4)   // 1 → 2 at 1024 one-step blocks, → 4 at 1024 two-step blocks
            #expect(h.blockMeans.allSatisfy { $0 == 0.5 })
            #expect(h.origin + h.blockMeans.count * h.blockSteps + h.openSteps == h.firstRecentStep - 1)
            #expect(h.recentLosses.count == 8 && h.lastStep == n)
        }

        @Test func nonFiniteLossesAreLeftOutOfMeans() {
            var h = LossHistory(recentCapacity: 1)
            h.append(contentsOf: [Float.nan, .nan, 3, .infinity, 5])
            #expect(h.blockMeans[0].isNaN && h.blockMeans[1].isNaN && h.blockMeans[2] == 3 && h.blockMeans[3].isNaN)
            #expect(LossHistory.merged(.nan, 4) == 4 && LossHistory.merged(2, 4) == 3 && LossHistory.merged(.nan, .nan).isNaN)
        }

        @Test func restoringTheManifestFormGivesTheSameHistory() {
            var h = LossHistory(recentCapacity: 100)
            h.append(contentsOf: (1...5000).map { $0 % 97 == 0 ? .nan : 1 / Float($0) })
            #expect(h.openSteps == 4 && h.blockSteps == 8 && h.openFinite <= h.openSteps)   // a partly filled block too
            let back = LossHistory(restoring: h.metricPoints(), step: 5000, recentCapacity: 100)
            #expect(back == h)
            // Appending after a restore goes on exactly as without one.
            var a = h, b = back
            a.append(contentsOf: (1...777).map { Float($0) })
            b.append(contentsOf: (1...777).map { Float($0) })
            #expect(a == b)
        }

        @Test func anOldCheckpointsPerStepLossesRestore() {
            // Before the bounded history, a manifest held a `loss` point for every step.
            let old = (1...2500).map { MetricPoint(name: "loss", step: $0, value: Double($0)) }
            let h = LossHistory(restoring: old, step: 2500, recentCapacity: 1000)
            var expected = LossHistory(recentCapacity: 1000)
            expected.append(contentsOf: (1...2500).map(Float.init))
            #expect(h == expected)
            #expect(h.recentLosses.last == 2500 && h.blockMeans.first == 1.5)   // steps 1 and 2, after one merge
        }

        @Test func inconsistentRecordsKeepTheContiguousTail() {
            // A gap at step 6: only steps 7…9 form a history ending at the checkpoint's step.
            let points = [1, 2, 3, 4, 5, 7, 8, 9].map { MetricPoint(name: "loss", step: $0, value: Double($0)) }
                + [MetricPoint(name: "loss_block_mean", step: 3, value: 1)]   // blocks that do not tile from step 1
            let h = LossHistory(restoring: points, step: 9, recentCapacity: 10)
            #expect(h.origin == 6 && h.recentLosses == [7, 8, 9] && h.blockMeans.isEmpty)
            // The start marker keeps the unknown prefix through a round trip.
            #expect(LossHistory(restoring: h.metricPoints(), step: 9, recentCapacity: 10) == h)
            // Losses that do not reach the checkpoint's step, or none at all: nothing is known.
            #expect(LossHistory(restoring: points, step: 12, recentCapacity: 10).recentLosses.isEmpty)
            #expect(LossHistory(restoring: [], step: 0).lastStep == 0)
        }

        @Test func twentyMillionStepsStayReadable() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let steps = 20_000_000
            var h = LossHistory()
            var block = [Float](repeating: 0, count: 1 << 20)
            var done = 0
            while done < steps {
                let n = min(block.count, steps - done)
                for i in 0..<n { block[i] = 2 / Float(1 + (done + i) >> 16) }   // a slowly falling loss
                h.append(contentsOf: block[0..<n])
                done += n
            }
            var m = Manifest()
            m.step = steps
            m.metrics = h.metricPoints()
            let values = [Float](repeating: 1, count: 4)
            let path = try CheckpointWriter.write(m, tensors: [payload("model/w", [4], values)], directory: dir.path)
            let c = try Checkpoint(path: path)
            try c.verify()
            // The old form would need a point per step: over 20 bytes each, > 400 MB, past the 256 MiB limit.
            let manifestBytes = fileSize(path + "/" + CheckpointLayout.manifestName)
            #expect(manifestBytes < 512 << 10, "manifest of \(manifestBytes) bytes")
            #expect(c.manifest.metrics.count <= LossHistory.defaultRecentSteps + LossHistory.maxBlocks + 3)
            let back = LossHistory(restoring: c.manifest.metrics, step: steps)
            #expect(back == h)
            #expect(back.lastStep == steps && back.recentLosses.last == 2 / Float(1 + (steps - 1) >> 16))
            // The first block's mean is the first steps' loss (2 for the first 65,536 steps).
            #expect(back.blockSteps <= 1 << 16 && back.blockMeans.first == 2)
        }
    }
}
