// SyncBatchNorm in the Trainer (`TrainerOptions.syncBatchNorm`): the model's BatchNorm layers
// normalise with the global batch's statistics for the fit (CohortDistributed's SyncBatchNorm),
// and the combinations it refuses. Deterministic mode runs each rank's virtual shards one
// after another, so no shard's forward can see the statistics of the shards that follow.
import CohortCollectives
import CohortCore
import CohortDistributed
import CohortNN

extension SyncBatchNorm {
    /// Installs SyncBatchNorm on `net` for a fit with `options` (collective with several ranks);
    /// returns whether it did (false: the option is off, or one rank has nothing to synchronise).
    /// - Throws: `CohortError.invalidParameter(name: "syncBatchNorm")` for deterministic mode,
    ///   manual optimization, or a model without BatchNorm layers (`modelName` names it).
    static func forTraining(_ options: TrainerOptions, net: any Module, modelName: String, communicator: any Communicator,
                            manual: Bool, guard collectiveGuard: CollectiveGuard) throws -> Bool {
        guard options.syncBatchNorm else { return false }
        if options.virtualShards != nil {
            throw CohortError.invalidParameter(name: "syncBatchNorm", "cannot be combined with `deterministic`: each rank runs its virtual shards one after another, so a shard's batch norm cannot see the statistics of the shards after it; drop one of the two")
        }
        if manual {
            throw CohortError.invalidParameter(name: "syncBatchNorm", "a module with several optimizer sets (manual optimization, e.g. dcgan) is not supported; drop --sync-bn")
        }
        let count = layers(of: net).count
        guard count > 0 else {
            throw CohortError.invalidParameter(name: "syncBatchNorm", "model '\(modelName)' has no BatchNorm layer to synchronise; drop --sync-bn (or use a model with batch norm, e.g. resnet)")
        }
        guard communicator.size > 1 else { return false }
        try install(on: net, communicator: communicator, collectiveGuard: collectiveGuard)
        if communicator.rank == 0 {
            Log.main("sync-bn: \(count) BatchNorm layers normalise with the statistics of the global batch (\(communicator.size) ranks)")
        }
        return true
    }
}
