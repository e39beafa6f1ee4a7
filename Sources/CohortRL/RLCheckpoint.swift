// Checkpoints of an RL run in Cohort's checkpoint format (CheckpointWriter's commit
// protocol): the model and optimizer as `cohort train` stores them, plus every rank's
// environments (dynamics state, PCG64 words, step counters, running episode sums) and
// its sampler's generator, gathered to rank 0, which writes. On resume each rank reads
// its own slice, so a run continues bitwise at the same world size.
import CohortCheckpoint
import CohortCollectives
import CohortCore
import CohortNN
import CohortOptim
import CohortTensor
import Foundation

/// One rank's RL state, flattened for the gather: Float64 values and 64-bit words.
struct RankState {
    var values: [Double]
    var words: [Int64]
}

/// What an RL learner stores beyond its model and optimizer.
protocol CheckpointableLearner: AnyObject {
    var communicator: any Communicator { get }
    var arena: ParameterArena { get }
    var optimizer: Adam { get }
    var environments: VectorEnvironment { get }
    var random: RandomGenerator { get set }
    var episodeStarts: [Bool] { get set }
    var timesteps: Int { get set }
    var iterations: Int { get set }
    /// Learner-specific per-rank state (DQN: the replay buffer), appended after the common part.
    func extraRankState() -> RankState
    func restoreExtraRankState(_ s: RankState) throws
    /// Learner-specific global tensors (DQN: the target network).
    func extraPayloads() -> [TensorPayload]
    func restoreExtra(_ checkpoint: Checkpoint) throws
}

extension CheckpointableLearner {
    func extraRankState() -> RankState { RankState(values: [], words: []) }
    func restoreExtraRankState(_ s: RankState) throws {}
    func extraPayloads() -> [TensorPayload] { [] }
    func restoreExtra(_ checkpoint: Checkpoint) throws {}

    func rankState() -> RankState {
        let snap = environments.snapshot
        var values: [Double] = [], words: [Int64] = []
        for (i, e) in snap.environments.enumerated() {
            values += e.dynamics
            values.append(snap.episodeReturns[i])
            words += e.random.map { Int64(bitPattern: $0) }
            words += [Int64(e.elapsedSteps), Int64(snap.episodeLengths[i]), episodeStarts[i] ? 1 : 0]
        }
        words += random.state.map { Int64(bitPattern: $0) }
        let extra = extraRankState()
        return RankState(values: values + extra.values, words: words + extra.words)
    }

    func applyRankState(_ s: RankState) throws {
        let n = environments.count, d = environments.environments[0].snapshot.dynamics.count
        guard s.values.count >= n * (d + 1), s.words.count >= n * 7 + 4 else {
            throw CohortError.invalidArgument("the checkpoint's environment state has \(s.values.count) values and \(s.words.count) words; "
                                              + "\(n) environments need \(n * (d + 1)) and \(n * 7 + 4)")
        }
        var envs: [EnvironmentSnapshot] = [], returns: [Double] = [], lengths: [Int] = []
        for i in 0..<n {
            let v = Array(s.values[(i * (d + 1))..<(i * (d + 1) + d)])
            let w = s.words[(i * 7)..<(i * 7 + 7)].map { UInt64(bitPattern: $0) }
            envs.append(EnvironmentSnapshot(dynamics: v, random: Array(w[0..<4]), elapsedSteps: Int(w[4])))
            returns.append(s.values[i * (d + 1) + d])
            lengths.append(Int(w[5]))
            episodeStarts[i] = w[6] != 0
        }
        try environments.restore(VectorSnapshot(environments: envs, episodeReturns: returns, episodeLengths: lengths))
        random = RandomGenerator(state: s.words[(n * 7)..<(n * 7 + 4)].map { UInt64(bitPattern: $0) })
        try restoreExtraRankState(RankState(values: Array(s.values[(n * (d + 1))...]), words: Array(s.words[(n * 7 + 4)...])))
    }

    /// Saves the run as `directory/step-NNNNNNNN` (step = iterations). Collective: every rank
    /// sends its state to rank 0, which writes; returns the path on rank 0, nil elsewhere.
    /// - Throws: `CheckpointError` for a failed write (rank 0), a `CommunicationError`.
    func saveCheckpoint(directory: String, config: [KeyValue], metadata: [KeyValue]) throws -> String? {
        let mine = rankState()
        let p = communicator.size
        var values = [Double](repeating: 0, count: mine.values.count * p)
        var words = [Int64](repeating: 0, count: mine.words.count * p)
        // Equal sizes on every rank (same environments per rank; DQN buffers of equal capacity).
        try mine.values.withUnsafeBufferPointer { s in try values.withUnsafeMutableBufferPointer { try communicator.allgather(s, into: $0) } }
        try mine.words.withUnsafeBufferPointer { s in try words.withUnsafeMutableBufferPointer { try communicator.allgather(s, into: $0) } }
        guard communicator.rank == 0 else { return nil }
        var m = Manifest()
        m.cohortVersion = cohortVersion
        m.createdUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
        m.step = iterations
        m.worldSize = p
        m.optimizer = TrainingCheckpoint.optimizerRecord(optimizer)
        m.model.name = "rl-actor-critic"
        m.model.parameterCount = arena.entries.reduce(0) { $0 + $1.count }
        m.trainingConfig = config + [KeyValue("rl.timesteps", "\(timesteps)"), KeyValue("rl.iterations", "\(iterations)")]
        m.metadata = metadata
        let valueStorage = values, wordStorage = words
        var payloads = TrainingCheckpoint.payloads(arena: arena, optimizer: optimizer) + extraPayloads()
        let vBytes = valueStorage.withUnsafeBytes { Data($0) } as NSData, wBytes = wordStorage.withUnsafeBytes { Data($0) } as NSData
        payloads.append(TensorPayload(name: "rl/rank_values", shape: [p, mine.values.count], dtype: .float64,
                                      bytes: UnsafeRawBufferPointer(start: vBytes.bytes, count: vBytes.length), owner: vBytes))
        payloads.append(TensorPayload(name: "rl/rank_words", shape: [p, mine.words.count], dtype: .int64,
                                      bytes: UnsafeRawBufferPointer(start: wBytes.bytes, count: wBytes.length), owner: wBytes))
        return try CheckpointWriter.write(m, tensors: payloads, directory: directory)
    }

