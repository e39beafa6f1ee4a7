// ZeRO's optimizer side: optimizers restricted to shards of the arena (`Optimizer.shard`), one
// per shard over copies of the same parameters, together compute exactly the whole optimizer's
// steps (element-wise updates), with parameter groups and a frozen entry; their state shrinks to
// the shard, exports and restores at that size, and a shard outside the arena is refused.
import CohortCore
import CohortNN
@testable import CohortOptim
import CohortTensor
import Foundation
import Testing

@Suite struct OptimizerShardTests {
    typealias Make = (ParameterArena) -> any Optimizer
    let makers: [(String, Make)] = [
        ("sgd", { SGD($0, lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true) }),
        ("adamw", { AdamW($0, lr: 0.01) }),
        ("rmsprop", { RMSprop($0, lr: 0.01, momentum: 0.5) }),
    ]

    func arena() throws -> ParameterArena { try ParameterArena(allocating: ThreeParams()) }

    func run(_ o: any Optimizer, steps: Int) {
        for step in 0..<steps {
            for i in 0..<o.arena.count { o.arena.grads.pointer[i] = Float(sin(Double(i * 7 + step) * 0.37)) }
            o.step()
        }
    }

    func values(_ a: ParameterArena) -> [Float] { Array(UnsafeBufferPointer(start: a.values.pointer, count: a.count)) }

    @Test func shardsTogetherStepLikeTheWholeOptimizer() throws {
        for (name, make) in makers {
            let whole = try arena()
            let reference = make(whole)
            // Groups: entry 0 with its own rate, entry 1 frozen (in no group), entry 2 default.
            let groups = [ParameterGroup(entries: [0], lrScale: 0.5, weightDecay: 0.02), ParameterGroup(entries: [2], weightDecay: 0)]
            try reference.setParameterGroups(groups)
            run(reference, steps: 4)
            let cuts = [0..<5, 5..<11, 11..<whole.count]   // inside tensors, on purpose
            var combined = [Float](repeating: .nan, count: whole.count)
            for cut in cuts {
                let copy = try arena()
                let o = make(copy)
                try o.shard(cut)
                try o.setParameterGroups(groups)
                run(o, steps: 4)
                #expect(o.stateBuffers.allSatisfy { $0.storage.count == cut.count }, "\(name): state is the shard's size")
                let state = o.exportState()
                try o.restoreState(state)
                for i in cut { combined[i] = copy.values.pointer[i] }
            }
            #expect(combined == values(whole), "\(name): the shards' steps equal the whole optimizer's")
        }
    }

    @Test func shardOutsideTheArenaIsRefused() throws {
        let a = try arena()
        #expect(throws: CohortError.self) { try AdamW(a, lr: 0.01).shard(0..<(a.count + 1)) }
    }
}
