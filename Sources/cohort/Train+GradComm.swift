// `cohort train --grad-comm fp32|bf16|fp16 [--grad-comm-error-feedback] [--zero 1|2]`: the
// wire format of the data-parallel gradient exchange (CohortDistributed's
// GradientCompression.swift) and ZeRO's sharding of optimizer state and gradients
// (ZeroRedundancy.swift; docs/zero.md, docs/cli.md).
import ArgumentParser
import CohortDistributed

/// How gradients travel between ranks.
struct GradCommFlags: ParsableArguments {
    @Option(name: .customLong("grad-comm"), help: "How data-parallel gradients travel between ranks: fp32 (exact sums), bf16 or fp16 (16-bit words: half the bytes; weights, optimizer state and accumulation stay float32; fp16 with a dynamic scale, a bucket that overflows is resent in float32).") var gradComm = "fp32"
    @Option(parsing: .unconditional, help: "ZeRO: 1 shards the optimizer state across the ranks (each rank updates its shard, an allgather restores the weights), 2 shards the gradients too (reduce-scatter); 0 off. Results are those of plain data parallelism; checkpoints stay whole and resume with or without it, on any world size.") var zero = 0
    @Flag(name: .customLong("grad-comm-error-feedback"), help: "With --grad-comm bf16|fp16: keep what rounding dropped from each gradient element and add it to the next step's (per rank, not checkpointed).") var errorFeedback = false

    /// Checks the flags before anything starts: the wire, and a ZeRO stage the model can use.
    func check(model: String, deterministic: Bool) throws {
        _ = try wire(deterministic: deterministic)
        _ = try zeroStage(deterministic: deterministic)
        if zero != 0 && model == "dcgan" {
            throw ValidationError("--zero does not apply to --model dcgan: its generator and discriminator optimizers step separately (manual optimization); ZeRO shards one optimizer")
        }
    }

    /// The ZeRO stage `--zero` names; errors name the flag.
    func zeroStage(deterministic: Bool) throws -> Int {
        guard [0, 1, 2].contains(zero) else { throw ValidationError("--zero must be 0 (off), 1 (optimizer state sharded) or 2 (gradients too), got \(zero)") }
        if zero == 2 && gradComm != "fp32" && !deterministic {
            throw ValidationError("--zero 2 reduce-scatters float32 gradients; --grad-comm \(gradComm) works with --zero 1")
        }
        return zero
    }

    /// The wire `--grad-comm` names; errors name the flag.
    func wire(deterministic: Bool) throws -> GradientWire {
        guard let wire = GradientWire(rawValue: gradComm) else {
            throw ValidationError("--grad-comm must be fp32, bf16 or fp16, got '\(gradComm)'")
        }
        if errorFeedback && wire == .fp32 {
            throw ValidationError("--grad-comm-error-feedback needs --grad-comm bf16 or fp16 (float32 exchange rounds nothing)")
        }
        if deterministic && wire == .fp16 {
            throw ValidationError("--grad-comm fp16 cannot be combined with --deterministic (its dynamic scale needs an agreement the fixed summation tree does not have); use --grad-comm bf16")
        }
        return wire
    }
}
