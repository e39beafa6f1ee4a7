// Damage of every kind — one byte flipped anywhere, files truncated or deleted,
// a chunk naming a file outside the checkpoint — must be caught by opening or
// verifying, with a message naming the manifest or the tensor and data file;
// `latestValid` must then skip the damaged checkpoint and fall back.
import Foundation
import Testing
@testable import CohortCheckpoint

extension CheckpointTests {
    @Suite struct Corruption {
        let dataFile = "data-00000.bin"

        /// A run directory with good checkpoints at steps 1 and 2, and a pristine copy of step 2.
        struct Fixture {
            let dir: Scratch
            var good: String { dir.file("run/step-00000001") }
            var victim: String { dir.file("run/step-00000002") }
            var pristine: String { dir.file("pristine") }
            var store: CheckpointStore { CheckpointStore(directory: dir.file("run")) }
            let manifest: Manifest

            init() throws {
                dir = try Scratch()
                let tensors = [
                    payload("model/a", [4, 8], (0..<32).map { Float($0) * 0.5 }),
                    payload("model/empty", [0], []),
                    payload("model/b", [16], (0..<16).map { -Float($0) }),
                    payload("optimizer/exp_avg/a", [4, 8], (0..<32).map { Float($0) / 7 }),
                ]
                var m = fullManifest(step: 1)
                try CheckpointWriter.write(m, tensors: tensors, directory: dir.file("run"))
                m.step = 2
                try CheckpointWriter.write(m, tensors: tensors, directory: dir.file("run"))
                try copyTree(dir.file("run/step-00000002"), dir.file("pristine"))
                manifest = try Checkpoint(path: dir.file("pristine")).manifest
            }

            func reset() throws { try copyTree(pristine, victim) }

            /// Damages step 2 with `damage`, expects an error containing every string of
            /// `mentions` from open+verify and from the store's fallback to step 1.
            func expectCaught(_ what: String, mentions: [String], sourceLocation: SourceLocation = #_sourceLocation,
                              _ damage: () throws -> Void) throws {
                try reset()
                try damage()
                guard let e = openAndVerify(victim) else {
                    Issue.record("\(what): not detected", sourceLocation: sourceLocation)
                    return
                }
                let text = "\(e)"
                for m in mentions where !text.contains(m) {
                    Issue.record("\(what): message does not name \(m): \(text)", sourceLocation: sourceLocation)
                }
                var skipped: [(String, CheckpointError)] = []
                let fallback = store.latestValid { skipped.append(($0, $1)) }
                #expect(fallback?.path == good, "\(what): fell back to \(String(describing: fallback?.path))", sourceLocation: sourceLocation)
                #expect(skipped.count == 1 && skipped.first?.0 == victim && skipped.first?.1 == e, "\(what)", sourceLocation: sourceLocation)
            }

            /// The first tensor (manifest order) with a chunk ending past `length` bytes of the data file.
            func firstTensor(endingPast length: UInt64) -> String? {
                manifest.tensors.first { $0.chunks.contains { $0.offset + $0.length > length } }?.name
            }

            /// The tensor holding byte `position` of the data file.
            func tensor(at position: UInt64) -> String? {
                manifest.tensors.first { $0.chunks.contains { $0.offset <= position && position < $0.offset + $0.length } }?.name
            }

            /// Re-encodes step 2's manifest after `edit`, in a valid envelope.
            func rewriteManifest(_ edit: (inout Manifest) -> Void) throws {
                var m = manifest
                edit(&m)
                try writeBytes(envelope(ManifestCodec.encode(m)), victim + "/manifest.pb")
            }
        }

        func flip(_ path: String, at i: Int, with mask: UInt8) throws {
            var b = try readBytes(path)
            b[i] ^= mask
            try writeBytes(b, path)
        }

        func truncate(_ path: String, to n: Int) throws { try writeBytes(Array(try readBytes(path).prefix(n)), path) }

        @Test func flippedManifestBytes() throws {
            let f = try Fixture()
            defer { f.dir.remove() }
            let mpath = f.victim + "/manifest.pb"
            let size = Int(fileSize(f.pristine + "/manifest.pb"))
            for i in 0..<size {
                for mask: UInt8 in i < CheckpointLayout.headerSize ? [0x01, 0x80, 0xFF] : [0x01, 0xFF] {
                    try f.expectCaught("manifest byte \(i) ^ \(mask)", mentions: ["manifest", f.victim]) { try flip(mpath, at: i, with: mask) }
                }
            }
        }

        @Test func flippedDataBytesNameTheTensorAndFile() throws {
            let f = try Fixture()
            defer { f.dir.remove() }
            let dpath = f.victim + "/" + dataFile
            let size = fileSize(f.pristine + "/" + dataFile)
            #expect(size == (32 + 16 + 32) * 4)
            for i in 0..<size {
                let name = try #require(f.tensor(at: i))
                try f.expectCaught("data byte \(i)", mentions: [name, dataFile, "checksum mismatch"]) { try flip(dpath, at: Int(i), with: 0x10) }
            }
        }

