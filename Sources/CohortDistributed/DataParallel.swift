// Data parallelism over any Communicator: rank 0's parameters are broadcast,
// every rank's architecture is checked against rank 0's, and gradients are
// averaged in buckets — contiguous slices of the flat gradient arena, in
// reverse registration order — whose non-blocking allreduce starts as soon as
// the last gradient in the bucket is final, overlapping the rest of backward.
// With a 16-bit wire (GradientCompression.swift) buckets travel as bfloat16 or
// binary16 words and are decoded back into the float32 arena.
// With ZeRO stage 2 (`gradientShards`) each bucket is reduce-scattered instead: a rank keeps the
// mean of its own shard, and the pages of the other ranks' parts go back to the OS (ZeroPages.swift).
// When every rank is on one node, the gradient arena moves into shared memory
// and buckets are averaged in place there (SharedMemoryAverager) instead of through
// MPI messages: the same result with a fraction of the memory traffic. A
// CollectiveWatchdog, when set, bounds and names every wait of a step.
import CohortCollectives
import CohortCore
import CohortNN
import CohortTensor
import Foundation

/// Errors from data-parallel setup and steps.
public enum DataParallelError: Error, CustomStringConvertible {
    case modelMismatch(String)
    public var description: String {
        switch self { case let .modelMismatch(m): return "model mismatch across ranks: \(m)" }
    }
}

/// Wraps a model's parameter arena for data-parallel training.
public final class DataParallel {
    /// The group the gradients are averaged over.
    public let communicator: any Communicator
    public let arena: ParameterArena
    /// Bucket boundaries (element ranges of the gradient arena), in launch order. They cover
    /// only trainable parameters (`setTrainable`): a frozen parameter's gradient is never sent.
    public private(set) var buckets: [Range<Int>]
    /// Bytes of gradients this rank's buckets average in one step (0 on a single rank): 4 per
    /// element, 2 with a 16-bit `wire`.
    public var bytesPerStep: Int { communicator.size > 1 ? buckets.reduce(0) { $0 + $1.count } * (compressor == nil ? 4 : 2) : 0 }
    /// How gradients travel: float32, or bfloat16/binary16 words.
    public let wire: GradientWire
    /// The binary16 wire's current scale (1 otherwise).
    public var wireScale: Float { compressor?.scale ?? 1 }
    /// Buckets the binary16 wire had to average again in float32 (their words overflowed).
    public var wireOverflows: Int { compressor?.overflows ?? 0 }
    /// The 16-bit wire's words, scale and residuals; nil for float32 or a single rank.
    private let compressor: GradientCompressor?
    /// Bytes averaged by the last `synchronize()` (0 when it communicated nothing).
    public private(set) var lastBytes = 0
    /// When set, backward does not communicate (gradient accumulation); the next
    /// `synchronize()` after clearing it averages everything accumulated.
    public var noSync = false
    /// Seconds spent waiting for communication in the last `synchronize()` (exposed wait).
    public private(set) var lastWaitSeconds = 0.0
    /// When set, every wait of `synchronize` is reported to it (with its bucket) and bounded by its deadline.
    public var watchdog: CollectiveWatchdog? {
        get { collectiveGuard.watchdog }
        set { collectiveGuard = CollectiveGuard(watchdog: newValue, groupSize: communicator.size) }
    }
    /// Every wait of `synchronize` and `averageBuffers`, on the whole group, under `watchdog`.
    private var collectiveGuard: CollectiveGuard

