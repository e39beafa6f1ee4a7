// The file side of a sharded save without MPI: three "ranks" write their pieces of
// the same tensors into one temporary directory, rank 0 commits one manifest; the
// result reads back bitwise as an ordinary checkpoint. Pieces that do not add up
// to a tensor, or a piece outside it, commit nothing and leave no temporary behind.
import Foundation
import Testing
@testable import CohortCheckpoint

extension CheckpointTests {
    @Suite struct ShardedWriter {
        let weights = (0..<10).map { Float($0) * 0.5 - 1 }, bias: [Float] = [7, -0.0, .infinity]
        var order: [(name: String, shape: [Int], dtype: DType)] {
            [("model/w", [2, 5], .float32), ("model/b", [3], .float32), ("model/empty", [0, 4], .float32)]
        }

        /// `name`'s `elements` of `values` as a piece.
        func piece(_ name: String, _ shape: [Int], _ values: [Float], _ elements: Range<Int>) -> TensorPayload {
            var p = payload(name, shape, Array(values[elements]))
            p.elements = elements
            return p
        }

        /// Rank r's pieces: w cut at 4 and 7, b whole on rank 1, the empty tensor on rank 0.
        func pieces(rank: Int) -> [TensorPayload] {
            switch rank {
            case 0: return [piece("model/w", [2, 5], weights, 0..<4), piece("model/empty", [0, 4], [], 0..<0)]
            case 1: return [piece("model/w", [2, 5], weights, 4..<7), piece("model/b", [3], bias, 0..<3)]
            default: return [piece("model/w", [2, 5], weights, 7..<10)]
            }
        }

        @Test func threeRanksPiecesReadBackAsOneCheckpoint() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let m = fullManifest(step: 40)
            let begun = try ShardedCheckpointWriter.begin(m, directory: dir.path, plannedBytes: [16, 24, 12])
            let tables = try (0..<3).map { r in
                let records = try ShardedCheckpointWriter.writePieces(pieces(rank: r), rank: r, into: begun.temporary)
                return try ShardedCheckpointWriter.decodeTable(ShardedCheckpointWriter.encodeTable(records), from: r)
            }
            let path = try ShardedCheckpointWriter.commit(begun, manifest: m, order: order, pieces: tables)
            #expect(path == dir.file("step-00000040"))
            let files = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
            #expect(files == ["data-r00000-00000.bin", "data-r00001-00000.bin", "data-r00002-00000.bin", "manifest.pb"])
            let c = try Checkpoint(path: path)
            try c.verify()
            #expect(try c.readFloats("model/w").map(\.bitPattern) == weights.map(\.bitPattern))
            #expect(try c.readFloats("model/b").map(\.bitPattern) == bias.map(\.bitPattern))
            #expect(try c.readFloats("model/empty").isEmpty)
            #expect(c.manifest.tensors.map(\.name) == order.map(\.name))
            #expect(c.record("model/w")?.chunks.map(\.file) == ["data-r00000-00000.bin", "data-r00001-00000.bin", "data-r00002-00000.bin"])
            // The lock is released: an ordinary save into the same directory goes ahead.
            try CheckpointWriter.write(fullManifest(step: 50), tensors: [payload("model/w", [1], [1])], directory: dir.path)
        }

        @Test func piecesThatDoNotAddUpCommitNothing() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let m = fullManifest(step: 40)
            let begun = try ShardedCheckpointWriter.begin(m, directory: dir.path, plannedBytes: [64])
            // Rank 2 never wrote: w lacks its last three elements.
            let tables = try (0..<2).map { try ShardedCheckpointWriter.writePieces(pieces(rank: $0), rank: $0, into: begun.temporary) }
            let e = checkpointError { _ = try ShardedCheckpointWriter.commit(begun, manifest: m, order: order, pieces: tables) }
            #expect("\(e.map { "\($0)" } ?? "")".contains("model/w"), "\(String(describing: e))")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".lock") }.isEmpty)
        }

        @Test func aPieceOutsideItsTensorIsRefused() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let begun = try ShardedCheckpointWriter.begin(fullManifest(step: 40), directory: dir.path, plannedBytes: [64])
            var bad = piece("model/b", [3], bias + [1], 1..<4)
            bad.elements = 1..<4
            let e = checkpointError { _ = try ShardedCheckpointWriter.writePieces([bad], rank: 1, into: begun.temporary) }
            #expect("\(e.map { "\($0)" } ?? "")".contains("outside its 3 elements"), "\(String(describing: e))")
            ShardedCheckpointWriter.abort(begun)
            #expect(!FileManager.default.fileExists(atPath: begun.temporary))
        }
    }
}