        @Test func truncatedFiles() throws {
            let f = try Fixture()
            defer { f.dir.remove() }
            let msize = Int(fileSize(f.pristine + "/manifest.pb"))
            for n in [0, 1, 8, 27, 28, 29, msize / 2, msize - 1] {
                try f.expectCaught("manifest truncated to \(n)", mentions: ["manifest", "truncated"].filter { _ in n < 28 } + ["manifest"]) {
                    try truncate(f.victim + "/manifest.pb", to: n)
                }
            }
            let dsize = Int(fileSize(f.pristine + "/" + dataFile))
            for n in [0, 1, 127, 128, 129, 191, 192, dsize / 2, dsize - 4, dsize - 1] {
                let name = try #require(f.firstTensor(endingPast: UInt64(n)))
                try f.expectCaught("data truncated to \(n)", mentions: [name, dataFile, "truncated"]) {
                    try truncate(f.victim + "/" + dataFile, to: n)
                }
            }
        }

        @Test func deletedFiles() throws {
            let f = try Fixture()
            defer { f.dir.remove() }
            try f.expectCaught("manifest deleted", mentions: ["manifest.pb is missing"]) {
                try FileManager.default.removeItem(atPath: f.victim + "/manifest.pb")
            }
            try f.expectCaught("data file deleted", mentions: ["model/a", "data file \(dataFile) is missing"]) {
                try FileManager.default.removeItem(atPath: f.victim + "/" + dataFile)
            }
            try f.expectCaught("data file replaced by a directory", mentions: ["model/a", dataFile]) {
                try FileManager.default.removeItem(atPath: f.victim + "/" + dataFile)
                try FileManager.default.createDirectory(atPath: f.victim + "/" + dataFile, withIntermediateDirectories: false)
            }
        }

        @Test func hostileChunkReferences() throws {
            let f = try Fixture()
            defer { f.dir.remove() }
            // A real file outside the checkpoint that "../" would reach.
            try copyTree(f.pristine + "/" + dataFile, f.dir.file("run/" + dataFile))
            for bad in ["../" + dataFile, "../step-00000001/" + dataFile, "/etc/passwd", "..", ".", "", "sub/" + dataFile] {
                try f.expectCaught("chunk file '\(bad)'", mentions: ["model/b", "invalid data file name '\(bad)'"]) {
                    try f.rewriteManifest { $0.tensors[2].chunks[0].file = bad }
                }
            }
            let a = f.manifest.tensors[0]
            try f.expectCaught("model/b reusing model/a's bytes", mentions: ["model/a", "model/b", "overlap", dataFile]) {
                try f.rewriteManifest { m in
                    m.tensors[2] = TensorRecord(name: "model/b", shape: a.shape, dtype: .float32, byteLength: a.byteLength, chunks: a.chunks)
                }
            }
            try f.expectCaught("chunk past the end", mentions: ["model/b", dataFile, "truncated"]) {
                try f.rewriteManifest { $0.tensors[2].chunks[0].offset = 1 << 40 }
            }
            try f.expectCaught("wrong chunk CRC", mentions: ["model/b", dataFile, "checksum mismatch"]) {
                try f.rewriteManifest { $0.tensors[2].chunks[0].crc32c ^= 1 }
            }
            try f.expectCaught("byte length disagrees with the shape", mentions: ["model/b", "byte length"]) {
                try f.rewriteManifest { $0.tensors[2].shape = [17] }
            }
            try f.expectCaught("duplicate tensor", mentions: ["model/a", "twice"]) {
                try f.rewriteManifest { $0.tensors[2].name = "model/a" }
            }
            try f.expectCaught("unsupported version", mentions: ["format version 2"]) {
                try writeBytes(envelope(ManifestCodec.encode(f.manifest), version: 2), f.victim + "/manifest.pb")
            }
            try f.expectCaught("envelope and manifest versions differ", mentions: ["version"]) {
                try f.rewriteManifest { $0.formatVersion = 7 }
            }
        }

        @Test func allDamagedMeansNoCheckpoint() throws {
            let f = try Fixture()
            defer { f.dir.remove() }
            for p in [f.good, f.victim] { try FileManager.default.removeItem(atPath: p + "/manifest.pb") }
            var skipped: [String] = []
            #expect(f.store.latestValid { p, _ in skipped.append(p) } == nil)
            #expect(skipped == [f.victim, f.good])
            let e = checkpointError { _ = try Checkpoint(path: f.dir.file("run/step-00000003")) }
            #expect(e.map { "\($0)".contains("step-00000003") } == true)
        }
    }
}
