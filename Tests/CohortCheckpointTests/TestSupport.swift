// Helpers for the checkpoint tests: scratch directories, a manifest with every
// field set, tensor payloads from arrays, byte-level file edits and the message
// of the CheckpointError a body throws.
import Foundation
import Testing
@testable import CohortCheckpoint

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct Scratch {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-ckpt-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

func readBytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
func writeBytes(_ bytes: [UInt8], _ path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
func fileSize(_ path: String) -> UInt64 { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.uint64Value ?? 0 }

/// Copies a directory tree (checkpoint fixtures are small).
func copyTree(_ from: String, _ to: String) throws {
    try? FileManager.default.removeItem(atPath: to)
    try FileManager.default.copyItem(atPath: from, toPath: to)
}

/// A tensor's bytes, owned by the payload (so tests need no `withUnsafe…` nesting).
final class OwnedBytes {
    let pointer: UnsafeMutableRawBufferPointer
    init(_ bytes: [UInt8]) {
        pointer = .allocate(byteCount: max(bytes.count, 1), alignment: 64)
        pointer.copyBytes(from: bytes)
    }
    init(count: Int, fill: (UnsafeMutableRawBufferPointer) -> Void) {
        pointer = .allocate(byteCount: max(count, 1), alignment: 64)
        fill(UnsafeMutableRawBufferPointer(rebasing: pointer[0..<count]))
    }
    deinit { pointer.deallocate() }
}

func payload(_ name: String, _ shape: [Int], _ values: [Float]) -> TensorPayload {
    let bytes = values.withUnsafeBytes { Array($0) }
    return payload(name, shape, .float32, bytes)
}

func payload(_ name: String, _ shape: [Int], _ dtype: DType, _ bytes: [UInt8]) -> TensorPayload {
    let owned = OwnedBytes(bytes)
    return TensorPayload(name: name, shape: shape, dtype: dtype,
                         bytes: UnsafeRawBufferPointer(rebasing: owned.pointer[0..<bytes.count]), owner: owned)
}

/// A manifest with every field set to something other than its default.
func fullManifest(step: Int = 1200) -> Manifest {
    var m = Manifest()
    m.cohortVersion = "0.1.0-test ünïcødé"
    m.createdUnixMs = 1_764_390_600_123
    m.step = step
    m.epoch = 3
    m.data.shuffleSeed = UInt64.max - 7
    m.data.epoch = 3
    m.data.sampleInEpoch = 12_800
    m.data.samplesConsumed = 192_800
    m.data.dataset = "synthetic"
    m.data.datasetSize = 60_000
    m.data.dataName = "fashion-mnist"
    m.data.dataSHA256 = "d9ef4273af5c2e360155dad0c06bd939447bf37a6620db007d69fc79e4732045"
    m.globalBatchSize = 128
    m.worldSize = 4
    m.virtualShards = 16
    m.model.name = "mlp"
    m.model.settings = [KeyValue("hidden", "512,256"), KeyValue("inputs", "784"), KeyValue("classes", "10")]
    m.model.parameterCount = 535_818
    m.rng = [RNGRecord(name: "init", words: [1, 2, 3, UInt64.max]), RNGRecord(name: "dropout/layers.3", words: [9, 8, 7, 6])]
    m.optimizer.kind = "adamw"
    m.optimizer.hyperParameters = [NamedValue("lr", 1e-3), NamedValue("beta1", 0.9), NamedValue("beta2", 0.999),
                                   NamedValue("eps", 1e-8), NamedValue("weight_decay", .leastNonzeroMagnitude)]
    m.optimizer.step = step
    m.optimizer.buffers = ["exp_avg", "exp_avg_sq"]
    m.schedule.kind = "cosine"
    m.schedule.parameters = [NamedValue("base_lr", 1e-3), NamedValue("warmup", 60), NamedValue("max", .greatestFiniteMagnitude)]
    m.schedule.step = step
    m.metrics = [MetricPoint(name: "loss", step: 1, value: 2.3), MetricPoint(name: "loss", step: 2, value: -.infinity),
                 MetricPoint(name: "accuracy", step: -5, value: 0.97)]
    m.metadata = [KeyValue("note", "tab\tnewline\n\"quoted\""), KeyValue("", "empty key"), KeyValue("dup", "1"), KeyValue("dup", "2")]
    m.trainingConfig = [KeyValue("model", "mlp"), KeyValue("lr", "0.001"), KeyValue("seed", "0")]
    return m
}

/// The CheckpointError `body` throws (failing the test if it throws nothing or something else).
func checkpointError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> CheckpointError? {
    do {
        try body()
        Issue.record("expected a CheckpointError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let e as CheckpointError {
        return e
    } catch {
        Issue.record("expected a CheckpointError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Opens and fully verifies; the error if either fails.
func openAndVerify(_ path: String) -> CheckpointError? {
    checkpointErrorIfAny { let c = try Checkpoint(path: path); try c.verify() }
}

/// nil if `body` succeeds, the CheckpointError if it throws one; records an issue for other errors.
func checkpointErrorIfAny(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> CheckpointError? {
    do { try body(); return nil } catch let e as CheckpointError { return e } catch {
        Issue.record("expected a CheckpointError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return .corrupt(path: "", "\(error)")
    }
}

/// A manifest file's bytes with `payload` re-wrapped in a valid envelope (both CRCs recomputed).
func envelope(_ payload: [UInt8], version: UInt32 = Manifest.currentFormatVersion) -> [UInt8] {
    CheckpointLayout.envelope(payload, version: version)
}

/// The payload of a manifest file (after the 28-byte header).
func manifestPayload(_ checkpointPath: String) throws -> [UInt8] {
    Array(try readBytes(checkpointPath + "/" + CheckpointLayout.manifestName).dropFirst(CheckpointLayout.headerSize))
}

/// Peak and current resident memory of this process from /proc/self/status, in bytes.
enum Memory {
    static func field(_ name: String) -> UInt64? {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in s.split(separator: "\n") where line.hasPrefix(name + ":") {
            let kb = line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { UInt64($0) }
            return kb.map { $0 * 1024 }
        }
        return nil
    }
    /// Resets VmHWM to the current RSS (Linux ≥ 4.0); false where not allowed.
    static func resetPeak() -> Bool {
        guard let f = fopen("/proc/self/clear_refs", "w") else { return false }
        defer { fclose(f) }
        return fputs("5", f) >= 0
    }
}
