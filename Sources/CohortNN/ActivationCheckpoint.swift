// Activation checkpointing for modules (`--checkpoint-activations`): a module's
// forward recorded as one op that keeps only its input and is recomputed in
// backward (Tensor+Checkpoint.swift), with the generators of its random layers
// (Dropout) rewound so the recomputation draws the same masks.
import CohortCore
import CohortTensor

extension Module {
    /// Runs `body` (this module's computation on `inputs`) as one checkpointed op over this
    /// module's parameters: in training the intermediate activations are not kept but
    /// recomputed in backward. The `RandomStateful` layers under this module (Dropout) are
    /// rewound to their state before the first call for the recomputation, then set back to
    /// where the first call left them, so the masks are the same and later draws unchanged.
    /// Without a recorded graph (evaluation, `withNoGrad`) `body` simply runs.
    /// - Throws: what `body` throws; see `Tensor.checkpoint`.
    public func withActivationCheckpoint(_ name: String = "checkpoint", inputs: [Tensor],
                                         _ body: @escaping ([Tensor]) throws -> Tensor) throws -> Tensor {
        let params = parameters()
        guard GradMode.isEnabled, params.contains(where: \.requiresGrad) || inputs.contains(where: \.requiresGrad) else {
            return try body(inputs)
        }
        let before = namedRandomStates()
        var recomputing = false
        return try Tensor.checkpoint(name, inputs: inputs, parameters: params) { xs in
            guard recomputing, !before.isEmpty else {
                recomputing = true
                return try body(xs)
            }
            let after = self.namedRandomStates()
            try self.restoreRandomStates(before)
            defer { try? self.restoreRandomStates(after) }   // the states were read from this module: they fit
            return try body(xs)
        }
    }

    /// This module's forward on `x` as one checkpointed op (`withActivationCheckpoint`).
    public func checkpointed(_ x: Tensor) throws -> Tensor {
        try withActivationCheckpoint(inputs: [x]) { xs in try self.forward(xs[0]) }
    }
}

extension Module {
    /// Sets activation checkpointing on every `TransformerBlock` in this module tree (a GPT's
    /// blocks, the transformer forecaster's) and returns how many blocks there are.
    @discardableResult
    public func setActivationCheckpointing(_ on: Bool) -> Int {
        var blocks = 0
        func visit(_ m: any Module) {
            if let b = m as? TransformerBlock { b.checkpointActivations = on; blocks += 1 }
            for (_, c) in m.children { visit(c) }
        }
        visit(self)
        return blocks
    }
}
