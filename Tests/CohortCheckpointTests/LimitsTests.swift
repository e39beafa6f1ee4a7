// The writer enforces every limit the reader enforces (one `CheckpointLimits` table):
// a manifest exactly at the size limit is written and reads back, one byte over is
// refused by the writer, which commits nothing; and the reader's messages say which
// limit or which length is wrong.
import Foundation
import Testing
@testable import CohortCheckpoint

extension CheckpointTests {
    @Suite struct Limits {
        func manifest() -> Manifest {
            var m = fullManifest(step: 7)
            m.metadata += (0..<200).map { KeyValue("note-\($0)", String(repeating: "m", count: 100)) }
            return m
        }

        @Test func aManifestAtTheSizeLimitReadsBackAndOneByteOverIsRefused() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let tensors = [payload("model/w", [2, 3], [1, 2, 3, 4, 5, 6])]
            // The payload size of this checkpoint's manifest (deterministic: same records, same offsets).
            let first = try CheckpointWriter.write(manifest(), tensors: tensors, directory: dir.path)
            let size = Int(fileSize(first + "/" + CheckpointLayout.manifestName)) - CheckpointLayout.headerSize
            #expect(size > 20_000)

            var atLimit = CheckpointLimits()
            atLimit.maxManifestBytes = size
            let path = try CheckpointWriter.write(manifest(), tensors: tensors, directory: dir.path, limits: atLimit)
            let c = try Checkpoint(path: path, limits: atLimit)
            try c.verify()
            #expect(c.manifest.metadata == manifest().metadata)
            #expect(try c.readFloats("model/w") == [1, 2, 3, 4, 5, 6])

            var under = atLimit
            under.maxManifestBytes = size - 1
            let e = checkpointError { try CheckpointWriter.write(self.manifest(), tensors: tensors, directory: dir.path, limits: under) }
            let text = e.map { "\($0)" } ?? ""
            #expect(text.contains("cannot save: the manifest would be \(size) bytes, over the limit of \(size - 1) bytes"), "\(text)")
            #expect(text.contains("metadata"), "\(text)")
            // The checkpoint of that step is untouched, and no temporary directory is left behind.
            #expect(openAndVerify(path) == nil)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".lock") } == ["step-00000007"])
            // A reader with the lower limit says which limit the file exceeds.
            let r = checkpointError { _ = try Checkpoint(path: path, limits: under) }
            #expect(r.map { "\($0)".contains("manifest payload of \(size) bytes exceeds the reader's limit of \(size - 1) bytes") } ?? false,
                    "\(String(describing: r))")
        }

        @Test func theWriterRefusesWhatTheReaderWouldReject() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let w = [payload("model/w", [1], [1])]
            var longValue = Manifest()
            longValue.metadata = [KeyValue("note", String(repeating: "v", count: CheckpointLimits.standard.maxStringBytes + 1))]
            var manyWords = Manifest()
            manyWords.rng = [RNGRecord(name: "init", words: [UInt64](repeating: 1, count: CheckpointLimits.standard.maxRNGWords + 1))]
            var longMetric = Manifest()
            longMetric.metrics = [MetricPoint(name: String(repeating: "l", count: 5000), step: 1, value: 1)]
            for (m, expected) in [(longValue, "metadata value of note is longer than 4096 bytes"),
                                  (manyWords, "rng state has 65 words (the limit is 64)"),
                                  (longMetric, "metric name is longer than 4096 bytes")] {
                let e = checkpointError { try CheckpointWriter.write(m, tensors: w, directory: dir.path) }
                #expect(e.map { "\($0)".contains("cannot save: " + expected) } ?? false, "\(String(describing: e))")
            }
            var smallChunks = CheckpointLimits()
            smallChunks.maxChunkBytes = 2
            let e = checkpointError { try CheckpointWriter.write(Manifest(), tensors: w, directory: dir.path, limits: smallChunks) }
            #expect(e.map { "\($0)".contains("chunk of 4 bytes exceeds the 2-byte limit") } ?? false, "\(String(describing: e))")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".lock") }.isEmpty)
        }

        @Test func aLengthThatDisagreesWithTheFileIsReportedAsSuch() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let path = try CheckpointWriter.write(manifest(), tensors: [payload("model/w", [1], [1])], directory: dir.path)
            let file = path + "/" + CheckpointLayout.manifestName
            let bytes = try readBytes(file)
            try writeBytes(bytes + [0], file)
            let e = checkpointError { _ = try Checkpoint(path: path) }
            let declared = bytes.count - CheckpointLayout.headerSize
            #expect(e.map { "\($0)".contains("declares a \(declared)-byte payload but manifest.pb holds \(declared + 1) bytes") } ?? false,
                    "\(String(describing: e))")
        }

        @Test func byteCountsAreDescribedWithTheirUnit() {
            #expect(CheckpointLimits.describe(bytes: 256 << 20) == "268435456 bytes (256 MiB)")
            #expect(CheckpointLimits.describe(bytes: (3 << 20) / 2) == "1572864 bytes (1.5 MiB)")
            #expect(CheckpointLimits.describe(bytes: 1000) == "1000 bytes")
        }
    }
}
