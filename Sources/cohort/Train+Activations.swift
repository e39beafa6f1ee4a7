// `cohort train --checkpoint-activations`: transformer blocks keep only their input
// in training and recompute their activations in backward (CohortNN's
// ActivationCheckpoint.swift; docs/cli.md, docs/benchmarks.md).
import ArgumentParser
import CohortCore
import CohortNN

/// The activation-memory flag of `cohort train`.
struct ActivationFlags: ParsableArguments {
    @Flag(name: .customLong("checkpoint-activations"), help: "gpt (also --task forecast): each transformer block keeps only its input in training and recomputes its activations in backward — the same results for less memory and about one more forward pass of compute.") var checkpointActivations = false

    /// Refuses the flag for a model without transformer blocks.
    func validate(model: String) throws {
        if checkpointActivations && model != "gpt" {
            throw ValidationError("--checkpoint-activations applies to --model gpt (its transformer blocks); \(model) has none")
        }
    }

    /// Turns checkpointing on in `net`'s transformer blocks when the flag is given.
    /// - Throws: `CohortError.badFlag` when `net` has no transformer block.
    func apply(to net: any Module, model: String) throws {
        guard checkpointActivations else { return }
        let blocks = net.setActivationCheckpointing(true)
        guard blocks > 0 else {
            throw CohortError.badFlag(flag: "--checkpoint-activations", "the \(model) model built here has no transformer block to checkpoint")
        }
        Log.main("activation checkpointing: \(blocks) transformer blocks keep only their input and recompute their activations in backward")
    }
}
