// ZeRO in the Trainer: which stage a fit runs (`TrainerOptions.zero`) and the combinations it
// refuses. The loop's phases call the shards directly: DataParallel reduce-scatters (stage 2),
// the optimizer steps its shard and `ZeroRedundancy.gatherParameters` follows, and saves gather
// the optimizer state on rank 0 (FitLoop+Checkpoint's `prepareSave`).
import CohortCollectives
import CohortCore
import CohortDistributed
import CohortNN

extension ZeroRedundancy {
    /// The shards a fit with `options` uses (nil: `zero` is 0, or one rank has nothing to shard).
    /// Stage 2 shards gradients unless deterministic mode's fixed tree reduces them (it gives
    /// every rank all of them; stage 2 then saves what stage 1 saves).
    /// - Throws: `CohortError.invalidParameter(name: "zero")` naming what does not combine.
    static func forTraining(_ options: TrainerOptions, arena: ParameterArena, communicator: any Communicator,
                            manual: Bool, guard collectiveGuard: CollectiveGuard) throws -> ZeroRedundancy? {
        guard options.zero != 0 else { return nil }
        guard options.zero == 1 || options.zero == 2 else {
            throw CohortError.invalidParameter(name: "zero", "\(options.zero): ZeRO stages are 1 (optimizer state sharded) and 2 (gradients too); 0 turns it off")
        }
        if manual {
            throw CohortError.invalidParameter(name: "zero", "a module with several optimizer sets (manual optimization, e.g. dcgan) steps each set when it asks; ZeRO shards one optimizer: drop --zero")
        }
        let deterministic = options.virtualShards != nil
        if options.zero == 2 && !deterministic && options.gradientWire != .fp32 {
            throw CohortError.invalidParameter(name: "zero", "stage 2 reduce-scatters float32 gradients; --grad-comm \(options.gradientWire.rawValue) works with --zero 1")
        }
        guard communicator.size > 1 else { return nil }
        return try ZeroRedundancy(stage: options.zero, arena: arena, communicator: communicator,
                                  shardsGradients: options.zero == 2 && !deterministic, collectiveGuard: collectiveGuard)
    }
}
