// Restoring into a model or optimizer that differs from the one saved must fail
// before anything is overwritten, naming the tensor and both shapes (or both
// optimizer kinds); a matching model restores bitwise, optimizer state included.
@testable import CohortCheckpoint
import CohortNN
import CohortOptim
import CohortTensor
import Foundation
import Testing

extension CheckpointTests {
    @Suite struct Compatibility {
        func mlp(_ widths: [Int], seed: UInt64 = 1, bias: Bool = true) -> Sequential {
            var g = RandomGenerator(seed: seed)
            var layers: [any Module] = []
            for (a, b) in zip(widths, widths.dropFirst()) {
                layers.append(Linear(a, b, bias: bias, generator: &g))
                layers.append(ReLU())
            }
            return Sequential(Array(layers.dropLast()))
        }

        /// Saves a 6-5-3 MLP with Adam after one step; returns the checkpoint.
        func saved(_ dir: Scratch) throws -> (Checkpoint, ParameterArena, Adam) {
            let arena = ParameterArena(mlp([6, 5, 3]))
            let adam = Adam(arena, lr: 0.01)
            // Gradients on the parameters only: the arena's alignment padding is not saved.
            for e in arena.entries { for i in 0..<e.count { arena.grads.pointer[e.offset + i] = Float(i % 7) - 3 } }
            adam.step()
            var m = Manifest()
            m.step = 1
            m.optimizer = TrainingCheckpoint.optimizerRecord(adam)
            let path = try CheckpointWriter.write(m, tensors: TrainingCheckpoint.payloads(arena: arena, optimizer: adam), directory: dir.path)
            return (try Checkpoint(path: path), arena, adam)
        }

        func mismatch(_ body: () throws -> Void) -> String? {
            guard let e = checkpointError(body) else { return nil }
            guard case .mismatch = e else { Issue.record("expected .mismatch, got \(e)"); return nil }
            return "\(e)"
        }

        @Test func matchingModelRestoresBitwise() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let (c, arena, adam) = try saved(dir)
            #expect(c.manifest.tensors.map(\.name) == ["model/0.weight", "model/0.bias", "model/2.weight", "model/2.bias",
                                                        "optimizer/exp_avg/0.weight", "optimizer/exp_avg/0.bias",
                                                        "optimizer/exp_avg/2.weight", "optimizer/exp_avg/2.bias",
                                                        "optimizer/exp_avg_sq/0.weight", "optimizer/exp_avg_sq/0.bias",
                                                        "optimizer/exp_avg_sq/2.weight", "optimizer/exp_avg_sq/2.bias"])
            let other = ParameterArena(mlp([6, 5, 3], seed: 99))
            let otherAdam = Adam(other, lr: 0.01)
            try TrainingCheckpoint.restore(c, arena: other, optimizer: otherAdam)
            #expect(other.sha256() == arena.sha256())
            #expect(otherAdam.stepCount == 1)
            #expect(otherAdam.exportState() == adam.exportState())
        }

        @Test func differentWidthNamesTensorAndBothShapes() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let (c, _, _) = try saved(dir)
            let wider = ParameterArena(mlp([6, 7, 3]))
            let before = wider.sha256()
            let msg = try #require(mismatch { try TrainingCheckpoint.restore(c, arena: wider, optimizer: Adam(wider)) })
            #expect(msg.contains("0.weight") && msg.contains("[5, 6]") && msg.contains("[7, 6]"), "\(msg)")
            #expect(wider.sha256() == before, "a failed restore must not change the parameters")
        }

        @Test func missingParameterIsNamed() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let (c, _, _) = try saved(dir)
            // Same layers, no biases: the checkpoint holds 0.bias which this model lacks.
            let noBias = ParameterArena(mlp([6, 5, 3], bias: false))
            let msg = try #require(mismatch { try TrainingCheckpoint.checkCompatible(c, arena: noBias, optimizer: nil) })
            #expect(msg.contains("model/0.bias") && msg.contains("[5]"), "\(msg)")
            // A deeper model: its extra layer's parameters are not in the checkpoint.
            let deeper = ParameterArena(mlp([6, 5, 3, 2]))
            let msg2 = try #require(mismatch { try TrainingCheckpoint.checkCompatible(c, arena: deeper, optimizer: nil) })
            #expect(msg2.contains("4.weight") && msg2.contains("[2, 3]") && msg2.contains("not in the checkpoint"), "\(msg2)")
        }

        @Test func otherOptimizerKindIsNamed() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let (c, _, _) = try saved(dir)
            let arena = ParameterArena(mlp([6, 5, 3]))
            let sgd = SGD(arena, lr: 0.1, momentum: 0.9)
            let msg = try #require(mismatch { try TrainingCheckpoint.restore(c, arena: arena, optimizer: sgd) })
            #expect(msg.contains("adam") && msg.contains("sgd"), "\(msg)")
            let adamw = Adam(arena, decoupledWeightDecay: true)
            let msg2 = try #require(mismatch { try TrainingCheckpoint.restore(c, arena: arena, optimizer: adamw) })
            #expect(msg2.contains("adam,") || msg2.contains("adam ") , "\(msg2)")
            #expect(msg2.contains("adamw"), "\(msg2)")
            // Parameters alone still load into the same model without an optimizer.
            try TrainingCheckpoint.restore(c, arena: arena, optimizer: nil)
        }

        @Test func optimizerBufferWithWrongShapeIsNamed() throws {
            let dir = try Scratch()
            defer { dir.remove() }
            let (c, arena, adam) = try saved(dir)
            // Re-save with one optimizer buffer reshaped (same bytes, other shape).
            var payloads = TrainingCheckpoint.payloads(arena: arena, optimizer: adam)
            let i = try #require(payloads.firstIndex { $0.name == "optimizer/exp_avg_sq/0.weight" })
            payloads[i].shape = [6, 5]
            var m = c.manifest
            m.tensors = []
            let path = try CheckpointWriter.write(m, tensors: payloads, directory: dir.file("other"))
            let fresh = ParameterArena(mlp([6, 5, 3]))
            let msg = try #require(mismatch { try TrainingCheckpoint.restore(try Checkpoint(path: path), arena: fresh, optimizer: Adam(fresh)) })
            #expect(msg.contains("optimizer/exp_avg_sq/0.weight") && msg.contains("[6, 5]") && msg.contains("[5, 6]"), "\(msg)")
        }
    }
}
