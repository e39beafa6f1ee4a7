// `scale compare` on simulated sweeps written through the real runner and store:
// a planted 20 % slowdown is found, identical configurations are not flagged (the
// false-alarm rate over many repeated sweep pairs stays below alpha), and 3 rounds
// a side are reported as too few to detect anything.
import Foundation
import Testing
@testable import CohortScale

@Suite struct CompareTests {
    /// Normal noise with a fixed seed (Box–Muller over a SplitMix-style generator).
    struct Noise {
        var state: UInt64
        mutating func uniform() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return (Double((z ^ (z >> 31)) >> 11) + 0.5) / Double(1 << 53)
        }
        mutating func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
    }

    /// A 1-rank sweep of `rounds` runs whose step time is `base` × (1 + 3 % noise).
    func sweep(_ dir: String, rounds: Int, base: Double, noise: inout Noise) throws -> ScaleStore {
        let plan = try ScalePlan(ranks: [1], mode: .strong, steps: 4, warmup: 0, repeats: rounds, vary: [], trainArguments: [])
        let store = ScaleStore(directory: dir)
        let times = (0..<rounds).map { _ in base * (1 + 0.03 * noise.normal()) }
        let fake = FakeLauncher(stepSeconds: { _, r in times[r] })
        try ScaleRunner(plan: plan, store: store, launch: fake.launcher(plan: plan)).run()
        return store
    }

    @Test func plantedSlowdownIsFoundAndIdenticalSweepsAreNot() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-compare-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        var noise = Noise(state: 42)
        var falseAlarms = 0, detected = 0
        let pairs = 60
        for i in 0..<pairs {
            let a = try sweep("\(root)/\(i)a", rounds: 5, base: 0.01, noise: &noise)
            let same = try sweep("\(root)/\(i)b", rounds: 5, base: 0.01, noise: &noise)
            let slow = try sweep("\(root)/\(i)c", rounds: 5, base: 0.012, noise: &noise)   // 20 % more time per step
            if try ScaleComparison.compare(baseline: a, candidate: same)[0].verdict != "no difference" { falseAlarms += 1 }
            let r = try ScaleComparison.compare(baseline: a, candidate: slow)[0]
            if r.verdict == "slower" { detected += 1 }
            #expect(abs(r.throughputChange - (1 / 1.2 - 1)) < 0.06)
        }
        #expect(detected == pairs, "a 20 % slowdown with 3 % noise and 5 rounds must always be found: \(detected)/\(pairs)")
        #expect(Double(falseAlarms) / Double(pairs) <= 0.05, "false alarms \(falseAlarms)/\(pairs)")
    }

    @Test func threeRoundsCannotDecide() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-compare-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        var noise = Noise(state: 7)
        let a = try sweep("\(root)/a", rounds: 3, base: 0.01, noise: &noise)
        let b = try sweep("\(root)/b", rounds: 3, base: 0.02, noise: &noise)
        let r = try ScaleComparison.compare(baseline: a, candidate: b)[0]
        // Even a 2× slowdown: the exact Mann–Whitney p of 3 vs 3 is at least 0.1.
        #expect(r.verdict == "no difference" && r.comparison!.mannWhitneyPValue >= 0.1)
        #expect(abs(r.throughputChange + 0.5) < 0.1)
    }
}
