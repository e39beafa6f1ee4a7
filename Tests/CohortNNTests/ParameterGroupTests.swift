// Parameter groups: each group's learning rate and weight decay against a hand
// computation of one step (SGD and AdamW), entries in no group untouched, the
// default that exempts biases, norm gains and embeddings from decay, the
// `--param-group` rule syntax, and the checkpoint record of a grouping.
import CohortNN
@testable import CohortOptim
import CohortTensor
import Foundation
import Testing

/// Three parameters of awkward sizes (alignment padding between them): a weight, a bias, a gain.
final class ThreeParams: Module {
    let w: Tensor, b: Tensor, g: Tensor
    var isTraining = true
    init() {
        w = parameter(try! Tensor((0..<6).map { Float($0) * 0.25 - 0.5 }, shape: [2, 3]))
        b = parameter(try! Tensor([0.5, -1, 2]))
        g = parameter(try! Tensor([1, 1.5, -0.75, 3, 0.2]))
    }
    var localParameters: [(name: String, tensor: Tensor)] { [("w", w), ("b", b), ("g", g)] }
    func forward(_ x: Tensor) throws -> Tensor { x }
}

@Suite struct ParameterGroupTests {
    /// A fixed gradient for every element of the arena (padding included: it must stay untouched).
    func setGradients(_ arena: ParameterArena) {
        for i in 0..<arena.count { arena.grads.pointer[i] = Float(sin(Double(i) * 0.7 + 0.3)) }
    }

    func values(_ arena: ParameterArena, _ e: Int) -> [Float] {
        let entry = arena.entries[e]
        return Array(UnsafeBufferPointer(start: arena.values.pointer + entry.offset, count: entry.count))
    }

    func grads(_ arena: ParameterArena, _ e: Int) -> [Float] {
        let entry = arena.entries[e]
        return Array(UnsafeBufferPointer(start: arena.grads.pointer + entry.offset, count: entry.count))
    }

