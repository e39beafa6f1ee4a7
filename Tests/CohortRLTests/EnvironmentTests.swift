// CohortRL's environments beyond Gymnasium equality: NumPy's PCG64 stream, snapshots
// that continue an episode exactly, the vector environment's automatic reset and
// seeding, and errors for actions outside the space.
import CohortCore
import CohortRL
import Testing

@Suite struct EnvironmentTests {
    /// `np.random.default_rng(0).random(3)` and `default_rng(12345).random()`, printed by NumPy 2.
    @Test func pcg64MatchesNumPy() {
        var g = PCG64(seed: 0)
        let expected = [0.6369616873214543, 0.2697867137638703, 0.04097352393619469]
        for e in expected { #expect(abs(g.nextDouble() - e) < 1e-16) }
        var h = PCG64(seed: 12345)
        #expect(abs(h.nextDouble() - 0.22733602246716966) < 1e-16)
    }

    @Test(arguments: EnvironmentCatalog.names)
    func snapshotContinuesExactly(name: String) throws {
        let env = try EnvironmentCatalog.make(name)
        env.reset(seed: 3)
        var a: Float = name == "pendulum" ? 0.7 : 1
        for _ in 0..<17 { if try env.step(&a).terminated { env.reset(seed: nil) } }
        let snap = env.snapshot
        func run() throws -> [Float] {
            var trace: [Float] = []
            for k in 0..<300 {
                var act: Float = name == "pendulum" ? Float(k % 5) - 2 : Float(k % (name == "cartpole" ? 2 : 3))
                let out = try env.step(&act)
                trace += env.observation + [Float(out.reward)]
                if out.terminated || out.truncated { env.reset(seed: nil); trace += env.observation }
            }
            return trace
        }
        let first = try run()
        try env.restore(snap)
        #expect(try run() == first)
    }

    @Test func vectorEnvironmentResetsAndSeedsEachEnvironment() throws {
        let v = try VectorEnvironment(name: "cartpole", count: 3, seed: 10)
        let single = CartPole()
        single.reset(seed: 11)
        #expect(Array(v.observations[4..<8]) == single.observation)
        let actions = [Float](repeating: 1, count: 3)
        var episodes = 0
        for _ in 0..<200 {
            try v.step(actions)
            for i in 0..<3 where v.terminated[i] {
                // The slot holds the next episode's first observation: |values| ≤ 0.05.
                #expect(v.observations[(4 * i)..<(4 * i + 4)].allSatisfy { abs($0) <= 0.05 })
                #expect(abs(v.finalObservations[4 * i + 2]) > 0.2 || abs(v.finalObservations[4 * i]) > 2.4)
            }
            episodes += v.drainFinishedEpisodes().count
        }
        #expect(episodes > 3)
    }

    @Test func actionsOutsideTheSpaceAreErrors() throws {
        let env = CartPole()
        env.reset(seed: 0)
        #expect(throws: CohortError.self) { try env.step(action: 2) }
        var bad = Float.nan
        let p = Pendulum()
        p.reset(seed: 0)
        #expect(throws: CohortError.self) { try p.step(&bad) }
        #expect(throws: CohortError.self) { try EnvironmentCatalog.make("lunarlander") }
    }
}
