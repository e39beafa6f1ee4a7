// `cohort train`'s flags for how checkpoints are written: in the background, and by
// which ranks (docs/checkpoint-format.md, "Sharded saves").
import ArgumentParser
import CohortTrainer

struct CheckpointWriteFlags: ParsableArguments {
    @Flag(name: .customLong("async-checkpoint"), help: "Write checkpoints in the background while training continues.") var asyncCheckpoint = false
    @Option(name: .customLong("checkpoint-sharding"), help: "Who writes each checkpoint with several ranks: on (every rank its part of the parameters and optimizer state, in parallel, into a directory every rank must see; rank 0 the manifest), off (rank 0 all of it), auto (on under --zero when the directory is shared).")
    var checkpointSharding = "auto"

    func sharding() throws -> CheckpointSharding {
        guard let s = CheckpointSharding(rawValue: checkpointSharding) else {
            throw ValidationError("--checkpoint-sharding must be auto, on or off, got '\(checkpointSharding)'")
        }
        return s
    }
}
