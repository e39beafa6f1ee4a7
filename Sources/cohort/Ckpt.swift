// `cohort ckpt`: look inside checkpoints without training: inspect (summary or
// JSON), verify every CRC, diff two checkpoints tensor by tensor within a
// tolerance, and export to .npz / .safetensors. Tensors are streamed one chunk
// at a time, so none of these needs memory in proportion to the checkpoint.
import ArgumentParser
import CohortCheckpoint
import CohortCore
import Foundation

struct Ckpt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ckpt",
        abstract: "Inspect, verify, compare and export checkpoints (docs/checkpoint-format.md).",
        subcommands: [Inspect.self, Verify.self, Diff.self, Export.self])

    /// A checkpoint directory, or the newest valid checkpoint of a run directory (said on stderr).
    static func open(_ rawPath: String) throws -> Checkpoint {
        let path = normalized(rawPath)
        guard isRunDirectory(path) else { return try Checkpoint(path: path) }
        let store = CheckpointStore(directory: path)
        guard !store.list().isEmpty else { throw noCheckpoint(path) }
        var skipped = 0
        guard let c = store.latestValid(skipped: { p, e in skipped += 1; note("skipping \(p): \(e)") }) else {
            throw CheckpointError.notFound("no valid checkpoint in \(path): all \(skipped) are damaged (see above)")
        }
        note("using \(c.path) (the newest valid checkpoint in \(path))")
        return c
    }

    static func normalized(_ path: String) -> String { path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path }

    /// A directory that is not itself a checkpoint (no manifest, not named `step-…`).
    static func isRunDirectory(_ path: String) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && dir.boolValue
            && !FileManager.default.fileExists(atPath: path + "/" + CheckpointLayout.manifestName)
            && CheckpointLayout.step(fromDirectoryName: (path as NSString).lastPathComponent) == nil
    }

    static func noCheckpoint(_ path: String) -> CheckpointError {
        .notFound("no checkpoint at \(path): no \(CheckpointLayout.manifestName) and no step-NNNNNNNN checkpoints in it")
    }

    static func note(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        e.keyEncodingStrategy = .convertToSnakeCase
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        print(String(decoding: try e.encode(value), as: UTF8.self))
    }

    /// `1.5 MiB`, `512 B`.
    static func size(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(bytes), i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(bytes) B" : String(format: "%.1f %@", v, units[i])
    }

    static func shape(_ s: [Int]) -> String { describeShape(s) }

    /// Hyper-parameters are Float values stored as Double: show `0.9`, not `0.8999999761581421`.
    static func number(_ v: Double) -> String {
        if v.isFinite, v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return Double(Float(v)) == v ? "\(Float(v))" : "\(v)"
    }

    static func dtype(_ d: DType) -> String { "\(d)" }
}

// MARK: inspect

extension Ckpt {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarise a checkpoint (PATH: a checkpoint directory, or a run directory for its newest valid checkpoint).")
        @Argument(help: "Checkpoint or run directory.") var path: String
        @Flag(help: "Print one JSON object instead of text.") var json = false

        func run() throws {
            let c = try Ckpt.open(path)
            if json { try Ckpt.printJSON(InspectReport(c)) } else { print(Self.text(c), terminator: "") }
        }

