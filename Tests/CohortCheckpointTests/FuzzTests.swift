// Fuzzing the reader: random files, mutated valid manifests (bit flips, byte
// insertions and deletions, truncations, splices, repeated ranges) and
// manifests encoded with hostile values, all but the first wrapped in a VALID
// envelope so they reach the protobuf decoder and the layout validator. The
// reader must throw a CheckpointError or open a checkpoint whose records claim
// no more bytes than its data files hold — never crash, never over-allocate
// (checked with this process's peak resident memory).
import Foundation
import Testing
@testable import CohortCheckpoint
import CohortTensor

/// Just enough protobuf encoding to write what `Manifest` cannot express.
struct ProtoWriter {
    var bytes: [UInt8] = []
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func tag(_ field: Int, _ wire: Int) { varint(UInt64(field << 3 | wire)) }
    mutating func uint(_ field: Int, _ v: UInt64) { tag(field, 0); varint(v) }
    mutating func int(_ field: Int, _ v: Int64) { uint(field, UInt64(bitPattern: v)) }
    mutating func data(_ field: Int, _ d: [UInt8]) { tag(field, 2); varint(UInt64(d.count)); bytes += d }
    mutating func string(_ field: Int, _ s: String) { data(field, Array(s.utf8)) }
    mutating func message(_ field: Int, _ build: (inout ProtoWriter) -> Void) {
        var m = ProtoWriter()
        build(&m)
        data(field, m.bytes)
    }
}

extension CheckpointTests {
    @Suite struct Fuzz {
        static let dataFile = "data-00000.bin"

        /// Hand-written payloads the Swift encoder cannot produce.
        static func rawHostile(_ base: Manifest) -> [[UInt8]] {
            func tensor(_ f: (inout ProtoWriter) -> Void) -> [UInt8] {
                var p = ProtoWriter()
                p.uint(1, 1)
                p.message(17, f)
                return p.bytes
            }
            var out: [[UInt8]] = []
            out.append(tensor { $0.string(1, "model/x"); $0.uint(3, 99) })                                   // unknown dtype
            out.append(tensor { $0.string(1, "model/x"); $0.uint(3, UInt64.max) })                           // dtype "-1"
            out.append(tensor { t in t.string(1, "model/x"); t.data(2, (0..<1000).flatMap { _ in [UInt8(1)] }); t.uint(3, 1) })  // 1000 dims
            out.append(tensor { t in t.string(1, "model/x"); for _ in 0..<40 { t.uint(2, 1) }; t.uint(3, 1) })                   // 40 unpacked dims
            out.append(tensor { t in t.string(1, "model/x"); t.int(2, -4); t.uint(3, 1) })                   // negative dimension
            out.append(tensor { t in t.string(1, "model/x"); t.uint(2, 2); t.uint(3, 1); t.uint(4, 8)
                t.message(5) { $0.string(1, dataFile); $0.uint(2, UInt64.max); $0.uint(3, 8) } })             // offset + length overflows
            out.append(tensor { t in t.string(1, "model/x"); t.uint(2, 1 << 62); t.uint(2, 4); t.uint(3, 1) }) // product wraps to 0
            out.append(tensor { t in t.string(1, "model/x"); t.message(5) { _ in } })                        // chunk with no file
            var p = ProtoWriter()
            p.uint(1, 1)
            p.message(11) { r in r.string(1, "init"); r.data(2, (0..<65).flatMap { _ in [UInt8(7)] }) }      // 65 rng words
            out.append(p.bytes)
            for field in [4, 5, 7, 8, 9] {                                                                   // negative scalars
                var q = ProtoWriter(); q.uint(1, 1); q.int(field, -1); out.append(q.bytes)
            }
            var q = ProtoWriter(); q.uint(1, 1); q.tag(17, 2); q.varint(1 << 40); q.bytes += [1, 2, 3]          // length past the end
            out.append(q.bytes)
            var r = ProtoWriter(); r.uint(1, 1); r.bytes += [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]
            out.append(r.bytes)                                                                              // 12-byte varint
            var s = ProtoWriter(); s.uint(1, 1); s.tag(17, 7); out.append(s.bytes)                           // invalid wire type
            var t = ProtoWriter(); t.tag(0, 0); t.varint(1); out.append(t.bytes)                             // field number 0
            var u = ProtoWriter(); u.uint(1, 1); u.tag(3, 1); u.bytes += [1, 2, 3]; out.append(u.bytes)      // truncated fixed64
            var deep = [UInt8]()
            for _ in 0..<2000 { var w = ProtoWriter(); w.data(99, deep); deep = w.bytes }                     // nested unknown fields
            out.append([0x08, 0x01] + deep)
            // Many repeated records: bounded by the manifest's own size.
            var many = ProtoWriter(); many.uint(1, 1)
            for i in 0..<3000 { many.message(17) { $0.string(1, "model/e\(i)"); $0.uint(3, 1) } }
            out.append(many.bytes)
            return out
        }

