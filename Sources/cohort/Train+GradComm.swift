// `cohort train --grad-comm fp32|bf16|fp16 [--grad-comm-error-feedback]`: the wire
// format of the data-parallel gradient exchange (CohortDistributed's
// GradientCompression.swift; docs/cli.md).
import ArgumentParser
import CohortDistributed

/// How gradients travel between ranks.
struct GradCommFlags: ParsableArguments {
    @Option(name: .customLong("grad-comm"), help: "How data-parallel gradients travel between ranks: fp32 (exact sums), bf16 or fp16 (16-bit words: half the bytes; weights, optimizer state and accumulation stay float32; fp16 with a dynamic scale, a bucket that overflows is resent in float32).") var gradComm = "fp32"
    @Flag(name: .customLong("grad-comm-error-feedback"), help: "With --grad-comm bf16|fp16: keep what rounding dropped from each gradient element and add it to the next step's (per rank, not checkpointed).") var errorFeedback = false

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