        static func kv(_ items: [KeyValue]) -> String { items.isEmpty ? "(none)" : items.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
        static func named(_ items: [NamedValue]) -> String { items.map { "\($0.name)=\(Ckpt.number($0.value))" }.joined(separator: " ") }

        static func text(_ c: Checkpoint) -> String {
            let m = c.manifest
            let created = Date(timeIntervalSince1970: Double(m.createdUnixMs) / 1000)
            let d = m.data
            let files = Set(m.tensors.flatMap { $0.chunks.map(\.file) }).count
            let total = m.tensors.reduce(UInt64(0)) { $0 + $1.byteLength }
            var s = "checkpoint \(c.path)\n"
            func line(_ k: String, _ v: String) { s += "  " + k.padding(toLength: 17, withPad: " ", startingAt: 0) + v + "\n" }
            line("format version", "\(m.formatVersion)")
            line("cohort version", m.cohortVersion.isEmpty ? "(unknown)" : m.cohortVersion)
            line("created", "\(ISO8601DateFormatter().string(from: created)) (\(m.createdUnixMs) ms)")
            line("step", "\(m.step)")
            line("epoch", "\(m.epoch)")
            line("data cursor", "dataset \(d.dataset.isEmpty ? "(unnamed)" : d.dataset) (\(d.datasetSize) samples), shuffle seed \(d.shuffleSeed), "
                 + "epoch \(d.epoch), sample \(d.sampleInEpoch) of the epoch, \(d.samplesConsumed) consumed in all")
            line("data identity", d.dataSHA256.isEmpty ? "(not recorded: saved before data fingerprints)" : "\(d.dataName), sha256 \(d.dataSHA256)")
            line("global batch", "\(m.globalBatchSize)")
            line("world size", "\(m.worldSize)")
            line("virtual shards", m.virtualShards == 0 ? "0 (off)" : "\(m.virtualShards)")
            line("model", "\(m.model.name.isEmpty ? "(unnamed)" : m.model.name), \(m.model.parameterCount) parameters; \(kv(m.model.settings.map { $0.value.utf8.count > 64 ? KeyValue($0.key, "\($0.value.prefix(24))… (\($0.value.utf8.count) bytes)") : $0 }))")
            line("optimizer", m.optimizer.kind.isEmpty ? "(none)"
                 : "\(m.optimizer.kind) at step \(m.optimizer.step); \(named(m.optimizer.hyperParameters)); buffers \(m.optimizer.buffers.joined(separator: ", "))")
            line("schedule", m.schedule.kind.isEmpty ? "(none)" : "\(m.schedule.kind) at step \(m.schedule.step); \(named(m.schedule.parameters))")
            line("rng states", m.rng.isEmpty ? "(none)" : m.rng.map(\.name).joined(separator: ", "))
            var metricNames: [String] = []
            for p in m.metrics where !metricNames.contains(p.name) { metricNames.append(p.name) }
            line("metrics", "\(m.metrics.count) points" + (metricNames.isEmpty ? "" : " (\(metricNames.joined(separator: ", ")))"))
            let history = LossHistory(restoring: m.metrics, step: m.step)
            if history.lastStep > 0 {
                let older = history.firstRecentStep - 1 <= history.origin ? "" : ", steps \(history.origin + 1)…\(history.firstRecentStep - 1) as "
                    + "\(history.blockMeans.count) means of \(history.blockSteps) step\(history.blockSteps == 1 ? "" : "s")"
                    + (history.openSteps > 0 ? " and one of \(history.openSteps)" : "")
                line("loss history", "steps \(history.firstRecentStep)…\(history.lastStep) per step\(older)")
            }
            line("metadata", kv(m.metadata))
            line("training config", kv(m.trainingConfig))
            // A sharded save's files carry their writer's rank: data-r00003-00000.bin.
            let writers = Set(m.tensors.flatMap { $0.chunks.map(\.file) }.filter { $0.hasPrefix("data-r") }.map { $0.prefix(12) }).count
            line("tensors", "\(m.tensors.count), \(Ckpt.size(total)) in \(files) data file\(files == 1 ? "" : "s")"
                 + (writers > 0 ? ", written by \(writers) rank\(writers == 1 ? "" : "s") (sharded save)" : ""))
            let rows = m.tensors.map { t in [t.name, Ckpt.shape(t.shape), Ckpt.dtype(t.dtype), "\(t.byteLength)", "\(t.chunks.count)"] }
            s += Ckpt.table(["name", "shape", "dtype", "bytes", "chunks"], rows, rightAligned: [3, 4])
            return s
        }
    }