    /// Restores the run from a checkpoint written by `saveCheckpoint` at the same world size and
    /// settings; every rank reads its own slice. Returns the manifest's training config.
    /// - Throws: `CheckpointError.mismatch` when the world size or the sizes differ.
    func restoreCheckpoint(_ checkpoint: Checkpoint) throws -> [KeyValue] {
        let m = checkpoint.manifest, p = communicator.size
        guard m.worldSize == p else {
            throw CheckpointError.mismatch(path: checkpoint.path, "it was saved by \(m.worldSize) rank\(m.worldSize == 1 ? "" : "s"); an RL run resumes at the same world size, this one has \(p)")
        }
        guard let vr = checkpoint.record("rl/rank_values"), let wr = checkpoint.record("rl/rank_words"),
              vr.dtype == .float64, wr.dtype == .int64, vr.shape.count == 2, wr.shape.count == 2, vr.shape[0] == p, wr.shape[0] == p else {
            throw CheckpointError.mismatch(path: checkpoint.path, "it holds no RL state for \(p) ranks (rl/rank_values, rl/rank_words)")
        }
        let mine = rankState()
        guard vr.shape[1] == mine.values.count, wr.shape[1] == mine.words.count else {
            throw CheckpointError.mismatch(path: checkpoint.path, "its per-rank RL state (\(vr.shape[1]) values, \(wr.shape[1]) words) does not fit this run's "
                                           + "(\(mine.values.count), \(mine.words.count)): different environments or settings")
        }
        try TrainingCheckpoint.restore(checkpoint, arena: arena, optimizer: optimizer)
        var values = [Double](repeating: 0, count: vr.count), words = [Int64](repeating: 0, count: wr.count)
        try values.withUnsafeMutableBytes { try checkpoint.read("rl/rank_values", into: $0) }
        try words.withUnsafeMutableBytes { try checkpoint.read("rl/rank_words", into: $0) }
        let r = communicator.rank, nv = vr.shape[1], nw = wr.shape[1]
        try applyRankState(RankState(values: Array(values[(r * nv)..<((r + 1) * nv)]), words: Array(words[(r * nw)..<((r + 1) * nw)])))
        try restoreExtra(checkpoint)
        func int(_ key: String) -> Int? { m.trainingConfig.first { $0.key == key }.flatMap { Int($0.value) } }
        guard let t = int("rl.timesteps"), let it = int("rl.iterations") else {
            throw CheckpointError.mismatch(path: checkpoint.path, "it records no rl.timesteps / rl.iterations")
        }
        timesteps = t
        iterations = it
        return m.trainingConfig
    }
}

extension PPO: CheckpointableLearner {
    /// Saves this run (collective); see `CheckpointableLearner.saveCheckpoint`.
    public func save(directory: String, config: [KeyValue], metadata: [KeyValue]) throws -> String? {
        try saveCheckpoint(directory: directory, config: config, metadata: metadata)
    }

    /// Restores this run from `checkpoint` (every rank); returns the saved training config.
    public func restore(from checkpoint: Checkpoint) throws -> [KeyValue] { try restoreCheckpoint(checkpoint) }
}

extension DQN: CheckpointableLearner {
    func extraRankState() -> RankState { replay.state }
    func restoreExtraRankState(_ s: RankState) throws { try replay.restore(s) }
    func extraPayloads() -> [TensorPayload] {
        [TensorPayload(name: "rl/target", shape: [targetArena.count],
                       bytes: UnsafeRawBufferPointer(start: targetArena.values.pointer, count: targetArena.count * 4), owner: targetArena.values)]
    }
    func restoreExtra(_ checkpoint: Checkpoint) throws {
        try checkpoint.read("rl/target", into: UnsafeMutableRawBufferPointer(start: targetArena.values.pointer, count: targetArena.count * 4))
    }

    public func save(directory: String, config: [KeyValue], metadata: [KeyValue]) throws -> String? {
        try saveCheckpoint(directory: directory, config: config, metadata: metadata)
    }

    public func restore(from checkpoint: Checkpoint) throws -> [KeyValue] { try restoreCheckpoint(checkpoint) }
}
