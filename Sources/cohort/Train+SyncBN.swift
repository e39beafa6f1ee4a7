// `cohort train --sync-bn`: SyncBatchNorm, batch norm over the global batch (CohortDistributed's
// SyncBatchNorm.swift; docs/scaling.md "SyncBatchNorm", docs/cli.md). The Trainer refuses a model
// without BatchNorm layers by name; deterministic mode and dcgan are refused here, before MPI starts.
import ArgumentParser
import CohortCheckpoint

/// Whether BatchNorm layers synchronise their statistics across ranks.
struct SyncBNFlags: ParsableArguments {
    @Flag(name: .customLong("sync-bn"), help: "SyncBatchNorm: BatchNorm layers normalise with the mean and variance of the global batch (every rank's samples), so running statistics and updates match one process; two small collectives per BatchNorm layer per step. Not with --deterministic.") var syncBN = false

    /// Refuses the combinations SyncBatchNorm does not support; errors name the flags.
    func check(model: String, deterministic: Bool) throws {
        guard syncBN else { return }
        if deterministic {
            throw ValidationError("--sync-bn cannot be combined with --deterministic: each rank runs its virtual shards one after another, so a shard's batch norm cannot see the statistics of the shards after it; drop one of the two")
        }
        if model == "dcgan" {
            throw ValidationError("--sync-bn does not apply to --model dcgan: its generator and discriminator step separately (manual optimization), which SyncBatchNorm does not support")
        }
    }

    /// The run's config entry (absent without the flag, so older checkpoints still resume).
    var config: [KeyValue] { syncBN ? [KeyValue("sync_bn", "on")] : [] }
}
