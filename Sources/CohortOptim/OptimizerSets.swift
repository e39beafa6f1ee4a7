// Several optimizers over disjoint parameter sets of one model, for manual
// optimization (a GAN's generator and discriminator, an actor and a critic):
// each set has its own optimizer, learning-rate schedule and step count, and the
// sets together behave as one `Optimizer` to checkpoints (every set's state
// buffers and step count saved and restored) and to callbacks (the first set's
// learning rate). Every optimizer is over the whole arena with groups limited to
// its set, so its state buffers are arena-sized, as checkpoints lay them out.
import CohortCore
import CohortKernels
import CohortNN
import CohortTensor

/// One named parameter set with its optimizer and schedule.
public struct OptimizerSet {
    /// The set's name (`generator`): `ManualStep.optimize` names it; its optimizer state is saved as `NAME.BUFFER`.
    public let name: String
    /// The set's parameters: indices into the arena's `entries`, ascending.
    public let entries: [Int]
    public let optimizer: any Optimizer
    public let schedule: any LRSchedule

    /// The set `name` of `entries`, updated by `optimizer` (built over the model's whole arena; its parameter
    /// groups are narrowed to `entries`, keeping each group's learning-rate multiplier and weight decay) on `schedule`.
    /// - Throws: `CohortError.invalidParameter(name: "optimizerSets")` for an empty name or set, or an entry the arena lacks.
    public init(_ name: String, entries: [Int], optimizer: any Optimizer, schedule: any LRSchedule) throws {
        let arena = optimizer.arena
        guard !name.isEmpty, !name.contains("/") else {
            throw CohortError.invalidParameter(name: "optimizerSets", "a set's name must be non-empty and without '/', got '\(name)'")
        }
        guard !entries.isEmpty else { throw CohortError.invalidParameter(name: "optimizerSets", "set \(name) has no parameters") }
        if let bad = entries.first(where: { !arena.entries.indices.contains($0) }) {
            throw CohortError.invalidParameter(name: "optimizerSets", "set \(name) names entry \(bad); the model has \(arena.entries.count)")
        }
        let members = Set(entries)
        let narrowed = optimizer.parameterGroups.map { ParameterGroup(entries: $0.entries.filter(members.contains), lrScale: $0.lrScale, weightDecay: $0.weightDecay) }
        let groups = narrowed.filter { !$0.entries.isEmpty }
        if groups.flatMap(\.entries).count != members.count {
            throw CohortError.invalidParameter(name: "optimizerSets", "set \(name): \(members.count - groups.flatMap(\.entries).count) of its parameters are in none of its optimizer's groups")
        }
        try optimizer.setParameterGroups(groups)
        self.name = name
        self.entries = members.sorted()
        self.optimizer = optimizer
        self.schedule = schedule
    }

    /// The set of every parameter whose dotted name starts with `prefix` (`generator.`).
    /// - Throws: `CohortError.invalidParameter(name: "optimizerSets")` when no parameter matches, naming a few that exist.
    public init(_ name: String, prefix: String, optimizer: any Optimizer, schedule: any LRSchedule) throws {
        let arena = optimizer.arena
        let entries = arena.entries.indices.filter { arena.entries[$0].name.hasPrefix(prefix) }
        guard !entries.isEmpty else {
            let some = arena.entries.prefix(4).map(\.name).joined(separator: ", ")
            throw CohortError.invalidParameter(name: "optimizerSets", "set \(name): no parameter name starts with '\(prefix)' (the model has \(some)…)")
        }
        try self.init(name, entries: entries, optimizer: optimizer, schedule: schedule)
    }

    /// The arena element ranges of the set, ascending: each entry's values and the alignment padding up to
    /// the next entry when that entry is in the set too (padding gradients are always zero), neighbours merged.
    public var ranges: [Range<Int>] {
        let arena = optimizer.arena, members = Set(entries)
        var out: [Range<Int>] = []
        for e in entries {
            let start = arena.entries[e].offset
            let end = members.contains(e + 1) ? arena.entries[e + 1].offset : start + arena.entries[e].count
            if let last = out.last, last.upperBound == start { out[out.count - 1] = last.lowerBound..<end } else { out.append(start..<end) }
        }
        return out
    }
}

/// Disjoint optimizer sets acting as one `Optimizer` for checkpoints and callbacks. In manual
/// optimization the Trainer steps each set when the module asks (`ManualStep.optimize`); `step()`
/// here steps every set, for use outside the Trainer.
public final class OptimizerSets: Optimizer {
    public let sets: [OptimizerSet]
    public let arena: ParameterArena