        /// Manifests with hostile values, encoded validly by the Swift encoder.
        static func hostile(_ base: Manifest, dataSize: UInt64) -> [Manifest] {
            var out: [Manifest] = []
            func edit(_ f: (inout Manifest) -> Void) { var m = base; f(&m); out.append(m) }
            let long = String(repeating: "é", count: 3000)   // 6000 bytes
            edit { $0.tensors[0].shape = [Int.max, Int.max] }
            edit { $0.tensors[0].shape = [1 << 32, 1 << 32]; $0.tensors[0].byteLength = 0 }
            edit { $0.tensors[0].shape = [1 << 62, 4]; $0.tensors[0].byteLength = 0; $0.tensors[0].chunks = [] }   // wraps to 0
            edit { $0.tensors[0].shape = [Int.max]; $0.tensors[0].byteLength = UInt64(Int.max) &* 4 }
            edit { $0.tensors[0].byteLength += 1 }
            edit { $0.tensors[0].byteLength = UInt64.max }
            edit { $0.tensors[0].chunks[0].offset = dataSize }
            edit { $0.tensors[0].chunks[0].offset = UInt64.max - 3 }
            edit { $0.tensors[0].chunks[0].length = UInt64.max }
            edit { $0.tensors[0].chunks[0].length = UInt64(CheckpointLayout.chunkBytes) + 1 }
            edit { $0.tensors[0].chunks[0].length += 4 }
            edit { $0.tensors[0].chunks[0].file = "data-00001.bin" }
            edit { $0.tensors[0].chunks[0].file = "../" + dataFile }
            edit { $0.tensors[0].chunks[0].file = "/proc/self/mem" }
            edit { $0.tensors[0].chunks[0].file = long }
            edit { $0.tensors[0].name = long }
            edit { $0.tensors[1].name = $0.tensors[0].name }
            edit { $0.tensors[0].shape = [Int](repeating: 1, count: 33) + $0.tensors[0].shape }
            edit { $0.tensors[0].shape = [-1, -$0.tensors[0].count] }
            edit { $0.tensors[0].shape = [0, Int.max, Int.max]; $0.tensors[0].byteLength = 0; $0.tensors[0].chunks = [] }  // legal: empty
            // The same bytes claimed again and again: a 1 MiB tensor posing as 1 GiB, which
            // a reader trusting the record would allocate (the memory watermark catches that).
            edit { m in
                let i = m.tensors.firstIndex { $0.name == "model/big" }!
                let c = m.tensors[i].chunks[0]
                m.tensors[i].chunks = Array(repeating: c, count: 1024)
                m.tensors[i].shape = [m.tensors[i].count * 1024]
                m.tensors[i].byteLength = c.length * 1024
            }
            edit { m in m.tensors[1].chunks = m.tensors[0].chunks; m.tensors[1].byteLength = m.tensors[0].byteLength; m.tensors[1].shape = [m.tensors[0].count]; m.tensors[1].dtype = .float32 }
            edit { $0.tensors += (0..<2000).map { TensorRecord(name: "model/e\($0)", shape: [0], dtype: .uint8, byteLength: 0, chunks: []) } }
            edit { $0.cohortVersion = long }
            edit { $0.metadata = [KeyValue(long, "v")] }
            edit { $0.trainingConfig = [KeyValue("k", long)] }
            edit { $0.model.settings = [KeyValue("k", long)] }
            edit { $0.optimizer.buffers = [long] }
            edit { $0.rng = [RNGRecord(name: "x", words: [UInt64](repeating: 1, count: 65))] }
            edit { $0.metrics = (0..<5000).map { MetricPoint(name: "m", step: -$0, value: .nan) } }
            edit { $0.step = -1 }
            edit { $0.epoch = Int.min }
            edit { $0.data.samplesConsumed = -5 }
            edit { $0.worldSize = -2 }
            edit { $0.model.parameterCount = -1 }
            edit { $0.optimizer.step = -1 }
            edit { $0.formatVersion = 0 }
            edit { $0.formatVersion = .max }
            return out
        }

