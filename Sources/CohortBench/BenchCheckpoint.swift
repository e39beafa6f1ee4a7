// `cohort bench w6`: durable checkpoint save and load of 100M float32
// parameters (10 tensors) plus Adam state (2×), next to the fsync'd sequential
// write rate of the same disk measured in the same run; and the step-time cost
// of asynchronous saving during W1 training.
import CohortCheckpoint
import CohortCore
import CohortNN
import CohortOptim
import CohortTensor
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Ten 10M-element parameters: the W6 state.
final class W6Params: Module {
    var isTraining = true
    let tensors: [Tensor]
    init(seed: UInt64) {
        var g = RandomGenerator(seed: seed)
        tensors = (0..<10).map { _ in parameter(Tensor.randn([10_000_000], generator: &g)) }
    }
    var localParameters: [(name: String, tensor: Tensor)] { tensors.enumerated().map { ("layer\($0.offset).weight", $0.element) } }
    func forward(_ x: Tensor) throws -> Tensor { x }
}

struct W6Bench {
    let repeats: Int, directory: String, json: Bool, asyncSteps: Int

    func run() throws {
        let model = W6Params(seed: 0)
        let arena = ParameterArena(model)
        let adam = Adam(arena, lr: 1e-3)
        var g = RandomGenerator(seed: 1)
        g.fillNormal(arena.grads.pointer, arena.grads.count)
        adam.step()                                   // materialises exp_avg / exp_avg_sq
        let root = directory + "/cohort-w6-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let bytes = Double(arena.entries.reduce(0) { $0 + $1.count } * 4 * 3)
        var save: [Double] = [], warm: [Double] = [], cold: [Double] = [], seq: [Double] = []
        for r in 0...repeats {                        // round 0 is an untimed warm-up
            // Interleave the disk's own rate with the checkpoint (alternating which goes
            // first), so drift and writeback of the previous round hit both alike.
            let sources = [arena.values] + adam.stateBuffers.map(\.storage)
            var s = r % 2 == 0 ? try sequentialWriteSeconds(sources: sources, path: root + "-seq.bin") : 0
            var m = Manifest()
            m.step = r + 1
            m.optimizer = TrainingCheckpoint.optimizerRecord(adam)
            let t0 = monotonicSeconds()
            let path = try CheckpointWriter.write(m, tensors: TrainingCheckpoint.payloads(arena: arena, optimizer: adam), directory: root)
            let t1 = monotonicSeconds()
            let c = try Checkpoint(path: path)
            try TrainingCheckpoint.restore(c, arena: arena, optimizer: adam)
            let t2 = monotonicSeconds()
            evict(path)
            let t3 = monotonicSeconds()
            try TrainingCheckpoint.restore(try Checkpoint(path: path), arena: arena, optimizer: adam)
            let t4 = monotonicSeconds()
            CheckpointStore(directory: root).applyRetention(keepLast: 1)
            if r % 2 == 1 { s = try sequentialWriteSeconds(sources: sources, path: root + "-seq.bin") }
            guard r > 0 else { continue }
            save.append(t1 - t0); warm.append(t2 - t1); cold.append(t4 - t3); seq.append(s)
            Log.info(String(format: "w6 r%d save %.2fs load warm %.2fs cold %.2fs; sequential fsync'd write %.2fs", r, t1 - t0, t2 - t1, t4 - t3, s))
        }
        let mb = bytes / 1e6
        func rate(_ xs: [Double]) -> [Double] { xs.map { mb / $0 } }
        var r1 = BenchResult(workload: "W6 ckpt save+fsync", threads: 1, metric: "MB/s", unit: "MB/s", values: rate(save))
        let seqMedian = BenchResult(workload: "", threads: 1, metric: "", unit: "", values: rate(seq)).median
        r1.extra = [("tensor_mb", mb.rounded(to: 1)), ("sequential_fsync_write_mb_per_s", seqMedian.rounded(to: 1)),
                    ("share_of_sequential_rate", (r1.median / seqMedian).rounded(to: 3)), ("crc32c_hardware", CRC32C.isHardware),
                    ("seconds", save.map { $0.rounded(to: 3) })]
        r1.emit(json: json)
        BenchResult(workload: "W6 disk sequential write+fsync", threads: 1, metric: "MB/s", unit: "MB/s", values: rate(seq)).emit(json: json)
        BenchResult(workload: "W6 ckpt load (page cache warm)", threads: 1, metric: "MB/s", unit: "MB/s", values: rate(warm)).emit(json: json)
        BenchResult(workload: "W6 ckpt load (file evicted, fadvise)", threads: 1, metric: "MB/s", unit: "MB/s", values: rate(cold)).emit(json: json)
        try asyncStall()
    }

