// `cohort rl` with the release binary: PPO improves CartPole's return at 2 ranks in a
// short run, a rank killed mid-run (SIGKILL, injected) resumes from its checkpoint to
// bitwise the same weights in deterministic mode (PPO, PPO with gSDE on Pendulum, and DQN
// with its replay buffer), `cohort launch --command rl` restarts after an injected rank
// failure to the same weights, `--bench-env` prints a rate, and mistakes are clear errors
// (exit 2).
import Foundation
import Testing

@Suite(.serialized) struct RLCommandTests {
    func summary(_ path: String) throws -> [String: Any] { try CLI.readJSON(path) }

    func metrics(_ dir: String) throws -> [[String: Any]] {
        let text = try String(contentsOfFile: dir + "/metrics.jsonl", encoding: .utf8)
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func ppoImprovesCartPoleOnTwoRanks() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.mpirun(2, ["rl", "--env", "cartpole", "--algo", "ppo", "--seed", "1", "--steps", "20480", "--eval-every", "20480",
                                   "--eval-screen", "0", "--eval-episodes", "20", "--no-target", "--log-dir", dir + "/run",
                                   "--summary-json", dir + "/s.json"], timeout: 120)
        #expect(r.status == 0, "\(r.output)")
        let s = try summary(dir + "/s.json")
        #expect(s["ranks"] as? Int == 2)
        let records = try metrics(dir + "/run")
        let returns = records.compactMap { $0["episode_return"] as? Double }
        #expect(returns.count > 20, "episode returns logged per iteration: \(returns.count)")
        let first = returns.prefix(5).reduce(0, +) / 5
        let eval = s["last_eval_return"] as? Double ?? 0
        // A random policy averages ~20; PPO at 20k steps should be far above it.
        #expect(first < 60, "early training return \(first)")
        #expect(eval > 3 * first && eval > 100, "evaluation return \(eval) after 20k steps (early episodes \(first))")
    }

    func killAndResume(_ algoArgs: [String], killAt: Int, env: String = "cartpole",
                       otherSetting: (args: [String], key: String) = (["--gamma", "0.5"], "rl.gamma")) throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let common = ["rl", "--env", env, "--seed", "3", "--deterministic", "--no-target", "--eval-every", "1000000",
                      "--checkpoint-every", "2", "--log-every", "1000"] + algoArgs
        let clean = try CLI.mpirun(2, common + ["--summary-json", dir + "/clean.json"], timeout: 120)
        #expect(clean.status == 0, "\(clean.output)")
        let args = common + ["--checkpoint-dir", dir + "/ckpt", "--resume", "auto", "--summary-json", dir + "/resumed.json"]
        let killed = try CLI.mpirun(2, args + ["--inject-fault", "kill@\(killAt):rank=1"], timeout: 120)
        #expect(killed.status != 0, "the injected kill should end the job: \(killed.output)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/resumed.json"), "the killed run must not finish")
        let resumed = try CLI.mpirun(2, args, timeout: 120)
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.output.contains("resumed from"), "\(resumed.output)")
        let a = try summary(dir + "/clean.json")["weights_sha256"] as? String
        let b = try summary(dir + "/resumed.json")["weights_sha256"] as? String
        #expect(a != nil && a == b, "clean \(a ?? "-") vs resumed \(b ?? "-")")
        // The same checkpoints at another world size, or with another setting, are clear errors.
        let alone = try CLI.run(common + ["--checkpoint-dir", dir + "/ckpt", "--resume", "auto"], timeout: 60)
        #expect(alone.status == 2 && alone.stderr.contains("same world size"), "\(alone.output)")
        let other = try CLI.mpirun(2, common + ["--checkpoint-dir", dir + "/ckpt", "--resume", "auto"] + otherSetting.args, timeout: 60)
        #expect(other.status != 0 && other.stderr.contains(otherSetting.key), "\(other.output)")
    }

    @Test func killedPPORunResumesBitwise() throws {
        try killAndResume(["--algo", "ppo", "--steps", "5120"], killAt: 13)
    }

    /// gSDE's exploration matrices are redrawn every 4 steps from the rank's sampler: a
    /// killed Pendulum run must resume to the same weights (small rollouts: 128 steps per iteration).
    @Test func killedGSDEPendulumRunResumesBitwise() throws {
        try killAndResume(["--algo", "ppo", "--sde", "--sde-sample-freq", "4", "--envs", "2", "--rollout-steps", "64",
                           "--batch-size", "32", "--epochs", "2", "--steps", "1280"], killAt: 7, env: "pendulum",
                          otherSetting: (["--sde-sample-freq", "8"], "rl.sdeSampleFrequency"))
    }

    @Test func killedDQNRunResumesBitwiseWithItsReplayBuffer() throws {
        try killAndResume(["--algo", "dqn", "--steps", "4096", "--learning-starts", "512", "--gradient-steps", "16"], killAt: 11)
    }

    @Test func launchRestartsAnRLRunAfterARankFailure() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rl = ["--env", "cartpole", "--seed", "5", "--deterministic", "--steps", "5120", "--no-target", "--eval-every", "1000000",
                  "--checkpoint-every", "2", "--log-every", "1000"]
        let clean = try CLI.run(["launch", "--np", "2", "--command", "rl", "--oversubscribe", "--"] + rl
                                + ["--checkpoint-dir", dir + "/clean", "--summary-json", dir + "/clean.json"], timeout: 180)
        #expect(clean.status == 0, "\(clean.output)")
        let failed = try CLI.run(["launch", "--np", "2", "--command", "rl", "--oversubscribe", "--max-restarts", "2",
                                  "--inject-fault", "kill@9:rank=1", "--"] + rl
                                 + ["--checkpoint-dir", dir + "/failed", "--summary-json", dir + "/failed.json"], timeout: 180)
        #expect(failed.status == 0, "\(failed.output)")
        let events = (try? String(contentsOfFile: dir + "/failed/launch-events.jsonl", encoding: .utf8)) ?? ""
        #expect(events.split(separator: "\n").filter { $0.contains("\"event\":\"mpirun\"") }.count == 2, "one restart: \(events)")
        let a = try summary(dir + "/clean.json")["weights_sha256"] as? String
        let b = try summary(dir + "/failed.json")["weights_sha256"] as? String
        #expect(a != nil && a == b, "clean \(a ?? "-") vs restarted \(b ?? "-")")
    }

    @Test func benchEnvPrintsARate() throws {
        let r = try CLI.run(["rl", "--env", "cartpole", "--bench-env", "--bench-steps", "200000"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("steps/s") && r.stdout.contains("RESULT"), "\(r.output)")
    }

    @Test func mistakesAreClearErrors() throws {
        let cases: [([String], String)] = [
            (["rl", "--env", "lunarlander"], "unknown environment"),
            (["rl", "--env", "pendulum", "--algo", "dqn"], "discrete"),
            (["rl", "--algo", "a3c"], "--algo"),
            (["rl", "--envs", "3", "--steps", "100"], "--batch-size"),
            (["rl", "--hidden", "64,x"], "--hidden"),
            (["rl", "--env", "cartpole", "--sde", "--steps", "256"], "--sde"),
            (["rl", "--algo", "dqn", "--sde-sample-freq", "4"], "--sde"),
        ]
        for (args, needle) in cases {
            let r = try CLI.run(args, timeout: 60)
            #expect(r.status == 2, "\(args): \(r.output)")
            #expect(r.stderr.contains(needle), "\(args): expected '\(needle)' in \(r.stderr)")
            #expect(!r.stderr.contains("Fatal error"), "\(r.stderr)")
        }
    }
}