    private var remaining: [Int]            // per bucket: parameters whose gradient is not final yet
    private var bucketOfEntry: [Int]        // −1: frozen, in no bucket
    private var pending: [Int: any CommunicationRequest] = [:]
    private var launched: [Bool]
    /// ZeRO stage 2: every rank's shard of the arena; buckets are reduce-scattered into them (nil: allreduced).
    public let gradientShards: [Range<Int>]?
    /// Stage 2: the other ranks' gradient pages, released once their bucket is reduced.
    private var pages: ZeroPages?
    /// Set when the ranks average through node-local shared memory (until `close()`).
    private var shared: SharedMemoryAverager?
    /// The first bucket allreduce that failed to start inside a gradient hook (which cannot
    /// throw): `synchronize()` throws it, so the caller handles it like any step error.
    private var launchFailure: CommunicationError?
    private let bucketLimit: Int
    /// How gradients travel: "shared memory" or "allreduce", with " (bf16)" or " (fp16)" on a 16-bit wire.
    public var transport: String {
        (gradientShards != nil ? "reduce-scatter" : shared == nil ? "allreduce" : "shared memory") + (compressor == nil ? "" : " (\(wire.rawValue))")
    }

    /// Broadcasts parameters from rank 0, checks the architecture on every rank and
    /// installs gradient hooks. `bucketMegabytes` bounds each bucket (default 25 MB).
    /// `trainable` (one flag per arena entry; nil: all) limits the buckets to trainable parameters.
    /// `wire` chooses float32 or 16-bit gradient exchange; `errorFeedback` (16-bit wires) carries
    /// each element's rounding error into the next step. `gradientShards` (ZeRO stage 2, float32 wire
    /// only) makes every bucket a reduce-scatter into the ranks' shards.
    public init(model: any Module, arena: ParameterArena, communicator: any Communicator, bucketMegabytes: Double = 25,
                trainable: [Bool]? = nil, wire: GradientWire = .fp32, errorFeedback: Bool = false,
                gradientShards: [Range<Int>]? = nil) throws {
        if gradientShards != nil && wire != .fp32 {
            throw CohortError.invalidParameter(name: "gradientWire", "\(wire.rawValue): ZeRO stage 2 reduce-scatters float32 gradients only (use stage 1 with a 16-bit wire)")
        }
        self.gradientShards = communicator.size > 1 ? gradientShards : nil
        self.communicator = communicator
        self.arena = arena
        self.wire = wire
        compressor = communicator.size > 1 ? wire.format.map { GradientCompressor(format: $0, count: arena.count, errorFeedback: errorFeedback) } : nil
        collectiveGuard = CollectiveGuard(watchdog: nil, groupSize: communicator.size)
        try DataParallel.checkArchitecture(arena, communicator)
        // Same starting point everywhere: rank 0's values.
        try communicator.broadcast(UnsafeMutableBufferPointer(start: arena.values.pointer, count: arena.values.count), root: 0)
        if arena.buffers.count > 0 {
            try communicator.broadcast(UnsafeMutableBufferPointer(start: arena.buffers.pointer, count: arena.buffers.count), root: 0)
        }
        bucketLimit = max(Int(bucketMegabytes * 1_000_000 / 4), 1)
        (buckets, bucketOfEntry) = DataParallel.layout(arena, trainable: trainable, limit: bucketLimit)
        (remaining, perBucketTotals, launched, bucketOperations) = ([], [], [], [])
        resetTables()
        shared = self.gradientShards != nil ? nil
            : try SharedMemoryAverager.make(communicator: communicator, count: arena.count, buckets: buckets, format: compressor?.format)
        if let shard = self.gradientShards?[communicator.rank] { pages = ZeroPages(arena: arena, buckets: buckets, shard: shard) }
        if let shared, compressor == nil {
            arena.moveGradients(to: Storage(borrowing: shared.buffer, count: arena.count, owner: shared))
        }
        for (i, t) in arena.tensors.enumerated() {
            t.registerGradHook { [unowned self] _ in self.gradientReady(entry: i) }
        }
        // The hooks capture `self` unowned: the DataParallel must outlive the model's use.
    }

    private var perBucketTotals: [Int]
    /// What a watchdog report calls each bucket's wait (built once: no strings per step).
    private var bucketOperations: [String]

