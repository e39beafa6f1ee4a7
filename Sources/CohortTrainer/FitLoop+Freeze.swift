// Frozen parameters (`TrainerOptions.freeze`) and gradual unfreezing (`unfreezeAt`):
// a frozen parameter has `requiresGrad = false`, sits in no DDP bucket and no
// optimizer group. Unfreezing gives every parameter back its gradient, buckets
// and group; its optimizer state is still zero, as it was never updated.
import CohortCore
import CohortDistributed
import CohortNN
import CohortOptim

/// Which arena entries `options.freeze` freezes, checked: every glob matches some parameter,
/// something stays trainable, `unfreezeAt` comes with a freeze.
/// - Throws: `CohortError.invalidParameter` naming `freeze` or `unfreezeAt`.
func frozenEntries(_ o: TrainerOptions, _ arena: ParameterArena) throws -> [Bool] {
    let names = arena.entries.map(\.name)
    for glob in o.freeze where !names.contains(where: { globMatches(glob, $0) }) {
        throw CohortError.invalidParameter(name: "freeze", "'\(glob)' matches no parameter of the model (its names: "
                                           + names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", …" : "") + ")")
    }
    let frozen = names.map { name in o.freeze.contains { globMatches($0, name) } }
    if !o.freeze.isEmpty && !frozen.contains(false) {
        throw CohortError.invalidParameter(name: "freeze", "\(o.freeze.joined(separator: ",")) freezes every parameter: nothing would train")
    }
    if let u = o.unfreezeAt {
        guard !o.freeze.isEmpty else { throw CohortError.invalidParameter(name: "unfreezeAt", "needs frozen parameters (`freeze`)") }
        guard u >= 1 else { throw CohortError.invalidParameter(name: "unfreezeAt", "must be a step ≥ 1, got \(u)") }
    }
    for (t, f) in zip(arena.tensors, frozen) where f { t.requiresGrad = false }
    return frozen
}

/// `groups` without the `frozen` entries (groups left empty are dropped).
func withoutFrozen(_ groups: [ParameterGroup], _ frozen: [Bool]) -> [ParameterGroup] {
    groups.map { g in
        var g = g
        g.entries = g.entries.filter { !frozen[$0] }
        return g
    }.filter { !$0.entries.isEmpty }
}

extension FitLoop {
    /// Whether the frozen parameters train at 1-based `step`.
    func unfreezes(atStep step: Int) -> Bool { options.unfreezeAt.map { step >= $0 } ?? false }

    /// The local half of unfreezing (no communication): gradients and the optimizer's full
    /// groups back. Done before a resumed checkpoint is checked, so its grouping compares.
    func thawOptimizer() throws {
        guard frozen.contains(true), !optimizerThawed else { return }
        for (t, f) in zip(arena.tensors, frozen) where f { t.requiresGrad = true }
        try optimizer.setParameterGroups(fullGroups)
        optimizerThawed = true
    }

    /// Unfreezes before 1-based `step` when it is due: the optimizer's groups, then the gradient
    /// reduction over every parameter. Collective (the DDP buckets are rebuilt on every rank).
    func unfreezeIfDue(beforeStep step: Int) throws {
        guard frozen.contains(true), !reductionThawed, unfreezes(atStep: step) else { return }
        try thawOptimizer()
        try ddp.setTrainable(Array(repeating: true, count: frozen.count))
        if let old = reducer {
            reducer = try VirtualShardReducer(shards: old.shards, communicator: comm, elements: arena.count, wire: old.wire)
            reducer?.watchdog = trainer.supervision.watchdog
        }
        reductionThawed = true
        Log.main("step \(step): unfroze \(frozen.filter { $0 }.count) parameters (their optimizer state starts at zero)")
    }
}
