// `cohort rl`: reinforcement learning on Gymnasium's classic-control environments
// written in Swift (CohortRL): PPO (discrete and Gaussian policies) and DQN, alone or
// data-parallel under mpirun / cohort launch (each rank steps its own environments;
// gradients averaged), evaluation over N deterministic episodes, a --target-return stop
// with the training wall time to reach it, episode returns in the run log, checkpoints
// with every rank's environment and RNG state, and `--bench-env` (raw steps/s).
import ArgumentParser
import CohortCheckpoint
import CohortCollectives
import CohortCore
import CohortKernels
import CohortRL
import CohortRunLog
import CohortRuntime
import Foundation

struct RL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rl",
        abstract: "Reinforcement learning (PPO, DQN) on CartPole, Acrobot, MountainCar, Pendulum, alone or data-parallel under mpirun (docs/rl.md).")

    @Option(help: "Environment: cartpole, acrobot, mountaincar, pendulum (or Gymnasium's id, e.g. CartPole-v1).") var env = "cartpole"
    @Option(help: "Algorithm: ppo or dqn.") var algo = "ppo"
    @Option(parsing: .unconditional, help: "Seed (a whole number ≥ 0): model, environments (seed + index), sampling.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Environment-step budget, all ranks together (default: the zoo's n_timesteps).") var steps: Int?
    @Option(parsing: .unconditional, help: "Environments, all ranks together (default: the zoo's n_envs); each rank steps envs ÷ ranks.") var envs: Int?
    @Option(name: .customLong("rollout-steps"), parsing: .unconditional, help: "PPO: steps per environment per rollout (n_steps).") var rolloutSteps: Int?
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Global minibatch size.") var batchSize: Int?
    @Option(parsing: .unconditional, help: "PPO: passes over each rollout (n_epochs).") var epochs: Int?
    @Option(parsing: .unconditional, help: "Discount γ.") var gamma: Double?
    @Option(name: .customLong("gae-lambda"), parsing: .unconditional, help: "PPO: GAE λ.") var gaeLambda: Double?
    @Option(parsing: .unconditional, help: "Learning rate (initial value when it decays linearly).") var lr: Float?
    @Option(name: .customLong("clip-range"), parsing: .unconditional, help: "PPO: clip range (initial value when it decays linearly).") var clipRange: Float?
    @Option(name: .customLong("ent-coef"), parsing: .unconditional, help: "PPO: entropy bonus coefficient.") var entCoef: Float?
    @Option(name: .customLong("vf-coef"), parsing: .unconditional, help: "PPO: value-loss coefficient.") var vfCoef: Float?
    @Option(name: .customLong("max-grad-norm"), parsing: .unconditional, help: "Clip the global gradient norm (0: off).") var maxGradNorm: Float?
    @Flag(name: .customLong("sde"), inversion: .prefixedNo, help: "PPO, box actions: gSDE (state-dependent exploration) or not (--no-sde; default: on for pendulum, the zoo's setting).") var sde: Bool?
    @Option(name: .customLong("sde-sample-freq"), parsing: .unconditional, help: "PPO with gSDE: new exploration matrices every N rollout steps (≤ 0: once per rollout; default: pendulum 4, else -1).") var sdeSampleFreq: Int?
    @Option(name: .customLong("log-std-init"), parsing: .unconditional, help: "PPO, box actions: initial log standard deviation (SB3's log_std_init, default 0).") var logStdInit: Float?
    @Option(help: "Hidden layer widths, comma-separated (default: PPO 64,64 tanh; DQN on CartPole 256,256 ReLU).") var hidden: String?
    @Option(name: .customLong("buffer-size"), parsing: .unconditional, help: "DQN: replay buffer capacity, all ranks together.") var bufferSize: Int?
    @Option(name: .customLong("learning-starts"), parsing: .unconditional, help: "DQN: random actions and no updates before this many steps.") var learningStarts: Int?
    @Option(name: .customLong("train-freq"), parsing: .unconditional, help: "DQN: environment steps (global) between training bursts.") var trainFreq: Int?
    @Option(name: .customLong("gradient-steps"), parsing: .unconditional, help: "DQN: gradient steps per training burst.") var gradientSteps: Int?
    @Option(name: .customLong("target-update"), parsing: .unconditional, help: "DQN: environment steps between target-network copies.") var targetUpdate: Int?
    @Option(name: .customLong("exploration-fraction"), parsing: .unconditional, help: "DQN: fraction of the budget over which ε falls linearly.") var explorationFraction: Double?
    @Option(name: .customLong("exploration-final"), parsing: .unconditional, help: "DQN: final ε.") var explorationFinal: Double?
    @Option(name: .customLong("eval-every"), parsing: .unconditional, help: "Evaluate every N environment steps (all ranks together).") var evalEvery = 10_000
    @Option(name: .customLong("eval-episodes"), parsing: .unconditional, help: "Episodes of the full evaluation (deterministic policy; episode i from seed + 1000 + i).") var evalEpisodes = 100
    @Option(name: .customLong("eval-screen"), parsing: .unconditional, help: "Episodes of the quick screen run before the full evaluation (0: always run the full one).") var evalScreen = 20
    @Option(name: .customLong("target-return"), parsing: .unconditional, help: "Stop when the full evaluation's mean return reaches this (default: 475 for cartpole, none otherwise).") var targetReturn: Double?
    @Flag(name: .customLong("no-target"), help: "Train the whole budget even when a target return is reached.") var noTarget = false
    @Option(name: .customLong("log-dir"), help: "Run directory for metrics.jsonl (episode_return, eval_return, losses; cohort plot draws it).") var logDir: String?
    @Option(name: .customLong("log-every"), parsing: .unconditional, help: "Print progress every N iterations.") var logEvery = 10
    @Option(name: .customLong("checkpoint-dir"), help: "Directory for step-NNNNNNNN checkpoints (step = iteration).") var checkpointDir: String?
    @Option(name: .customLong("checkpoint-every"), parsing: .unconditional, help: "Save every N iterations (and at the end) when --checkpoint-dir is set.") var checkpointEvery = 50
    @Option(name: .customLong("keep-last"), parsing: .unconditional, help: "Keep the newest K checkpoints (0 = keep all).") var keepLast = 3
    @Option(help: "Resume: 'auto' (newest good checkpoint in --checkpoint-dir, if any) or a checkpoint path.") var resume: String?
    @Flag(help: "Deterministic mode: 1 BLAS thread and gradients summed in rank order, so a resumed run matches an uninterrupted one bitwise at the same world size.") var deterministic = false
    @Option(parsing: .unconditional, help: "BLAS threads (default 1: the networks are small).") var threads: Int?
    @Option(name: .customLong("collective-timeout"), parsing: .unconditional, help: "Seconds any collective wait may last before the rank reports it and exits 3.") var collectiveTimeout: Double = 600
    @Option(name: .customLong("inject-fault"), help: "Faults to inject, KIND@ITERATION[:rank=R][:attempt=A],… (docs/cli.md); overrides COHORT_FAULT.") var injectFault: String?
    @Option(name: .customLong("summary-json"), help: "Write a JSON summary of the run to this file (rank 0).") var summaryJSON: String?
    @Flag(name: .customLong("bench-env"), help: "Print raw environment steps/s (one environment, random actions, stepped one at a time) and exit.") var benchEnv = false
    @Option(name: .customLong("bench-steps"), parsing: .unconditional, help: "Steps for --bench-env.") var benchSteps = 1_000_000

    func validate() throws {
        guard ["ppo", "dqn"].contains(algo) else { throw ValidationError("--algo must be ppo or dqn, got '\(algo)'") }
        guard evalEvery > 0 else { throw ValidationError("--eval-every must be positive, got \(evalEvery)") }
        guard evalEpisodes > 0 else { throw ValidationError("--eval-episodes must be positive, got \(evalEpisodes)") }
        guard evalScreen >= 0 else { throw ValidationError("--eval-screen must be ≥ 0, got \(evalScreen)") }
        guard checkpointEvery > 0 else { throw ValidationError("--checkpoint-every must be positive, got \(checkpointEvery)") }
        guard keepLast >= 0 else { throw ValidationError("--keep-last must be ≥ 0, got \(keepLast)") }
        guard logEvery > 0 else { throw ValidationError("--log-every must be positive, got \(logEvery)") }
        guard benchSteps > 0 else { throw ValidationError("--bench-steps must be positive, got \(benchSteps)") }
        if algo == "dqn" && (sde != nil || sdeSampleFreq != nil || logStdInit != nil) {
            throw ValidationError("--sde, --no-sde, --sde-sample-freq and --log-std-init are PPO settings; this run is --algo dqn")
        }
                if resume != nil && checkpointDir == nil && resume == "auto" { throw ValidationError("--resume auto needs --checkpoint-dir") }
        do { _ = try EnvironmentCatalog.make(env) } catch { throw ValidationError("--env: unknown environment '\(env)'; one of \(EnvironmentCatalog.names.joined(separator: ", "))") }
    }

    func run() throws {
        if benchEnv { return try benchmark() }
        let supervisor = RankSupervisor(rank: RunInfo.current.rank)
        do { try train(supervisor) } catch { supervisor.exitCommandLine(for: error) }
    }

    /// Raw steps/s of one environment stepped one at a time with random actions (resets included).
    func benchmark() throws {
        let e = try EnvironmentCatalog.make(env)
        e.reset(seed: 0)
        var g = SplitMix64(seed: 0)
        let actions: [Float] = (0..<4096).map { _ in
            switch e.actionSpace {
            case let .discrete(n): return Float(g.nextIndex(below: n))
            case let .box(low, high): return low[0] + (high[0] - low[0]) * Float(g.nextDouble())
            }
        }
        var episodes = 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        try actions.withUnsafeBufferPointer { a in
            for i in 0..<benchSteps {
                let out = try e.step(a.baseAddress! + (i & 4095))
                if out.terminated || out.truncated { e.reset(seed: nil); episodes += 1 }
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        let rate = Double(benchSteps) / seconds
        print(String(format: "%@: %d steps (%d episodes) in %.3f s: %.0f steps/s", e.id, benchSteps, episodes, seconds, rate))
        print("RESULT {\"env\": \"\(e.id)\", \"steps\": \(benchSteps), \"seconds\": \(seconds), \"steps_per_s\": \(Int(rate))}")
    }
}