        /// Random edits of a valid payload.
        static func mutate(_ p: [UInt8], other: [UInt8], _ g: inout RandomGenerator) -> [UInt8] {
            var b = p
            func pos(_ extra: Int = 0) -> Int { g.nextInt(below: b.count + extra) }
            let rounds = 1 + g.nextInt(below: 3)
            for _ in 0..<rounds where !b.isEmpty {
                switch g.nextInt(below: 8) {
                case 0: b[pos()] ^= UInt8(1) << UInt8(g.nextInt(below: 8))                                  // bit flip
                case 1: b[pos()] = [0x00, 0xFF, 0x7F, 0x80, 0x01][g.nextInt(below: 5)]                      // interesting byte
                case 2: b.insert(contentsOf: (0..<1 + g.nextInt(below: 8)).map { _ in UInt8(truncatingIfNeeded: g.next()) }, at: pos(1))
                case 3: let i = pos(); b.removeSubrange(i..<min(b.count, i + 1 + g.nextInt(below: 8)))     // deletion
                case 4: b = Array(b.prefix(pos()))                                                          // truncation
                case 5: b = Array(b.prefix(pos())) + other.suffix(g.nextInt(below: other.count + 1))         // splice
                case 6: let i = pos(), j = min(b.count, i + 1 + g.nextInt(below: 64)); b.insert(contentsOf: b[i..<j], at: pos(1))  // repeat a range
                default: b[pos()] = UInt8(truncatingIfNeeded: g.next())
                }
            }
            return b
        }

        @Test func readerNeverCrashesOrOverAllocates() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let tensors = [
                payload("model/a", [4, 8], (0..<32).map { Float($0) }),
                payload("model/b", [3], .float64, [1.0, 2.0, 3.0].withUnsafeBytes { Array($0) }),
                payload("model/empty", [0, 3], []),
                payload("optimizer/m/a", [2, 2], .int32, [Int32(1), 2, 3, 4].withUnsafeBytes { Array($0) }),
                payload("model/big", [256, 1024], [Float](repeating: 0.5, count: 256 * 1024)),   // 1 MiB
            ]
            let base = try CheckpointWriter.write(fullManifest(step: 1), tensors: tensors, directory: dir.path)
            var other = fullManifest(step: 2)
            other.metadata = [KeyValue("x", "y")]
            let alt = try CheckpointWriter.write(other, tensors: Array(tensors.reversed()), directory: dir.path)
            let baseManifest = try Checkpoint(path: base).manifest
            let validPayloads = [try manifestPayload(base), try manifestPayload(alt)]
            let dataSize = fileSize(base + "/" + Self.dataFile)
            let target = dir.file("step-00000009")
            try copyTree(base, target)
            let mpath = target + "/" + CheckpointLayout.manifestName