    /// - Throws: `CohortError.invalidParameter(name: "optimizerSets")` when there are no sets, two share a name,
    ///   a parameter is in two sets, or the sets' optimizers are over different models.
    public init(_ sets: [OptimizerSet]) throws {
        guard let first = sets.first else { throw CohortError.invalidParameter(name: "optimizerSets", "manual optimization needs at least one optimizer set") }
        var owner: [Int: String] = [:]
        for s in sets {
            guard s.optimizer.arena === first.optimizer.arena else {
                throw CohortError.invalidParameter(name: "optimizerSets", "set \(s.name)'s optimizer is over another model's parameters than set \(first.name)'s")
            }
            guard sets.filter({ $0.name == s.name }).count == 1 else { throw CohortError.invalidParameter(name: "optimizerSets", "two sets are named \(s.name)") }
            for e in s.entries {
                if let other = owner[e] {
                    throw CohortError.invalidParameter(name: "optimizerSets", "\(first.optimizer.arena.entries[e].name) is in sets \(other) and \(s.name)")
                }
                owner[e] = s.name
            }
        }
        self.sets = sets
        arena = first.optimizer.arena
    }

    /// The set named `name`.
    /// - Throws: `CohortError.invalidParameter(name: "optimizerSets")` naming the sets there are.
    public func set(_ name: String) throws -> OptimizerSet {
        guard let s = sets.first(where: { $0.name == name }) else {
            throw CohortError.invalidParameter(name: "optimizerSets", "no optimizer set is named \(name) (there are \(sets.map(\.name).joined(separator: ", ")))")
        }
        return s
    }

    /// The first set's learning rate; setting it sets every set's (its schedule sets it again before the set's next step).
    public var learningRate: Float {
        get { sets[0].optimizer.learningRate }
        set { for s in sets { s.optimizer.learningRate = newValue } }
    }

    /// The most steps any set has taken.
    public var stepCount: Int { sets.map(\.optimizer.stepCount).max() ?? 0 }
    public func setStepCount(_ step: Int) { for s in sets { s.optimizer.setStepCount(step) } }

    /// Restores each set's own step count from the hyper-parameters a checkpoint recorded (`NAME.step`).
    public func restoreStepCounts(_ saved: [HyperParameter]) {
        for s in sets { if let n = saved.first(where: { $0.name == "\(s.name).step" }) { s.optimizer.setStepCount(Int(n.value)) } }
    }

    /// Steps every set (each at its current learning rate).
    public func step() { for s in sets { s.optimizer.step() } }

    /// `sets[NAME=KIND,…]`, e.g. `sets[discriminator=adam,generator=adam]`: a resume needs the same sets and kinds.
    public var kind: String { "sets[" + sets.map { "\($0.name)=\($0.optimizer.kind)" }.joined(separator: ",") + "]" }

    /// Every set's hyper-parameters and step count, prefixed with its name (`generator.lr`, `generator.step`).
    public var hyperParameters: [HyperParameter] {
        sets.flatMap { s in s.optimizer.hyperParameters.map { HyperParameter("\(s.name).\($0.name)", $0.value) } + [HyperParameter("\(s.name).step", Double(s.optimizer.stepCount))] }
    }

    /// Every set's buffers, named `NAME.BUFFER` (`generator.exp_avg`).
    public var stateBuffers: [(name: String, storage: Storage)] {
        sets.flatMap { s in s.optimizer.stateBuffers.map { ("\(s.name).\($0.name)", $0.storage) } }
    }

    public var parameterGroups: [ParameterGroup] { sets.flatMap(\.optimizer.parameterGroups) }

    /// Every set keeps state for the whole arena (optimizer sets are not sharded).
    public var shardRange: Range<Int> { 0..<arena.count }

    /// Manual optimization steps each set when the module asks; ZeRO's allgather after every
    /// step does not fit that, so sets are not sharded.
    public func shard(_ range: Range<Int>) throws {
        throw CohortError.invalidParameter(name: "zero", "a module with several optimizer sets (manual optimization) cannot shard its optimizer state; drop --zero")
    }

    /// Sets are fixed when they are made: freezing takes a parameter out of its set instead.
    public func setParameterGroups(_ groups: [ParameterGroup]) throws {
        throw CohortError.invalidParameter(name: "freeze", "cannot freeze parameters of a model trained with optimizer sets: leave them out of every set instead")
    }
}

extension OptimizerSet {
    /// The L2 norm of the set's gradients; above `maxNorm` (and finite) they are scaled down to it,
    /// as `clipGradNorm` does for a whole model. Returns the norm before clipping.
    public func clipGradNorm(maxNorm: Float) -> Float {
        let grads = optimizer.arena.grads.pointer
        let norm = ranges.reduce(Float(0)) { $0 + Reduce.sumSquares($1.count, grads + $1.lowerBound) }.squareRoot()
        if maxNorm > 0 && norm > maxNorm && norm.isFinite {
            for r in ranges { Elementwise.scale(r.count, alpha: maxNorm / (norm + 1e-6), grads + r.lowerBound) }
        }
        return norm
    }

    /// The first of the set's parameters whose gradient holds a NaN or infinity, if any.
    public func firstNonFiniteGrad() -> String? {
        let arena = optimizer.arena
        for e in entries {
            let entry = arena.entries[e], p = arena.grads.pointer + entry.offset
            for i in 0..<entry.count where !p[i].isFinite { return "\(entry.name) (gradient element \(i) is \(p[i]))" }
        }
        return nil
    }
}
