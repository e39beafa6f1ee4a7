// Mapping a training run onto checkpoint tensors: every parameter and every module
// buffer (BatchNorm running statistics) is stored as `model/<name>`, as in a
// PyTorch state_dict, and every optimizer buffer as `optimizer/<buffer>/<name>`, one
// record per parameter (not the padded arena), so a checkpoint can be checked
// name by name against a model and later resharded.
import CohortNN
import CohortOptim
import CohortTensor

/// Saves and restores model parameters and optimizer state.
public enum TrainingCheckpoint {
    /// Payloads pointing straight into the arena and optimizer buffers (no copy):
    /// valid until the next optimizer step.
    /// `state` (arena-sized buffers named like `optimizer.stateBuffers`) replaces the optimizer's own
    /// buffers, e.g. the whole state gathered from a ZeRO-sharded optimizer's ranks.
    public static func payloads(arena: ParameterArena, optimizer: (any Optimizer)?,
                                state: [(name: String, storage: Storage)]? = nil) -> [TensorPayload] {
        payloads(arena, values: arena.values, buffers: arena.buffers, state: state ?? wholeState(optimizer))
    }

    /// Copies of the parameters and optimizer buffers (one memcpy per arena-sized
    /// buffer), for a background writer while training continues.
    /// `state` as in `payloads` (taken as it is: it is a copy already).
    public static func snapshot(arena: ParameterArena, optimizer: (any Optimizer)?,
                                state: [(name: String, storage: Storage)]? = nil) -> [TensorPayload] {
        func copy(_ s: Storage) -> Storage {
            let c = Storage(count: s.count)
            c.pointer.update(from: s.pointer, count: s.count)
            return c
        }
        return payloads(arena, values: copy(arena.values), buffers: copy(arena.buffers),
                        state: state ?? wholeState(optimizer).map { ($0.name, copy($0.storage)) })
    }

    /// Every record of the state in `values`, `buffers` and `state` (laid out like `arena`), in
    /// `tensorOrder`'s order, pointing into those buffers.
    private static func payloads(_ arena: ParameterArena, values: Storage, buffers: Storage,
                                 state: [(name: String, storage: Storage)]) -> [TensorPayload] {
        func whole(_ name: String, _ e: ArenaEntry, _ storage: Storage) -> TensorPayload {
            TensorPayload(name: name, shape: e.shape,
                          bytes: UnsafeRawBufferPointer(start: storage.pointer + e.offset, count: e.count * 4), owner: storage)
        }
        var out = arena.entries.map { whole(RecordName.model($0.name), $0, values) }
        out += arena.bufferEntries.map { whole(RecordName.model($0.name), $0, buffers) }
        for (buffer, storage) in state {
            out += arena.entries.map { whole(RecordName.optimizer(buffer, $0.name), $0, storage) }
        }
        return out
    }

    /// The tensors a checkpoint of this state holds, in `payloads`' order: what a sharded save's
    /// pieces must add up to.
    public static func tensorOrder(arena: ParameterArena, optimizer: (any Optimizer)?) -> [(name: String, shape: [Int], dtype: DType)] {
        var out = arena.entries.map { (RecordName.model($0.name), $0.shape, DType.float32) }
        out += arena.bufferEntries.map { (RecordName.model($0.name), $0.shape, DType.float32) }
        for buffer in optimizer?.stateBuffers.map(\.name) ?? [] {
            out += arena.entries.map { (RecordName.optimizer(buffer, $0.name), $0.shape, DType.float32) }
        }
        return out
    }

