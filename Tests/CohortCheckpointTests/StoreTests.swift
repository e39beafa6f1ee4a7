// The commit protocol seen from the run directory: the newest checkpoint wins,
// leftover temporary directories are ignored and cleaned up, a re-save of a step
// replaces it, and retention keeps the last K plus every N-th step.
import Foundation
import Testing
@testable import CohortCheckpoint

extension CheckpointTests {
    @Suite struct Store {
        func save(_ step: Int, _ dir: String, value: Float? = nil) throws {
            var m = Manifest()
            m.step = step
            try CheckpointWriter.write(m, tensors: [payload("model/w", [2], [value ?? Float(step), 1])], directory: dir)
        }

        @Test func latestValidPicksTheNewestAndIgnoresOtherNames() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            #expect(CheckpointStore(directory: dir.path).latestValid() == nil)
            #expect(CheckpointStore(directory: dir.file("missing")).list().isEmpty)
            for s in [3, 1, 20, 7] { try save(s, dir.path) }
            // Not checkpoints: a short step name, a file, an export.
            try FileManager.default.createDirectory(atPath: dir.file("step-5"), withIntermediateDirectories: true)
            try writeBytes([1, 2, 3], dir.file("step-00000099"))
            try writeBytes([1], dir.file("step-00000020.npz"))
            let store = CheckpointStore(directory: dir.path)
            #expect(store.list().map(\.step) == [1, 3, 7, 20])
            let latest = try #require(store.latestValid { p, e in Issue.record("skipped \(p): \(e)") })
            #expect(latest.path == dir.file("step-00000020") && latest.manifest.step == 20)
            #expect(try latest.readFloats("model/w") == [20, 1])
        }

        @Test func leftoverTemporaryDirectoryIsIgnoredThenCleaned() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            try save(1, dir.path)
            try save(2, dir.path)
            // A writer (another pid) that died mid-save: data written, no manifest, never renamed.
            let tmp = dir.file(".tmp-step-00000003-999999-abc")
            try copyTree(dir.file("step-00000002"), tmp)
            try FileManager.default.removeItem(atPath: tmp + "/manifest.pb")
            let old = dir.file(".old-step-00000002-999999-abc")
            try copyTree(dir.file("step-00000002"), old)
            let store = CheckpointStore(directory: dir.path)
            #expect(store.list().map(\.step) == [1, 2])
            #expect(store.latestValid()?.manifest.step == 2)
            try save(4, dir.path)
            #expect(!FileManager.default.fileExists(atPath: tmp) && !FileManager.default.fileExists(atPath: old))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != ".lock" }.sorted() == ["step-00000001", "step-00000002", "step-00000004"])
        }

        @Test func savingAStepAgainReplacesIt() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            try save(5, dir.path, value: 1)
            try save(5, dir.path, value: 2)
            let store = CheckpointStore(directory: dir.path)
            #expect(store.list().map(\.step) == [5])
            #expect(try store.latestValid()?.readFloats("model/w") == [2, 1])
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != ".lock" } == ["step-00000005"])
        }

        @Test func retentionKeepsLastAndEvery() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            for s in 1...10 { try save(s, dir.path) }
            let store = CheckpointStore(directory: dir.path)
            #expect(store.applyRetention(keepLast: 0).isEmpty)   // 0 = keep all
            let deleted = store.applyRetention(keepLast: 3, keepEvery: 4)
            #expect(deleted == [1, 2, 3, 5, 6, 7].map { dir.file(CheckpointLayout.directoryName(step: $0)) })
            #expect(store.list().map(\.step) == [4, 8, 9, 10])
            #expect(store.applyRetention(keepLast: 1).map { URL(fileURLWithPath: $0).lastPathComponent } == ["step-00000004", "step-00000008", "step-00000009"])
            #expect(store.list().map(\.step) == [10])
            #expect(store.latestValid()?.manifest.step == 10)
        }

        @Test func directoryNames() {
            #expect(CheckpointLayout.directoryName(step: 0) == "step-00000000")
            #expect(CheckpointLayout.directoryName(step: 1200) == "step-00001200")
            #expect(CheckpointLayout.directoryName(step: 123_456_789) == "step-123456789")
            #expect(CheckpointLayout.step(fromDirectoryName: "step-123456789") == 123_456_789)
            for bad in ["step-1", "step-0000001a", "step-00000001.npz", "Step-00000001", ".tmp-step-00000001", "step-" + String(repeating: "9", count: 30)] {
                #expect(CheckpointLayout.step(fromDirectoryName: bad) == nil, "\(bad)")
            }
        }
    }
}
