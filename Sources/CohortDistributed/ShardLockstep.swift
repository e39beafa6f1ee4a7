// SyncBatchNorm in deterministic mode (`--deterministic --sync-bn`): the "processes" that share
// a global batch are its K virtual shards, not the ranks. A rank runs its K/N shards at the same
// time, one thread each, and they meet at every batch-norm collective: when all of this rank's
// shards have posted their values, the calling (main) thread — the only one that talks to MPI —
// gathers every rank's shards in global shard order and hands each shard the same result. Batch
// statistics are then combined over shards 0…K−1 in that order, and backward's sums are summed
// in it, so the bits do not depend on how the shards are spread over ranks.
import CohortCollectives
import CohortCore
import CohortKernels
import CohortTensor
import Foundation

/// Runs a rank's virtual shards in lock-step and is the `BatchStatisticsSync` of their batch
/// norms: each collective waits for every local shard, then exchanges all K shards' values.
public final class ShardLockstep: BatchStatisticsSync, @unchecked Sendable {
    /// The local shard the current thread runs (set by `run`; nil outside it).
    @TaskLocal static var participant: Int?

    /// Virtual shards on this rank, and over all ranks (`processCount`).
    public let localShards: Int, shards: Int
    public let communicator: any Communicator
    let collectiveGuard: CollectiveGuard

    private let condition = NSCondition()
    /// Under `condition`: each local shard's posted values (and whether it asks for a sum),
    /// the current exchange's result, how many exchanges have completed, how many shards have
    /// returned, and the first failure (which releases every waiting shard).
    private var posted: [(values: [Float], sum: Bool)?]
    private var result: [Float] = []
    private var generation = 0, returned = 0
    private var failure: (any Error)?

    /// `localShards` shards per rank on `communicator` (K = `localShards × size`); every
    /// exchange's collective wait runs under `collectiveGuard`.
    public init(localShards: Int, communicator: any Communicator, collectiveGuard: CollectiveGuard = .unguarded) {
        precondition(localShards >= 1, "ShardLockstep: localShards must be ≥ 1")
        self.localShards = localShards
        self.shards = localShards * communicator.size
        self.communicator = communicator
        self.collectiveGuard = collectiveGuard
        posted = Array(repeating: nil, count: localShards)
    }

    public var processCount: Int { shards }

    /// Local shard 0 of every rank updates its layers' running statistics (every shard computes the same).
    public var updatesRunningStatistics: Bool { Self.participant == 0 }

    public func allgather(_ values: [Float]) throws -> [Float] { try exchange(values, sum: false) }

    public func allreduceSum(_ values: inout [Float]) throws { values = try exchange(values, sum: true) }

    /// Runs `body(i)` for every local shard i, each on its own thread, all at once, while this
    /// (the calling) thread performs their exchanges; returns the results in shard order.
    /// OpenBLAS runs one thread meanwhile (a GEMM's bits depend on its split, and the shards'
    /// threads are the parallelism).
    /// - Throws: the first shard's error, or the exchange's (a failed collective, shards that
    ///   posted different calls); the other shards are released with an error and joined first.
    public func run<R>(_ body: @escaping (Int) throws -> R) throws -> [R] {
        condition.lock()
        posted = Array(repeating: nil, count: localShards)
        generation = 0; returned = 0; failure = nil
        condition.unlock()
        let results = ResultSlots<R>(localShards)
        let work = UncheckedBox(body)
        BLAS.singleThreaded {
            for i in 0..<localShards {
                let thread = Thread { [self] in
                    Self.$participant.withValue(i) {
                        do { results.set(i, try work.value(i)) } catch { fail(error) }
                    }
                    condition.lock(); returned += 1; condition.broadcast(); condition.unlock()
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
            serve()
        }
        if let failure { throw failure }
        return try (0..<localShards).map { i in
            guard let r = results.get(i) else { throw CohortError.invalidArgument("ShardLockstep: virtual shard \(i) returned no result") }
            return r
        }
    }

    /// The main thread's loop: one exchange whenever every running shard has posted, until all have returned.
    private func serve() {
        condition.lock()
        defer { condition.unlock() }
        while returned < localShards {
            let waiting = posted.compactMap { $0 }
            if failure == nil, !waiting.isEmpty, waiting.count + returned == localShards {
                if returned > 0 {
                    fail(locked: CohortError.invalidArgument("deterministic sync-bn: \(returned) of this rank's virtual shards finished while \(waiting.count) wait at a batch-norm collective (the shards ran different layers)"))
                    continue
                }
                let calls = posted.map { $0! }
                condition.unlock()
                let outcome = Result { try exchangeAcrossRanks(calls) }
                condition.lock()
                switch outcome {
                case .success(let values):
                    result = values
                    posted = Array(repeating: nil, count: localShards)
                    generation += 1
                    condition.broadcast()
                case .failure(let error): fail(locked: error)
                }
                continue
            }
            condition.wait()
        }
    }

    /// Every rank's local shards' values in global shard order (allgather), or their sum in that order.
    private func exchangeAcrossRanks(_ calls: [(values: [Float], sum: Bool)]) throws -> [Float] {
        let n = calls[0].values.count, sum = calls[0].sum
        guard calls.allSatisfy({ $0.values.count == n && $0.sum == sum }) else {
            throw CohortError.invalidArgument("deterministic sync-bn: this rank's virtual shards posted different batch-norm collectives (\(calls.map { "\($0.sum ? "sum" : "gather") of \($0.values.count)" }.joined(separator: ", ")))")
        }
        let local = calls.flatMap(\.values)
        var all = [Float](repeating: 0, count: local.count * communicator.size)
        if communicator.size == 1 {
            all = local
        } else {
            try local.withUnsafeBufferPointer { send in
                try all.withUnsafeMutableBufferPointer { receive in
                    try collectiveGuard("batch-norm virtual-shard allgather") { try communicator.allgather(send, into: receive) }
                }
            }
        }
        guard sum else { return all }
        var total = [Double](repeating: 0, count: n)
        for s in 0..<shards { for j in 0..<n { total[j] += Double(all[s * n + j]) } }
        return total.map { Float($0) }
    }

    /// A shard's side of one exchange: posts `values` and waits for the result.
    private func exchange(_ values: [Float], sum: Bool) throws -> [Float] {
        guard let me = Self.participant else {
            throw CohortError.invalidArgument("deterministic sync-bn: a training-mode batch norm ran outside the virtual shards' lock-step (call it inside ShardLockstep.run)")
        }
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        posted[me] = (values, sum)
        let mine = generation
        condition.broadcast()
        while generation == mine && failure == nil { condition.wait() }
        guard generation != mine else {
            throw CohortError.invalidArgument("deterministic sync-bn: virtual shard \(me) stopped: another shard or the exchange failed")
        }
        return result
    }

    private func fail(_ error: any Error) {
        condition.lock(); fail(locked: error); condition.unlock()
    }

    /// Records the first failure and wakes every waiting shard (`condition` held).
    private func fail(locked error: any Error) {
        if failure == nil { failure = error }
        condition.broadcast()
    }
}

/// Results written by the shard threads, read after they are joined.
private final class ResultSlots<R>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [R?]
    init(_ n: Int) { slots = Array(repeating: nil, count: n) }
    func set(_ i: Int, _ r: R) { lock.lock(); slots[i] = r; lock.unlock() }
    func get(_ i: Int) -> R? { lock.lock(); defer { lock.unlock() }; return slots[i] }
}

/// A value handed to the shard threads; `run` keeps it alive until they have returned.
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