            var g = RandomGenerator(seed: 0xC0FFEE)
            var cases: [(String, [UInt8])] = []
            for (i, m) in Self.hostile(baseManifest, dataSize: dataSize).enumerated() { cases.append(("hostile \(i)", envelope(ManifestCodec.encode(m)))) }
            for (i, p) in Self.rawHostile(baseManifest).enumerated() { cases.append(("raw hostile \(i)", envelope(p))) }
            for i in 0..<300 {
                let n = g.nextInt(below: 600)
                let junk = (0..<n).map { _ in UInt8(truncatingIfNeeded: g.next()) }
                cases.append(("random file \(i)", i % 3 == 0 ? CheckpointLayout.magic + junk : junk))
                cases.append(("random payload \(i)", envelope(junk)))
            }
            for i in 0..<7000 {
                let k = g.nextInt(below: 2)
                let mutated = Self.mutate(validPayloads[k], other: validPayloads[1 - k], &g)
                // Mostly a recomputed (valid) envelope; some raw edits of the whole file too.
                cases.append(i % 10 == 0 ? ("mutated file \(i)", Self.mutate(envelope(validPayloads[k]), other: validPayloads[1 - k], &g))
                                         : ("mutated payload \(i)", envelope(mutated)))
            }

            let peakResetWorks = Memory.resetPeak()
            try #require(Memory.field("VmRSS") != nil && Memory.field("VmHWM") != nil, "cannot read /proc/self/status")
            let rssBefore = Memory.field("VmRSS") ?? 0
            let hwmBefore = Memory.field("VmHWM") ?? 0
            var maxRSS = rssBefore
            var opened = 0, verified = 0
            var errorKinds: [String: Int] = [:]
            let started = Date()
            for (index, (what, bytes)) in cases.enumerated() {
                try writeBytes(bytes, mpath)
                do {
                    let c = try Checkpoint(path: target)
                    opened += 1
                    // Claimed bytes per file never exceed that file's size.
                    var claimed: [String: UInt64] = [:]
                    for t in c.manifest.tensors {
                        #expect(t.byteLength == t.chunks.reduce(0) { $0 + $1.length }, "\(what)")
                        for ch in t.chunks { claimed[ch.file, default: 0] += ch.length }
                    }
                    for (file, n) in claimed {
                        #expect(n <= fileSize(target + "/" + file), "\(what): records claim \(n) bytes of \(file)")
                    }
                    try c.verify()
                    for t in c.manifest.tensors {
                        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(t.byteLength), alignment: 64)
                        defer { buf.deallocate() }
                        try c.read(t.name, into: buf)
                        if t.dtype == .float32 { _ = try c.readFloats(t.name) }
                    }
                    verified += 1
                } catch let e as CheckpointError {
                    let kind: String
                    switch e { case .corrupt: kind = "corrupt"; case .mismatch: kind = "mismatch"; case .notFound: kind = "notFound"; case .io: kind = "io"; case .storage: kind = "storage"; case .inUse: kind = "inUse" }
                    errorKinds[kind, default: 0] += 1
                    #expect("\(e)".contains(target) || kind == "notFound", "\(what): \(e)")
                } catch {
                    Issue.record("\(what): not a CheckpointError: \(type(of: error)) \(error)")
                }
                if index % 64 == 0 { maxRSS = max(maxRSS, Memory.field("VmRSS") ?? 0) }
            }
            let hwmAfter = Memory.field("VmHWM") ?? 0
            maxRSS = max(maxRSS, Memory.field("VmRSS") ?? 0)
            let largestFile = UInt64(max(dataSize, UInt64(cases.map(\.1.count).max() ?? 0)))
            let allowance: UInt64 = (64 << 20) + largestFile
            let growth = peakResetWorks ? hwmAfter - min(hwmBefore, hwmAfter) : maxRSS - min(rssBefore, maxRSS)
            print("fuzz: \(cases.count) cases in \(String(format: "%.1f", Date().timeIntervalSince(started))) s, \(opened) opened, \(verified) fully read, errors \(errorKinds.sorted { $0.key < $1.key }), "
                  + "peak memory growth \(growth >> 10) KiB (\(peakResetWorks ? "VmHWM after reset" : "sampled VmRSS"))")
            #expect(growth <= allowance, "memory grew by \(growth) bytes while fuzzing (allowed \(allowance))")
            #expect(cases.count >= 7000)
            #expect(opened > 0 && errorKinds["corrupt", default: 0] > 6000)
            // The hostile hand-made manifests: only the legal empty-tensor one may open.
            #expect(errorKinds["io", default: 0] == 0)
        }
    }
}