    /// Columns padded to their widest cell, indented by four spaces.
    static func table(_ header: [String], _ rows: [[String]], rightAligned: Set<Int>) -> String {
        let all = [header] + rows
        let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        return all.map { row in
            "    " + row.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return rightAligned.contains(i) ? pad + cell : cell + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n") + "\n"
    }

    struct InspectReport: Encodable {
        struct Tensor: Encodable { var name: String; var shape: [Int]; var dtype: String; var bytes: UInt64; var chunks: Int }
        struct Named: Encodable { var name: String; var value: Double }
        var path: String, formatVersion: UInt32, cohortVersion: String, createdUnixMs: Int64, step: Int, epoch: Int
        struct Cursor: Encodable {
            var dataset: String, datasetSize: Int, shuffleSeed: UInt64, epoch: Int, sampleInEpoch: Int, samplesConsumed: Int
            var dataName: String, dataSHA256: String
        }
        var data: Cursor
        var globalBatchSize: Int, worldSize: Int, virtualShards: Int
        var model: String, modelSettings: [String: String], parameterCount: Int
        var optimizer: String, optimizerHyperParameters: [Named], optimizerStep: Int, optimizerBuffers: [String]
        var schedule: String, scheduleParameters: [Named], scheduleStep: Int
        var rngStates: [String], metricsCount: Int
        var metadata: [String: String], trainingConfig: [String: String]
        var tensors: [Tensor]

        init(_ c: Checkpoint) {
            let m = c.manifest
            func dict(_ kvs: [KeyValue]) -> [String: String] { Dictionary(kvs.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }) }
            path = c.path; formatVersion = m.formatVersion; cohortVersion = m.cohortVersion; createdUnixMs = m.createdUnixMs
            step = m.step; epoch = m.epoch
            let d = m.data
            data = Cursor(dataset: d.dataset, datasetSize: d.datasetSize, shuffleSeed: d.shuffleSeed, epoch: d.epoch,
                          sampleInEpoch: d.sampleInEpoch, samplesConsumed: d.samplesConsumed, dataName: d.dataName, dataSHA256: d.dataSHA256)
            globalBatchSize = m.globalBatchSize; worldSize = m.worldSize; virtualShards = m.virtualShards
            model = m.model.name; modelSettings = dict(m.model.settings); parameterCount = m.model.parameterCount
            optimizer = m.optimizer.kind; optimizerStep = m.optimizer.step; optimizerBuffers = m.optimizer.buffers
            optimizerHyperParameters = m.optimizer.hyperParameters.map { Named(name: $0.name, value: $0.value) }
            schedule = m.schedule.kind; scheduleStep = m.schedule.step
            scheduleParameters = m.schedule.parameters.map { Named(name: $0.name, value: $0.value) }
            rngStates = m.rng.map(\.name); metricsCount = m.metrics.count
            metadata = dict(m.metadata); trainingConfig = dict(m.trainingConfig)
            tensors = m.tensors.map {
                Tensor(name: $0.name, shape: $0.shape, dtype: Ckpt.dtype($0.dtype), bytes: $0.byteLength, chunks: $0.chunks.count)
            }
        }
    }
}

// MARK: verify

extension Ckpt {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a checkpoint's manifest and every chunk's CRC32C (a run directory: every checkpoint in it); exit 1 on any failure.")
        @Argument(help: "Checkpoint or run directory.") var path: String

        func run() throws {
            let path = Ckpt.normalized(self.path)
            let paths = Ckpt.isRunDirectory(path) ? CheckpointStore(directory: path).list().map(\.path) : [path]
            guard !paths.isEmpty else { throw Ckpt.noCheckpoint(path) }
            var failures: [CheckpointError] = []
            for p in paths {
                do { try Self.verify(p) } catch let e as CheckpointError {
                    if paths.count == 1 { throw e }
                    print("FAILED: \(e)")
                    failures.append(e)
                }
            }
            if paths.count > 1 {
                print("\(paths.count - failures.count) of \(paths.count) checkpoints in \(path) verified")
                if !failures.isEmpty { throw ExitCode.failure }
            }
        }

        /// Prints each check as it passes; throws the first failure.
        static func verify(_ path: String) throws {
            let c = try Checkpoint(path: path)
            print("checkpoint \(path)")
            let m = c.manifest
            let files = Set(m.tensors.flatMap { $0.chunks.map(\.file) }).sorted()
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + CheckpointLayout.manifestName)
            let manifestBytes = (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
            print("  manifest: magic, format version \(m.formatVersion), header CRC32C and payload CRC32C (\(manifestBytes) bytes) ok")
            print("  layout: \(m.tensors.count) tensor records (shapes, byte lengths, chunk bounds, no overlaps) fit "
                  + "\(files.count) data file\(files.count == 1 ? "" : "s")" + (files.isEmpty ? "" : " (\(files.joined(separator: ", ")))"))
            var chunks = 0, bytes: UInt64 = 0
            for (i, t) in m.tensors.enumerated() {
                try TensorStream(c, index: i).forEachPiece { _ in }
                chunks += t.chunks.count
                bytes += t.byteLength
                print("  ok  \(t.name) \(Ckpt.shape(t.shape)) \(Ckpt.dtype(t.dtype)): "
                      + "\(t.chunks.count) chunk\(t.chunks.count == 1 ? "" : "s"), \(t.byteLength) bytes")
            }
            print("OK: \(m.tensors.count) tensors, \(chunks) chunks, \(Ckpt.size(bytes)) verified")
        }
    }
}

// MARK: diff