    /// Buckets over the trainable entries (all when nil): walking the entries backwards (gradients
    /// of late layers are final first), a bucket grows while its entries are contiguous and within
    /// `limit` elements; each entry's range runs to the next entry's offset (alignment padding included).
    static func layout(_ arena: ParameterArena, trainable: [Bool]?, limit: Int) -> (buckets: [Range<Int>], owner: [Int]) {
        var ranges: [Range<Int>] = []
        var owner = [Int](repeating: -1, count: arena.entries.count)
        var current: Range<Int>?
        for i in stride(from: arena.entries.count - 1, through: 0, by: -1) where trainable?[i] ?? true {
            let end = i + 1 < arena.entries.count ? arena.entries[i + 1].offset : arena.count
            let start = i == 0 ? 0 : arena.entries[i].offset
            if let c = current, c.lowerBound == end, c.upperBound - start <= limit {
                current = start..<c.upperBound
            } else {
                if let c = current { ranges.append(c) }
                current = start..<end
            }
            owner[i] = ranges.count
        }
        if let c = current { ranges.append(c) }
        return (ranges, owner)
    }

    private func resetTables() {
        var counts = [Int](repeating: 0, count: buckets.count)
        for b in bucketOfEntry where b >= 0 { counts[b] += 1 }
        remaining = counts
        perBucketTotals = counts
        launched = Array(repeating: false, count: buckets.count)
        bucketOperations = buckets.indices.map { "allreduce of bucket \($0)" }
    }

    /// Makes the buckets cover exactly the entries marked trainable (e.g. when frozen layers are
    /// unfrozen): a frozen entry's gradient is neither waited for nor communicated. With shared
    /// memory the averager is rebuilt. Collective: every rank calls it between the same steps.
    public func setTrainable(_ trainable: [Bool]) throws {
        precondition(trainable.count == arena.entries.count, "one flag per arena entry")
        (buckets, bucketOfEntry) = DataParallel.layout(arena, trainable: trainable, limit: bucketLimit)
        resetTables()
        pending = [:]
        if let shard = gradientShards?[communicator.rank] {
            pages = ZeroPages(arena: arena, buckets: buckets, shard: shard)
        }
        if let old = shared {
            if compressor == nil { arena.moveGradients(to: Storage(count: arena.count)) }
            shared = nil
            old.close()
            shared = try SharedMemoryAverager.make(communicator: communicator, count: arena.count, buckets: buckets, format: compressor?.format)
            if let shared, compressor == nil { arena.moveGradients(to: Storage(borrowing: shared.buffer, count: arena.count, owner: shared)) }
        }
    }

    private func gradientReady(entry: Int) {
        guard !noSync, communicator.size > 1 else { return }
        let b = bucketOfEntry[entry]
        guard b >= 0 else { return }
        remaining[b] -= 1
        if shared == nil && remaining[b] == 0 { launch(b) }
        if let shared {
            if remaining[b] == 0 { markShared(b, shared) }
            shared.progress()
            return
        }
        // MPI progresses non-blocking collectives only inside MPI calls: poke the
        // ones in flight so they advance while backward continues (in bucket order, the
        // same on every rank, not the dictionary's order, which differs between processes).
        for b in buckets.indices { if let req = pending[b] { _ = try? req.test() } }
    }

    /// Shared-memory path: bucket `b` is final here (encoded first on a 16-bit wire).
    private func markShared(_ b: Int, _ shared: SharedMemoryAverager) {
        guard !launched[b] else { return }
        launched[b] = true
        let event = Trace.recorder?.begin() ?? 0
        defer { if event != 0 { Trace.recorder?.end(.bucketLaunch, event, argument: Int64(b)) } }
        compressor?.encode(arena.grads.pointer, buckets[b], into: shared.words)
        shared.markReady(bucket: b)
    }

