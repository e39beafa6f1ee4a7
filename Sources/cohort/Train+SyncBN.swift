// `cohort train --sync-bn`: SyncBatchNorm, batch norm over the global batch (CohortDistributed's
// SyncBatchNorm.swift; docs/scaling.md "SyncBatchNorm", docs/cli.md). The Trainer refuses a model
// without BatchNorm layers by name; dcgan is refused here, before MPI starts. With --deterministic
// the statistics are those of every virtual shard, combined in shard order (bitwise for any world size).
import ArgumentParser
import CohortCheckpoint

/// Whether BatchNorm layers synchronise their statistics across ranks.
struct SyncBNFlags: ParsableArguments {
    @Flag(name: .customLong("sync-bn"), help: "SyncBatchNorm: BatchNorm layers normalise with the mean and variance of the global batch (every rank's samples), so running statistics and updates match one process; two small collectives per BatchNorm layer per step. With --deterministic: over the virtual shards, each rank's run in lock-step, bitwise for every world size dividing --virtual-shards.") var syncBN = false

    /// Refuses the combinations SyncBatchNorm does not support; errors name the flags.
    func check(model: String) throws {
        guard syncBN else { return }
        if model == "dcgan" {
            throw ValidationError("--sync-bn does not apply to --model dcgan: its generator and discriminator step separately (manual optimization), which SyncBatchNorm does not support")
        }
    }

    /// The run's config entry (absent without the flag, so older checkpoints still resume).
    var config: [KeyValue] { syncBN ? [KeyValue("sync_bn", "on")] : [] }
}