extension Ckpt {
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare the tensors of two checkpoints: exit 0 if all agree within |a-b| <= atol + rtol*|b|, 1 if not, 2 on error.")
        @Argument(help: "Checkpoint A (or a run directory).") var a: String
        @Argument(help: "Checkpoint B, the reference (or a run directory).") var b: String
        @Option(parsing: .unconditional, help: "Relative tolerance.") var rtol = 1e-5
        @Option(parsing: .unconditional, help: "Absolute tolerance.") var atol = 1e-8
        @Flag(help: "Print one JSON object instead of text.") var json = false

        func validate() throws {
            guard rtol >= 0, atol >= 0, rtol.isFinite, atol.isFinite else { throw ValidationError("--rtol and --atol must be finite and ≥ 0") }
        }

        struct TensorResult: Encodable {
            var name: String, shape: [Int], dtype: String
            var maxAbsDiff = 0.0, maxRelDiff = 0.0
            /// Elements with |a-b| > atol + rtol*|b|.
            var outsideTolerance = 0
            var within = true
        }
        struct Mismatch: Encodable { var name: String, a: String, b: String }
        struct Report: Encodable {
            var a: String, b: String, stepA: Int, stepB: Int, rtol: Double, atol: Double
            var tensors: [TensorResult] = [], onlyInA: [String] = [], onlyInB: [String] = [], shapeMismatches: [Mismatch] = []
            /// Every common tensor within tolerance, none missing on either side, no shape or dtype differences.
            var same = false
        }

        func run() throws {
            let report: Report
            do { report = try compare() } catch let e as CheckpointError {
                FileHandle.standardError.write(Data("Error: \(e)\n".utf8))
                throw ExitCode(2)
            }
            if json {
                try Ckpt.printJSON(report)
            } else {
                print(text(report), terminator: "")
            }
            if !report.same { throw ExitCode.failure }
        }

        func compare() throws -> Report {
            let ca = try Ckpt.open(a), cb = try Ckpt.open(b)
            var r = Report(a: ca.path, b: cb.path, stepA: ca.manifest.step, stepB: cb.manifest.step, rtol: rtol, atol: atol)
            // Name lookups only (order comes from the arrays); constant time for checkpoints with many tensors.
            let indexA = Dictionary(ca.manifest.tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
            let indexB = Dictionary(cb.manifest.tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
            for (ia, ta) in ca.manifest.tensors.enumerated() {
                guard let ib = indexB[ta.name] else { r.onlyInA.append(ta.name); continue }
                let tb = cb.manifest.tensors[ib]
                guard ta.shape == tb.shape, ta.dtype == tb.dtype else {
                    r.shapeMismatches.append(Mismatch(name: ta.name, a: "\(Ckpt.shape(ta.shape)) \(ta.dtype)",
                                                      b: "\(Ckpt.shape(tb.shape)) \(tb.dtype)"))
                    continue
                }
                r.tensors.append(try compareTensor(TensorStream(ca, index: ia), TensorStream(cb, index: ib), path: cb.path))
            }
            r.onlyInB = cb.manifest.tensors.map(\.name).filter { indexA[$0] == nil }
            r.same = r.tensors.allSatisfy(\.within) && r.onlyInA.isEmpty && r.onlyInB.isEmpty && r.shapeMismatches.isEmpty
            return r
        }

        /// Streams both tensors in blocks of 1 Mi elements (bounded memory).
        func compareTensor(_ sa: TensorStream, _ sb: TensorStream, path: String) throws -> TensorResult {
            let t = sa.record
            var res = TensorResult(name: t.name, shape: t.shape, dtype: Ckpt.dtype(t.dtype))
            let block = min(1 << 20, t.count) * t.dtype.size
            var ra = [UInt8](repeating: 0, count: block), rb = ra
            var xa = [Double](), xb = [Double]()
            while sa.remaining > 0 {
                let n = try ra.withUnsafeMutableBytes { try sa.read(into: $0) }
                let m = try rb.withUnsafeMutableBytes { try sb.read(into: $0) }
                guard n == m, n > 0 else { throw CheckpointError.corrupt(path: path, "tensor \(t.name): stream lengths differ") }
                Self.doubles(ra, count: n / t.dtype.size, t.dtype, into: &xa)
                Self.doubles(rb, count: n / t.dtype.size, t.dtype, into: &xb)
                for i in 0..<xa.count {
                    let x = xa[i], y = xb[i]
                    if x == y || (x.isNaN && y.isNaN) { continue }   // equal infinities and NaNs agree
                    let d = abs(x - y)
                    let rel = y == 0 ? Double.infinity : d / abs(y)
                    // As numpy.isclose: an infinity agrees only with the same infinity.
                    if !(d <= atol + rtol * abs(y)) || x.isInfinite || y.isInfinite { res.outsideTolerance += 1 }
                    if !(d <= res.maxAbsDiff) { res.maxAbsDiff = d.isNaN ? .infinity : d }
                    if !(rel <= res.maxRelDiff) { res.maxRelDiff = rel.isNaN ? .infinity : rel }
                }
            }
            res.within = res.outsideTolerance == 0
            return res
        }

        static func doubles(_ raw: [UInt8], count: Int, _ dtype: DType, into out: inout [Double]) {
            out.removeAll(keepingCapacity: true)
            raw.withUnsafeBytes { p in
                for i in 0..<count {
                    switch dtype {
                    case .float32: out.append(Double(Float(bitPattern: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self).littleEndian)))
                    case .float64: out.append(Double(bitPattern: p.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian))
                    case .int32: out.append(Double(Int32(littleEndian: p.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))))
                    case .int64: out.append(Double(Int64(littleEndian: p.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))))
                    case .uint8: out.append(Double(p[i]))
                    }
                }
            }
        }

        func text(_ r: Report) -> String {
            var s = "A: \(r.a) (step \(r.stepA))\nB: \(r.b) (step \(r.stepB))\ntolerance: |a-b| <= \(r.atol) + \(r.rtol)*|b|\n"
            func g(_ v: Double) -> String { v == 0 ? "0" : String(format: "%.3g", v) }
            let rows = r.tensors.map {
                [$0.name, Ckpt.shape($0.shape), g($0.maxAbsDiff), g($0.maxRelDiff), $0.within ? "ok" : "DIFFERS (\($0.outsideTolerance) elements)"]
            }
            s += Ckpt.table(["tensor", "shape", "max abs diff", "max rel diff", ""], rows, rightAligned: [2, 3])
            for n in r.onlyInA { s += "only in A: \(n)\n" }
            for n in r.onlyInB { s += "only in B: \(n)\n" }
            for m in r.shapeMismatches { s += "shape differs: \(m.name): A \(m.a), B \(m.b)\n" }
            let bad = r.tensors.filter { !$0.within }.count
            s += r.same ? "same: \(r.tensors.count) tensors agree within tolerance\n"
                : "different: \(bad) of \(r.tensors.count) tensors outside tolerance, \(r.onlyInA.count) only in A, "
                  + "\(r.onlyInB.count) only in B, \(r.shapeMismatches.count) with different shapes\n"
            return s
        }
    }
}