    /// This rank's pieces of a sharded save (no copy: valid until the next optimizer step): the
    /// elements of every parameter and optimizer buffer that fall in `range` of the arena, and
    /// (`moduleBuffers`, one rank) the module buffers whole. A ZeRO-sharded optimizer's `range`
    /// must lie in its shard. Empty tensors go with the module buffers' writer.
    public static func pieces(arena: ParameterArena, optimizer: (any Optimizer)?, range: Range<Int>,
                              moduleBuffers: Bool) -> [TensorPayload] {
        var out: [TensorPayload] = []
        func add(_ name: String, _ e: ArenaEntry, _ storage: Storage, base: Int) {
            let mine = (e.offset..<(e.offset + e.count)).clamped(to: range)
            guard !mine.isEmpty || (e.count == 0 && moduleBuffers) else { return }
            let start = mine.isEmpty ? e.offset : mine.lowerBound
            out.append(TensorPayload(name: name, shape: e.shape,
                                     bytes: UnsafeRawBufferPointer(start: storage.pointer + (start - base), count: mine.count * 4),
                                     owner: storage, elements: (start - e.offset)..<(start - e.offset + mine.count)))
        }
        for e in arena.entries { add(RecordName.model(e.name), e, arena.values, base: 0) }
        if moduleBuffers {
            for e in arena.bufferEntries {
                out.append(TensorPayload(name: RecordName.model(e.name), shape: e.shape,
                                         bytes: UnsafeRawBufferPointer(start: arena.buffers.pointer + e.offset, count: e.count * 4),
                                         owner: arena.buffers))
            }
        }
        if let o = optimizer {
            precondition(o.shardRange.lowerBound <= range.lowerBound && range.upperBound <= o.shardRange.upperBound || range.isEmpty,
                         "a sharded save's range \(range) must lie in the optimizer's shard \(o.shardRange)")
            for (buffer, storage) in o.stateBuffers {
                for e in arena.entries { add(RecordName.optimizer(buffer, e.name), e, storage, base: o.shardRange.lowerBound) }
            }
        }
        return out
    }

    /// The optimizer's buffers, which must cover the whole arena (a ZeRO-sharded optimizer's are
    /// gathered first and passed as `state`).
    static func wholeState(_ optimizer: (any Optimizer)?) -> [(name: String, storage: Storage)] {
        guard let optimizer else { return [] }
        precondition(optimizer.shardRange == 0..<optimizer.arena.count, "a sharded optimizer's state must be gathered before saving")
        return optimizer.stateBuffers
    }

    /// The optimizer part of the manifest.
    public static func optimizerRecord(_ o: any Optimizer) -> OptimizerRecord {
        var r = OptimizerRecord()
        r.kind = o.kind
        r.hyperParameters = (o.hyperParameters + o.parameterGroupRecord).map { NamedValue($0.name, $0.value) }
        r.step = o.stepCount
        r.buffers = o.stateBuffers.map(\.name)
        return r
    }