    /// Seconds to write the same bytes a checkpoint holds (the arena and optimizer
    /// buffers) to one file in 64 MiB writes and fsync it: the disk's own rate.
    func sequentialWriteSeconds(sources: [Storage], path: String) throws -> Double {
        let block = 64 << 20
        defer { unlink(path) }
        let t0 = monotonicSeconds()
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CohortError.badFile(path: path, "cannot create: \(String(cString: strerror(errno)))") }
        for s in sources {
            let raw = UnsafeRawPointer(s.pointer)
            var done = 0
            let total = s.count * 4
            while done < total {
                let n = write(fd, raw + done, min(block, total - done))
                guard n > 0 else { close(fd); throw CohortError.badFile(path: path, "write failed") }
                done += n
            }
        }
        fsync(fd)
        close(fd)
        return monotonicSeconds() - t0
    }

    /// Drops a checkpoint's files from this machine's page cache.
    func evict(_ checkpoint: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: checkpoint)) ?? [] {
            let fd = open(checkpoint + "/" + name, O_RDONLY)
            guard fd >= 0 else { continue }
            fsync(fd)
            posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
            close(fd)
        }
    }

    /// W1 training with an asynchronous save every 10 steps vs without: mean and worst step stall.
    func asyncStall() throws {
        let dir = directory + "/cohort-w6-async-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var plain: [Double] = [], saving: [Double] = [], worst: [Double] = []
        for _ in 0..<3 {
            var w = W1Setup(seed: 0)
            for _ in 0..<5 { try w.step() }
            var t = monotonicSeconds()
            for _ in 0..<asyncSteps { try w.step() }
            plain.append((monotonicSeconds() - t) / Double(asyncSteps))
            let writer = AsyncCheckpointer()
            var stepTimes: [Double] = []
            t = monotonicSeconds()
            for s in 0..<asyncSteps {
                let s0 = monotonicSeconds()
                try w.step(beforeUpdate: { try writer.beforeParameterUpdate() })
                if s % 10 == 9 {
                    var m = Manifest()
                    m.step = s + 1
                    m.optimizer = TrainingCheckpoint.optimizerRecord(w.optimizer)
                    try writer.save(m, arena: w.arena, optimizer: w.optimizer, directory: dir, retention: (2, 0))
                }
                stepTimes.append(monotonicSeconds() - s0)
            }
            try writer.finish()
            saving.append((monotonicSeconds() - t) / Double(asyncSteps))
            let sorted = stepTimes.sorted()
            worst.append(sorted[sorted.count - 1] / sorted[sorted.count / 2] - 1)
        }
        let p = BenchResult(workload: "", threads: 1, metric: "", unit: "", values: plain).median
        let a = BenchResult(workload: "", threads: 1, metric: "", unit: "", values: saving).median
        var r = BenchResult(workload: "W6 async checkpoint stall on W1 (save every 10 steps)", threads: 1, metric: "stall",
                            unit: "fraction of step time", values: zip(saving, plain).map { $0 / $1 - 1 })
        r.extra = [("step_ms_without", (p * 1000).rounded(to: 2)), ("step_ms_with_async_saves", (a * 1000).rounded(to: 2)),
                   ("worst_step_over_median", worst.map { $0.rounded(to: 3) })]
        r.emit(json: json)
    }
}