// MARK: export

extension Ckpt {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a checkpoint's tensors as NumPy .npz or .safetensors (parameters without the model/ prefix).")
        @Argument(help: "Checkpoint or run directory.") var path: String
        @Option(help: "npz or safetensors.") var format: String
        @Option(help: "Output file (default: <checkpoint name>.<format> in the current directory).") var out: String?
        @Flag(name: .customLong("include-optimizer"), help: "Also export optimizer buffers (as optimizer/<buffer>/<param>).")
        var includeOptimizer = false
        @Option(help: "Tensor names of a built-in map: torch (the PyTorch reference definitions, docs/parameter-names.md).") var names: String?
        @Option(name: .customLong("name-map"), help: "Tensor names from a .yaml/.yml/.toml name map file (docs/parameter-names.md).") var nameMap: String?

        func validate() throws {
            guard ExportFormat(rawValue: format) != nil else { throw ValidationError("--format must be npz or safetensors, got '\(format)'") }
            if let names, !NameMap.builtInNames.contains(names) { throw ValidationError("--names must be \(NameMap.builtInNames.joined(separator: " or ")), got '\(names)'") }
            if names != nil && nameMap != nil { throw ValidationError("give --names or --name-map, not both") }
        }

        func run() throws {
            let fmt = ExportFormat(rawValue: format)!
            let c = try Ckpt.open(path)
            let dest = out ?? (c.path as NSString).lastPathComponent + "." + fmt.rawValue
            let settings = Dictionary(c.manifest.model.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            let map = try (names ?? nameMap).map { try NameMap.named($0, model: c.manifest.model.name, settings: settings) }
            let s = try CheckpointExport.write(c, format: fmt, to: dest, includeOptimizer: includeOptimizer, nameMap: map)
            let bytes = s.tensors.reduce(UInt64(0)) { $0 + $1.byteLength }
            print("wrote \(s.path): \(s.tensors.count) tensors (\(Ckpt.size(bytes)) of data), "
                  + "\(Ckpt.size(s.fileBytes)) \(fmt.rawValue)\(s.zip64 ? " with ZIP64" : "") from \(c.path)")
        }
    }
}