    /// Checks that `checkpoint` holds exactly this model's parameters (names and
    /// shapes) and, if given, this optimizer's kind, buffers and parameter groups (their learning-rate
    /// multipliers only unless `groupLearningRatesMayChange`); the error names the first tensor
    /// that differs and how.
    public static func checkCompatible(_ checkpoint: Checkpoint, arena: ParameterArena, optimizer: (any Optimizer)?,
                                       groupLearningRatesMayChange: Bool = false) throws {
        let m = checkpoint.manifest
        let path = checkpoint.path
        var expected: [String: [Int]] = [:]
        for e in arena.entries + arena.bufferEntries { expected[RecordName.model(e.name)] = e.shape }
        if let o = optimizer {
            guard m.optimizer.kind == o.kind else {
                throw CheckpointError.mismatch(path: path, "it was saved with optimizer \(m.optimizer.kind.isEmpty ? "none" : m.optimizer.kind), this run uses \(o.kind)")
            }
            guard m.optimizer.buffers == o.stateBuffers.map(\.name) else {
                throw CheckpointError.mismatch(path: path, "optimizer buffers \(m.optimizer.buffers) differ from this run's \(o.stateBuffers.map(\.name))")
            }
            for b in o.stateBuffers.map(\.name) { for e in arena.entries { expected[RecordName.optimizer(b, e.name)] = e.shape } }
            let saved = m.optimizer.hyperParameters.map { HyperParameter($0.name, $0.value) }
            if let why = o.parameterGroupMismatch(saved, ignoringLearningRates: groupLearningRatesMayChange) {
                throw CheckpointError.mismatch(path: path, why)
            }
        }
        for e in arena.entries {
            guard let t = checkpoint.record(RecordName.model(e.name)) else {
                throw CheckpointError.mismatch(path: path, "the model's parameter \(e.name) \(e.shape) is not in the checkpoint (saved model: \(m.model.name), \(m.model.parameterCount) parameters)")
            }
            guard t.shape == e.shape else {
                throw CheckpointError.mismatch(path: path, "parameter \(e.name) has shape \(t.shape) in the checkpoint but \(e.shape) in the model")
            }
            guard t.dtype == .float32 else { throw CheckpointError.mismatch(path: path, "parameter \(e.name) is \(t.dtype) in the checkpoint, not float32") }
        }
        for e in arena.bufferEntries {
            guard let t = checkpoint.record(RecordName.model(e.name)) else {
                throw CheckpointError.mismatch(path: path, "the model's buffer \(e.name) \(e.shape) is not in the checkpoint (saved model: \(m.model.name))")
            }
            guard t.shape == e.shape, t.dtype == .float32 else {
                throw CheckpointError.mismatch(path: path, "buffer \(e.name) is \(t.dtype) \(t.shape) in the checkpoint but float32 \(e.shape) in the model")
            }
        }
        for t in m.tensors where RecordName.modelTensor(of: t.name) != nil || (optimizer != nil && RecordName.isOptimizer(t.name)) {
            guard let shape = expected[t.name] else {
                throw CheckpointError.mismatch(path: path, "the checkpoint holds \(t.name) \(t.shape), which this model/optimizer does not have")
            }
            guard shape == t.shape else {
                throw CheckpointError.mismatch(path: path, "\(t.name) has shape \(t.shape) in the checkpoint but \(shape) here")
            }
        }
    }

    /// Loads parameters and buffers (and optimizer buffers and step) in place, after `checkCompatible`;
    /// a ZeRO-sharded optimizer takes only its shard of each buffer. Every chunk's CRC is verified as it is read.
    public static func restore(_ checkpoint: Checkpoint, arena: ParameterArena, optimizer: (any Optimizer)?,
                               groupLearningRatesMayChange: Bool = false) throws {
        try checkCompatible(checkpoint, arena: arena, optimizer: optimizer, groupLearningRatesMayChange: groupLearningRatesMayChange)
        for e in arena.entries {
            try checkpoint.read(RecordName.model(e.name), into: UnsafeMutableRawBufferPointer(start: arena.values.pointer + e.offset, count: e.count * 4))
        }
        for e in arena.bufferEntries {
            try checkpoint.read(RecordName.model(e.name), into: UnsafeMutableRawBufferPointer(start: arena.buffers.pointer + e.offset, count: e.count * 4))
        }
        if let o = optimizer {
            let shard = o.shardRange
            for (buffer, storage) in o.stateBuffers {
                for e in arena.entries {
                    let name = RecordName.optimizer(buffer, e.name), wanted = (e.offset..<(e.offset + e.count)).clamped(to: shard)
                    guard !wanted.isEmpty else { continue }
                    let destination = storage.pointer + (wanted.lowerBound - shard.lowerBound)
                    if wanted.count == e.count {
                        try checkpoint.read(name, into: UnsafeMutableRawBufferPointer(start: destination, count: e.count * 4))
                    } else {   // a ZeRO shard boundary cuts this tensor: read it whole, keep this rank's part
                        var whole = [Float](repeating: 0, count: e.count)
                        try whole.withUnsafeMutableBytes { try checkpoint.read(name, into: $0) }
                        whole.withUnsafeBufferPointer { destination.update(from: $0.baseAddress! + (wanted.lowerBound - e.offset), count: wanted.count) }
                    }
                }
            }
            o.setStepCount(checkpoint.manifest.optimizer.step)
            // Optimizer sets step separately: each set's own count is among the hyper-parameters.
            (o as? OptimizerSets)?.restoreStepCounts(checkpoint.manifest.optimizer.hyperParameters.map { HyperParameter($0.name, $0.value) })
        }
    }
}
