// The Swift environments against Gymnasium: Tests/Support/gym_trajectories.py runs each
// environment for 1,000 random-action steps from a seed (resets after an episode ends,
// the seeded stream continuing) in the reference venv; Cohort replays the same actions
// from `reset(seed:)` and must give the same observations, rewards and flags within 1e-6.
// A missing venv or gymnasium is a failure, not a skip.
import CohortProcess
import CohortProcessTestSupport
import CohortRL
import Foundation
import Testing

@Suite struct GymEquivalenceTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = repo.appendingPathComponent("Tests/Support/gym_trajectories.py").path

    static func reference(seed: Int, steps: Int) throws -> [[String: Any]]? {
        #expect(FileManager.default.isExecutableFile(atPath: ReferenceVenv.python),
                "reference venv missing: \(ReferenceVenv.python) (run `make deps`)")
        let r = try runChild([ReferenceVenv.python, script, "--seed", "\(seed)", "--steps", "\(steps)"], stdout: .capture, stderr: .capture)
        let out = String(decoding: r.stdout, as: UTF8.self), err = String(decoding: r.stderr, as: UTF8.self)
        guard r.status.succeeded, let json = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
              let envs = json["envs"] as? [[String: Any]] else {
            Issue.record("gym_trajectories.py failed (\(r.status)): \(out.prefix(300))\n\(err.suffix(2000))")
            return nil
        }
        return envs
    }

    static func maxDifference(_ a: [Float], _ b: [Double]) -> Double {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
    }

    @Test(arguments: [7, 2024])
    func matchesGymnasium(seed: Int) throws {
        guard let envs = try Self.reference(seed: seed, steps: 1000) else { return }
        #expect(envs.count == 4)
        for e in envs {
            let id = e["id"] as? String ?? "?"
            let actions = e["actions"] as? [Double] ?? []
            let obs = e["obs"] as? [[Double]] ?? [], rewards = e["rewards"] as? [Double] ?? []
            let term = e["terminated"] as? [Bool] ?? [], trunc = e["truncated"] as? [Bool] ?? []
            let resets = e["reset_obs"] as? [[Double]] ?? []
            #expect(actions.count == 1000 && obs.count == 1000 && rewards.count == 1000, "\(id): short reference")
            let env = try EnvironmentCatalog.make(id)
            env.reset(seed: UInt64(seed))
            var resetIndex = 0, worstObs = 0.0, worstReward = 0.0, flagMismatches = 0, episodes = 0
            #expect(Self.maxDifference(env.observation, resets.first ?? []) <= 1e-6, "\(id): first reset observation")
            for i in 0..<min(actions.count, obs.count, rewards.count, term.count, trunc.count) {
                var a = Float(actions[i])
                let out = try env.step(&a)
                worstObs = max(worstObs, Self.maxDifference(env.observation, obs[i]))
                worstReward = max(worstReward, abs(out.reward - rewards[i]))
                if out.terminated != term[i] || out.truncated != trunc[i] { flagMismatches += 1 }
                if term[i] || trunc[i] {
                    env.reset(seed: nil)
                    resetIndex += 1
                    episodes += 1
                    let d = resetIndex < resets.count ? Self.maxDifference(env.observation, resets[resetIndex]) : .infinity
                    worstObs = max(worstObs, d)
                }
            }
            #expect(worstObs <= 1e-6, "\(id) seed \(seed): observations differ by up to \(worstObs)")
            #expect(worstReward <= 1e-6, "\(id) seed \(seed): rewards differ by up to \(worstReward)")
            #expect(flagMismatches == 0, "\(id) seed \(seed): \(flagMismatches) steps with different terminated/truncated")
            #expect(episodes >= 1, "\(id) seed \(seed): the reference should end at least one episode in 1,000 steps")
        }
    }
}