    private func launch(_ b: Int) {
        guard !launched[b] else { return }
        launched[b] = true
        let event = Trace.recorder?.begin() ?? 0
        defer { if event != 0 { Trace.recorder?.end(.bucketLaunch, event, argument: Int64(b)) } }
        let r = buckets[b]
        let slice = UnsafeMutableBufferPointer(start: arena.grads.pointer + r.lowerBound, count: r.count)
        do {
            if let compressor {
                compressor.encode(arena.grads.pointer, r, into: compressor.words)
                let raw = UnsafeMutableRawPointer(compressor.words + r.lowerBound)
                pending[b] = compressor.format == .bf16
                    ? try communicator.allreduceAsync(UnsafeMutableBufferPointer(start: raw.assumingMemoryBound(to: BFloat16Word.self), count: r.count), op: .sum)
                    : try communicator.allreduceAsync(UnsafeMutableBufferPointer(start: raw.assumingMemoryBound(to: Float16Word.self), count: r.count), op: .sum)
            } else if let gradientShards {
                let counts = gradientShards.map { r.clamped(to: $0).count }
                let mine = r.clamped(to: gradientShards[communicator.rank]), ranks = communicator.size
                let reduced = try communicator.reduceScatterAsync(slice, counts: counts, op: .sum)
                pending[b] = FollowedRequest(reduced) { [unowned self] in
                    Mean.scale(UnsafeMutableBufferPointer(start: arena.grads.pointer + mine.lowerBound, count: mine.count), by: ranks)
                    pages?.release(bucket: b)
                }
            } else {
                pending[b] = try communicator.allreduceMeanAsync(slice)
            }
        } catch {
            if launchFailure == nil {
                launchFailure = .backend(operation: "starting the gradient allreduce of bucket \(b)", rank: communicator.rank, message: "\(error)")
            }
        }
    }

    /// Zeroes the gradients before a step; with ZeRO stage 2, pages handed back to the OS are zero
    /// already and stay untouched (a write would bring them back).
    public func zeroGradients() {
        if let pages { pages.zeroGradients() } else { arena.zeroGrad() }
    }

    /// Frees the node-local shared memory, after moving the gradients back into private
    /// memory (later steps average through allreduce). Collective: every rank calls it at the
    /// same point after its last step, on the success path only — a DataParallel dropped
    /// while an error unwinds on one rank frees nothing collectively (MPI_Finalize or the
    /// process's end does), so that rank never waits for peers that will not come.
    public func close() {
        guard let averager = shared else { return }
        arena.moveGradients(to: Storage(count: arena.count))
        shared = nil
        averager.close()
    }

    /// Completes the step's gradient averaging: launches buckets whose parameters got no
    /// gradient (their zeros are averaged too, so no rank waits forever) and waits for all.
    /// Call after `backward()` and before the optimizer step. `timeout` bounds each wait.
    public func synchronize(timeout: Double = 600) throws {
        defer { reset() }
        lastBytes = 0
        guard communicator.size > 1, !noSync else { return }
        let event = Trace.recorder?.begin() ?? 0
        defer { if event != 0 { Trace.recorder?.end(.gradientSync, event) } }
        lastBytes = bytesPerStep
        // Each wait has its own deadline and a more precise error than the watchdog's
        // thread could give, so the thread allows it a little longer (slack).
        if let shared {
            let t0 = Date()
            for b in buckets.indices where !launched[b] { markShared(b, shared) }
            let operation = "shared-memory gradient average"
            try collectiveGuard(operation, slack: 2) {
                do { try shared.finish(timeout: timeout) } catch {
                    // finish throws only when its deadline passes; its error names the missing node-local ranks.
                    collectiveGuard.expired(operation, detail: "\(error)")
                    throw error
                }
            }
            lastWaitSeconds = Date().timeIntervalSince(t0)
            if compressor != nil { try decodeBuckets(shared.words, factor: 1, timeout: timeout) }
            return
        }
        for b in buckets.indices where !launched[b] { launch(b) }
        if let failure = launchFailure {
            launchFailure = nil
            throw failure
        }
        let t0 = Date()
        for b in buckets.indices {
            guard let req = pending[b] else { continue }
            let waitEvent = Trace.recorder?.begin() ?? 0
            defer { if waitEvent != 0 { Trace.recorder?.end(.bucketWait, waitEvent, argument: Int64(b)) } }
            try collectiveGuard(bucketOperations[b], slack: 2) {
                do { try req.wait(timeout: timeout) } catch let error as CommunicationError {
                    if case .timeout = error {
                        collectiveGuard.expired(bucketOperations[b], detail: nil)
                    }
                    throw error
                }
            }
        }
        lastWaitSeconds = Date().timeIntervalSince(t0)
        if let compressor { try decodeBuckets(compressor.words, factor: Mean.factor(communicator.size), timeout: timeout) }
    }

