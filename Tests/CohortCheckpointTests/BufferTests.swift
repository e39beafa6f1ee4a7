// Module buffers (BatchNorm running statistics) are model state: saved as
// `model/<name>` beside the parameters, restored bitwise, and required on load.
@testable import CohortCheckpoint
import CohortNN
import CohortOptim
import CohortTensor
import Foundation
import Testing

extension CheckpointTests {
    @Suite struct Buffers {
        /// Linear 4→3, BatchNorm1d(3): running statistics under `1.running_mean`/`1.running_var`.
        func model(seed: UInt64) -> Sequential {
            var g = RandomGenerator(seed: seed)
            return Sequential([Linear(4, 3, generator: &g), BatchNorm1d(3)])
        }

        @Test func runningStatisticsRoundTripAndDecideEvalOutput() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let net = model(seed: 1)
            let arena = ParameterArena(net)
            #expect(arena.bufferEntries.map(\.name) == ["1.running_mean", "1.running_var"])
            let x = try Tensor((0..<32).map { Float(($0 * 7) % 11) - 4 }, shape: [8, 4])
            for _ in 0..<3 { _ = try net(x) }   // training mode: the statistics move away from 0 and 1
            let stats = arena.buffers.pointer
            #expect(stats[0] != 0 && stats[16] != 1, "running statistics were not updated in the arena")
            let path = try CheckpointWriter.write(Manifest(), tensors: TrainingCheckpoint.payloads(arena: arena, optimizer: nil), directory: dir.path)
            let c = try Checkpoint(path: path)
            #expect(c.manifest.tensors.map(\.name) == ["model/0.weight", "model/0.bias", "model/1.weight", "model/1.bias",
                                                        "model/1.running_mean", "model/1.running_var"])

            let other = model(seed: 2)
            let otherArena = ParameterArena(other)
            try TrainingCheckpoint.restore(c, arena: otherArena, optimizer: nil)
            #expect(otherArena.sha256() == arena.sha256())
            net.eval(); other.eval()
            #expect(try net(x).scalars == other(x).scalars, "eval mode must use the restored running statistics")
        }

        @Test func missingBufferIsNamed() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            // A checkpoint whose running variance went missing (say, written by another tool).
            let arena = ParameterArena(model(seed: 1))
            var payloads = TrainingCheckpoint.payloads(arena: arena, optimizer: nil)
            payloads.removeAll { $0.name == "model/1.running_var" }
            let path = try CheckpointWriter.write(Manifest(), tensors: payloads, directory: dir.path)
            let c = try Checkpoint(path: path)
            let message = checkpointError { try TrainingCheckpoint.restore(c, arena: ParameterArena(model(seed: 3)), optimizer: nil) }
                .map { "\($0)" } ?? ""
            #expect(message.contains("buffer 1.running_var") && message.contains("[3]"), "\(message)")
        }
    }
}
