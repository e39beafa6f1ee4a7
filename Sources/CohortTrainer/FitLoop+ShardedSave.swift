// Sharded periodic saves (`TrainerOptions.checkpointSharding`): every rank writes its part of
// the parameters and optimizer state — its ZeRO shard, or without ZeRO an equal page-aligned
// slice of the arena — into one temporary directory, in parallel; rank 0 writes the manifest
// naming every rank's chunks and commits (ShardedCheckpointWriter). Each phase's outcome
// reaches every rank, so all ranks agree that the save committed or throw the same error; a
// rank killed mid-save stops the job like any collective, and until rank 0's rename nothing
// of the new checkpoint is visible. The checkpoint is an ordinary one: a resume on any world
// size, with or without ZeRO, reads whatever part of each tensor it needs.
import CohortCheckpoint
import CohortCollectives
import CohortCore
import CohortDistributed
import Foundation

extension FitLoop {
    /// Whether this fit's periodic saves are sharded. Collective when sharding is wanted: rank 0
    /// writes a probe file into the directory and every rank must read it back.
    /// - Throws: `CohortError.invalidParameter(name: "checkpointSharding")` for `on` when some rank
    ///   does not see the directory (`auto` falls back to rank-0 saves with a warning).
    static func shardsCheckpoints(_ o: TrainerOptions, communicator comm: any Communicator) throws -> Bool {
        guard let directory = o.checkpointDirectory, comm.size > 1 else { return false }
        switch o.checkpointSharding {
        case .off: return false
        case .auto where o.zero == 0: return false
        case .auto, .on: break
        }
        guard let problem = try sharedDirectoryProblem(directory, comm) else { return true }
        if o.checkpointSharding == .on {
            throw CohortError.invalidParameter(name: "checkpointSharding", "on: every rank writes its part of each checkpoint into \(directory), "
                                               + "so every rank must see that directory, but \(problem)")
        }
        if comm.rank == 0 {
            Log.warning("checkpoints: \(problem); rank 0 writes each checkpoint whole (receiving the ZeRO shards) instead")
        }
        return false
    }

    /// Nil when every rank sees the file rank 0 writes in `directory`; else what went wrong, naming the rank and host.
    static func sharedDirectoryProblem(_ directory: String, _ comm: any Communicator) throws -> String? {
        var announced: [UInt8] = []
        if comm.rank == 0 {
            let token = String(UInt64.random(in: 1...UInt64.max), radix: 16)   // a unique name, not a numeric draw
            let name = ".cohort-shared-probe-\(token)"
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try Data(token.utf8).write(to: URL(fileURLWithPath: directory + "/" + name))
                announced = Array(name.utf8)
            } catch {
                announced = [0] + Array("rank 0 cannot write in it: \(error)".utf8)
            }
        }
        announced = try comm.broadcastBytes(announced, root: 0)
        if announced.first == 0 { return String(decoding: announced.dropFirst(), as: UTF8.self) }
        let name = String(decoding: announced, as: UTF8.self), path = directory + "/" + name
        let seen = (try? String(contentsOfFile: path, encoding: .utf8)).map { ".cohort-shared-probe-" + $0 == name } ?? false
        let finding = seen ? "" : "rank \(comm.rank) on \(ProcessInfo.processInfo.hostName) does not see \(path), which rank 0 wrote"
        let findings = try comm.allgatherBytes(Array(finding.utf8))
        if comm.rank == 0 { unlink(path) }
        return findings.first { !$0.isEmpty }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The arena ranges each rank writes: ZeRO's shards, else an equal page-aligned partition.
    var saveRanges: [Range<Int>] { zero?.shards ?? ZeroRedundancy.partition(arena.count, ranks: comm.size) }

    /// Collective: the sharded save of the state after `completed` steps into `store` (the periodic
    /// checkpoints, or a callback's subdirectory with `metadata`), module buffers averaged first as
    /// for a rank-0 save. Every rank returns after the commit, or throws its error.
    func saveSharded(after completed: Int, into store: TrainCheckpointing, metadata extra: [KeyValue] = []) throws {
        guard let directory = store.directory else { return }
        try ddp.averageBuffers()
        let rank0 = comm.rank == 0
        if store === checkpoints && trainer.supervision.crashesCheckpoint(atStep: completed) { CheckpointWriter.crashDuringNextSave() }
        // Phase 0, rank 0: the temporary directory (or why there is none).
        var begun: ShardedCheckpointWriter.Begun?, manifest: Manifest?
        var started: [UInt8] = []
        if rank0 {
            do {
                let m = try self.manifest(after: completed, for: store, metadata: extra)
                let buffers = (optimizer.stateBuffers.count + 1) * 4
                let planned = saveRanges.map { UInt64($0.count * buffers) }
                begun = try ShardedCheckpointWriter.begin(m, directory: directory, plannedBytes: planned)
                manifest = m
                started = Array(begun!.temporary.utf8)
            } catch {
                started = [0] + Array("\(error)".utf8)
            }
        }
        started = try comm.broadcastBytes(started, root: 0)
        if started.first == 0 {
            throw CheckpointError.io(path: directory, "the step-\(completed) checkpoint could not be started on rank 0: " + String(decoding: started.dropFirst(), as: UTF8.self))
        }
        // Phase 1, every rank: its pieces, fsync'd; the chunk tables (or errors) reach rank 0.
        var table: [UInt8]
        do {
            let pieces = TrainingCheckpoint.pieces(arena: arena, optimizer: optimizer, range: saveRanges[comm.rank], moduleBuffers: rank0)
            let records = try ShardedCheckpointWriter.writePieces(pieces, rank: comm.rank, into: String(decoding: started, as: UTF8.self))
            table = [1] + ShardedCheckpointWriter.encodeTable(records)
        } catch {
            table = [0] + Array("\(error)".utf8)
        }
        let tables = try comm.allgatherBytes(table)
        // Phase 2, rank 0: the manifest and the commit; the outcome reaches every rank.
        var outcome: [UInt8] = []
        if let begun, let manifest {
            if let bad = tables.firstIndex(where: { $0.first != 1 }) {
                ShardedCheckpointWriter.abort(begun)
                outcome = Array("rank \(bad) could not write its part: \(String(decoding: tables[bad].dropFirst(), as: UTF8.self))".utf8)
            } else {
                do {
                    let pieces = try tables.enumerated().map { try ShardedCheckpointWriter.decodeTable(Array($0.element.dropFirst()), from: $0.offset) }
                    let path = try ShardedCheckpointWriter.commit(begun, manifest: manifest, order: TrainingCheckpoint.tensorOrder(arena: arena, optimizer: optimizer),
                                                                  pieces: pieces)
                    store.committed(path)
                } catch {
                    outcome = Array("\(error)".utf8)
                }
            }
        }
        outcome = try comm.broadcastBytes(outcome, root: 0)
        guard outcome.isEmpty else {
            throw CheckpointError.io(path: directory, "the step-\(completed) checkpoint was not saved (nothing was committed): " + String(decoding: outcome, as: UTF8.self))
        }
        store.markSaved(completed)
    }
}