    /// 16-bit wire: decodes every bucket's reduced words (times `factor`: what turns them into the
    /// mean) into the gradient arena. A bucket whose words overflowed is averaged again in float32
    /// (its float32 gradients are still in the arena); every rank holds the same words, so every
    /// rank makes the same choice.
    private func decodeBuckets(_ words: UnsafeMutablePointer<UInt16>, factor: Float, timeout: Double) throws {
        guard let compressor else { return }
        var overflowed = false
        for (b, r) in buckets.enumerated() where !compressor.decode(words, r, into: arena.grads.pointer, factor: factor) {
            overflowed = true
            compressor.dropResidual(r)
            let slice = UnsafeMutableBufferPointer(start: arena.grads.pointer + r.lowerBound, count: r.count)
            try collectiveGuard("float32 allreduce of bucket \(b) after its binary16 words overflowed", slack: 2) {
                try communicator.allreduceMean(slice)
            }
            lastBytes += r.count * 4
        }
        compressor.endStep(overflowed: overflowed)
    }

    /// Replaces every rank's module buffers (BatchNorm running statistics, which each
    /// rank updates from its own shard of the batch) with their mean over the ranks,
    /// so evaluation and checkpoints see one model. Every rank must call it at the
    /// same point (`cohort train` does before each save and before evaluation); a
    /// model without buffers makes it a no-op.
    public func averageBuffers() throws {
        guard communicator.size > 1, arena.buffers.count > 0 else { return }
        let all = UnsafeMutableBufferPointer(start: arena.buffers.pointer, count: arena.buffers.count)
        try collectiveGuard("module buffer average", slack: 2) {
            try communicator.allreduceMean(all)
        }
    }

    private func reset() {
        remaining = perBucketTotals
        launched = Array(repeating: false, count: buckets.count)
        pending = [:]
    }

    /// Fails on every rank, naming the first differing parameter and the ranks,
    /// when the ranks' models differ in names or shapes.
    static func checkArchitecture(_ arena: ParameterArena, _ comm: any Communicator) throws {
        guard comm.size > 1 else { return }
        let mine = arena.entries.map { "\($0.name)\($0.shape)" } + arena.bufferEntries.map { "buffer \($0.name)\($0.shape)" }
        let reference = try comm.broadcastBytes(Array(mine.joined(separator: "\n").utf8), root: 0)
        let theirs = String(decoding: reference, as: UTF8.self).split(separator: "\n").map(String.init)
        var mismatch = ""
        if theirs != mine {
            if let i = zip(mine, theirs).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                mismatch = "parameter \(i): rank \(comm.rank) has \(mine[i]), rank 0 has \(theirs[i])"
            } else {
                mismatch = "rank \(comm.rank) has \(mine.count) parameters, rank 0 has \(theirs.count)"
            }
        }
        // Every rank learns every rank's finding, so whichever rank prints first names it.
        let findings = try comm.allgatherBytes(Array(mismatch.utf8))
        guard let first = findings.firstIndex(where: { !$0.isEmpty }) else { return }
        let ranks = findings.indices.filter { !findings[$0].isEmpty }.map(String.init).joined(separator: ", ")
        let finding = String(decoding: findings[first], as: UTF8.self)
        throw DataParallelError.modelMismatch(finding + " (ranks with a different model: \(ranks))")
    }
}