    @Test func sgdAppliesEachGroupsLearningRateAndDecay() throws {
        let m = ThreeParams(), arena = ParameterArena(m)
        let before = (0..<3).map { values(arena, $0) }
        let sgd = SGD(arena, lr: 0.1, weightDecay: 0.5)
        // w: lr × 2, decay 0.01; b: lr × 1, no decay; g: frozen.
        try sgd.setParameterGroups([ParameterGroup(entries: [0], lrScale: 2, weightDecay: 0.01), ParameterGroup(entries: [1], weightDecay: 0)])
        setGradients(arena)
        let g = (0..<3).map { grads(arena, $0) }
        sgd.learningRate = 0.05   // as a schedule would set it: every group scales by the same factor
        sgd.step()
        for i in 0..<6 { #expect(abs(values(arena, 0)[i] - (before[0][i] - 0.05 * 2 * (g[0][i] + 0.01 * before[0][i]))) <= 1e-6) }
        for i in 0..<3 { #expect(abs(values(arena, 1)[i] - (before[1][i] - 0.05 * g[1][i])) <= 1e-6) }
        #expect(values(arena, 2) == before[2], "a parameter in no group is not updated")
    }

    @Test func adamWAppliesEachGroupsLearningRateAndDecoupledDecay() throws {
        let m = ThreeParams(), arena = ParameterArena(m)
        let before = (0..<3).map { values(arena, $0) }
        let adamw = AdamW(arena, lr: 0.01, weightDecay: 0.1)
        try adamw.setParameterGroups([ParameterGroup(entries: [1], lrScale: 0.5, weightDecay: 0), ParameterGroup(entries: [0], weightDecay: 0.2)])
        setGradients(arena)
        let g = (0..<3).map { grads(arena, $0) }
        adamw.step()
        // One AdamW step by hand (Double): m = (1−β1)g, v = (1−β2)g², p ← p(1 − lr·wd) − lr·m̂/(√v̂ + ε).
        func expected(_ p: Float, _ g: Float, lr: Double, wd: Double) -> Float {
            let m = 0.1 * Double(g), v = 0.001 * Double(g) * Double(g)
            return Float(Double(p) * (1 - lr * wd) - lr * (m / 0.1) / ((v / 0.001).squareRoot() + 1e-8))
        }
        for i in 0..<6 { #expect(abs(values(arena, 0)[i] - expected(before[0][i], g[0][i], lr: 0.01, wd: 0.2)) <= 1e-6) }
        for i in 0..<3 { #expect(abs(values(arena, 1)[i] - expected(before[1][i], g[1][i], lr: 0.005, wd: 0)) <= 1e-6) }
        #expect(values(arena, 2) == before[2], "decoupled decay must not move a parameter in no group")
        for _ in 0..<99 { setGradients(arena); adamw.step() }
        #expect(values(arena, 2) == before[2], "still bitwise unchanged after 100 steps")
    }

    @Test func theDefaultGroupIsOnePassOverEverything() {
        let arena = ParameterArena(ThreeParams())
        let sgd = SGD(arena, lr: 0.1, weightDecay: 0.5)
        #expect(sgd.parameterGroups == [ParameterGroup(entries: [0, 1, 2], weightDecay: 0.5)])
        #expect(sgd.parameterGroupRecord.isEmpty, "a default grouping adds nothing to checkpoints")
        // With no rules and no decay, the rules give that same single group.
        #expect(ParameterGroupRules().groups(arena, weightDecay: 0, noDecay: ["b", "g"]) == [ParameterGroup(entries: [0, 1, 2], weightDecay: 0)])
    }

    @Test func noDecayDefaultCoversBiasesNormGainsAndEmbeddings() throws {
        var gen = RandomGenerator(seed: 3)
        let gpt = try GPT(GPTConfig(vocabSize: 11, contextLength: 8, layers: 2, heads: 2, dModel: 8), generator: &gen)
        let exempt = gpt.weightDecayExemptNames()
        for name in ["wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.1.ln_2.bias", "ln_f.weight", "h.0.attn.c_attn.bias", "h.1.mlp.c_proj.bias"] {
            #expect(exempt.contains(name), "\(name) should get no weight decay")
        }
        for name in ["h.0.attn.c_attn.weight", "h.0.attn.c_proj.weight", "h.1.mlp.c_fc.weight", "h.1.mlp.c_proj.weight"] {
            #expect(!exempt.contains(name), "\(name) should be decayed")
        }
        let resnet = try ConvModels.resNet(widths: [4, 8, 8], generator: &gen)
        let cnnExempt = resnet.weightDecayExemptNames()
        #expect(cnnExempt.contains("2.weight") && cnnExempt.contains("2.bias"), "BatchNorm gain and shift")
        #expect(cnnExempt.contains("4.0.bn1.weight") && cnnExempt.contains("9.bias"))
        #expect(!cnnExempt.contains("1.weight") && !cnnExempt.contains("4.0.conv1.weight") && !cnnExempt.contains("9.weight"))
        // The groups: decayed weights in one group, the exempt ones in another with no decay.
        let arena = ParameterArena(resnet)
        let groups = ParameterGroupRules().groups(arena, weightDecay: 0.05, noDecay: cnnExempt)
        #expect(groups.count == 2)
        for g in groups { for e in g.entries { #expect((g.weightDecay == 0) == cnnExempt.contains(arena.entries[e].name)) } }
    }

    @Test func rulesTakeTheFirstMatchingGlob() throws {
        let arena = ParameterArena(ThreeParams())
        let rules = ParameterGroupRules([try .init(parsing: "[wb]:lr=0.02", baseLearningRate: 0.01),
                                         try .init(parsing: "*:weight-decay=0.3,lr-scale=3", baseLearningRate: 0.01)])
        let groups = rules.groups(arena, weightDecay: 0.1, noDecay: ["b"], frozen: ["g"])
        #expect(groups == [ParameterGroup(entries: [0], lrScale: 2, weightDecay: 0.1), ParameterGroup(entries: [1], lrScale: 2, weightDecay: 0)])
        #expect(throws: (any Error).self) { try ParameterGroupRules.Rule(parsing: "w", baseLearningRate: 1) }
        #expect(throws: (any Error).self) { try ParameterGroupRules.Rule(parsing: "w:momentum=1", baseLearningRate: 1) }
        #expect(throws: (any Error).self) { try ParameterGroupRules.Rule(parsing: "w:lr=-1", baseLearningRate: 1) }
        #expect(throws: (any Error).self) { try ParameterGroupRules([.init(glob: "head.*")]).check(against: ["w", "b"]) }
        #expect(throws: (any Error).self) { try SGD(arena, lr: 1).setParameterGroups([ParameterGroup(entries: [0], weightDecay: 0), ParameterGroup(entries: [0], weightDecay: 0)]) }
    }

    @Test func aCheckpointRecordRefusesAnotherGrouping() throws {
        let arena = ParameterArena(ThreeParams())
        let a = AdamW(arena), b = AdamW(arena)
        try a.setParameterGroups([ParameterGroup(entries: [0], weightDecay: 0.01), ParameterGroup(entries: [1], weightDecay: 0)])
        try b.setParameterGroups([ParameterGroup(entries: [0], weightDecay: 0.01), ParameterGroup(entries: [1], weightDecay: 0)])
        let saved = a.hyperParameters + a.parameterGroupRecord
        #expect(b.parameterGroupMismatch(saved) == nil)
        try b.setParameterGroups([ParameterGroup(entries: [0, 2], weightDecay: 0.01), ParameterGroup(entries: [1], weightDecay: 0)])
        let why = try #require(b.parameterGroupMismatch(saved))
        #expect(why.contains("g is frozen there, in group 0 here"), "\(why)")
        #expect(AdamW(arena).parameterGroupMismatch(saved) != nil, "a checkpoint with groups does not resume into the default grouping")
        #expect(a.parameterGroupMismatch(AdamW(arena).hyperParameters) != nil, "nor the other way round")
        try b.setParameterGroups([ParameterGroup(entries: [0], lrScale: 3, weightDecay: 0.01), ParameterGroup(entries: [1], weightDecay: 0)])
        #expect(b.parameterGroupMismatch(saved) != nil)
        #expect(b.parameterGroupMismatch(saved, ignoringLearningRates: true) == nil)
    }
}
