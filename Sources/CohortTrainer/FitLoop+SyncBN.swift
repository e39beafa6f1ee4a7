// SyncBatchNorm in the Trainer (`TrainerOptions.syncBatchNorm`): the model's BatchNorm layers
// normalise with the global batch's statistics for the fit (CohortDistributed's SyncBatchNorm),
// and the combinations it refuses. In deterministic mode the virtual shards are what share the
// batch: a rank runs its shards in lock-step (CohortDistributed's ShardLockstep).
import CohortCollectives
import CohortCore
import CohortDistributed
import CohortNN

extension SyncBatchNorm {
    /// Installs SyncBatchNorm on `net` for a fit with `options` (collective with several ranks).
    /// Returns whether it did (false: the option is off, or one rank has nothing to synchronise),
    /// and in deterministic mode the lock-step its virtual shards run in (`FitLoop.forwardBackward`).
    /// - Throws: `CohortError.invalidParameter(name: "syncBatchNorm")` for manual optimization or a
    ///   model without BatchNorm layers (`modelName` names it).
    static func forTraining(_ options: TrainerOptions, net: any Module, modelName: String, communicator: any Communicator,
                            manual: Bool, guard collectiveGuard: CollectiveGuard) throws -> (installed: Bool, lockstep: ShardLockstep?) {
        guard options.syncBatchNorm else { return (false, nil) }
        if manual {
            throw CohortError.invalidParameter(name: "syncBatchNorm", "a module with several optimizer sets (manual optimization, e.g. dcgan) is not supported; drop --sync-bn")
        }
        let count = layers(of: net).count
        guard count > 0 else {
            throw CohortError.invalidParameter(name: "syncBatchNorm", "model '\(modelName)' has no BatchNorm layer to synchronise; drop --sync-bn (or use a model with batch norm, e.g. resnet)")
        }
        if let shards = options.virtualShards, shards % communicator.size == 0 {   // otherwise the shard reducer names the mistake
            let lockstep = try installLockstep(on: net, localShards: shards / communicator.size, communicator: communicator,
                                               collectiveGuard: collectiveGuard)
            if communicator.rank == 0 {
                Log.main("sync-bn: \(count) BatchNorm layers normalise with the statistics of all \(shards) virtual shards (\(lockstep.localShards) per rank, run in lock-step)")
            }
            return (true, lockstep)
        }
        guard communicator.size > 1 else { return (false, nil) }
        try install(on: net, communicator: communicator, collectiveGuard: collectiveGuard)
        if communicator.rank == 0 {
            Log.main("sync-bn: \(count) BatchNorm layers normalise with the statistics of the global batch (\(communicator.size) ranks)")
        }
        return (true, nil)
    }
}
