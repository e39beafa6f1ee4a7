// The training loop of `cohort rl`: MPI's world and cohort launch's supervision as
// `cohort train` gets them, the learner built from the zoo's settings and the flags,
// resume, iterations with progress lines and metrics.jsonl records, evaluations (a
// quick screen, then the full rule) and the target-return stop, checkpoints, and the
// final summary with the training wall time to reach the target.
import CohortCheckpoint
import CohortCollectives
import CohortCore
import CohortKernels
import CohortRL
import CohortRunLog
import CohortRuntime
import Foundation

extension RL {
    /// The PPO settings: the zoo's for the environment, overridden by the flags.
    func ppoConfig() throws -> PPOConfig {
        var c = PPOConfig.zoo(env)
        if let envs { c.environments = envs }
        if let rolloutSteps { c.rolloutSteps = rolloutSteps }
        if let batchSize { c.batchSize = batchSize }
        if let epochs { c.epochs = epochs }
        if let gamma { c.gamma = gamma }
        if let gaeLambda { c.gaeLambda = gaeLambda }
        if let lr { c.learningRate = lr }
        if let clipRange { c.clipRange = clipRange }
        if let entCoef { c.entropyCoefficient = entCoef }
        if let vfCoef { c.valueCoefficient = vfCoef }
        if let maxGradNorm { c.maxGradNorm = maxGradNorm }
        if let steps { c.totalSteps = steps }
        if let h = try hiddenSizes() { c.hidden = h }
        if let sde { c.sde = sde }
        if let sdeSampleFreq { c.sdeSampleFrequency = sdeSampleFreq }
        if let logStdInit { c.logStdInit = logStdInit }
        return c
    }

    /// The DQN settings: the zoo's for the environment, overridden by the flags.
    func dqnConfig() throws -> DQNConfig {
        var c = DQNConfig.zoo(env)
        if let envs { c.environments = envs }
        if let batchSize { c.batchSize = batchSize }
        if let gamma { c.gamma = gamma }
        if let lr { c.learningRate = lr }
        if let maxGradNorm { c.maxGradNorm = maxGradNorm }
        if let steps { c.totalSteps = steps }
        if let bufferSize { c.bufferSize = bufferSize }
        if let learningStarts { c.learningStarts = learningStarts }
        if let trainFreq { c.trainFrequency = trainFreq }
        if let gradientSteps { c.gradientSteps = gradientSteps }
        if let targetUpdate { c.targetUpdateInterval = targetUpdate }
        if let explorationFraction { c.explorationFraction = explorationFraction }
        if let explorationFinal { c.explorationFinal = explorationFinal }
        if let h = try hiddenSizes() { c.hidden = h }
        return c
    }

    func hiddenSizes() throws -> [Int]? {
        guard let hidden else { return nil }
        let parts = hidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw CohortError.badFlag(flag: "--hidden", "'\(hidden)': give positive widths separated by commas, e.g. 64,64")
        }
        return parts.map { $0! }
    }

    /// The settings a checkpoint records and a resume must match.
    func configRecord(_ comm: any Communicator) throws -> [KeyValue] {
        var kv = [KeyValue("rl.env", env.lowercased()), KeyValue("rl.algo", algo), KeyValue("rl.seed", "\(seed)")]
        // One record per setting (`rl.batchSize`, …), so a resume with other settings names the one that differs.
        let settings: Any = algo == "ppo" ? try ppoConfig() : try dqnConfig()
        for child in Mirror(reflecting: settings).children {
            if let label = child.label { kv.append(KeyValue("rl.\(label)", "\(child.value)")) }
        }
        return kv
    }

    func makeLearner(_ comm: any Communicator) throws -> any RLLearner {
        do {
            if algo == "dqn" { return try DQN(env: env, config: try dqnConfig(), seed: seed, communicator: comm) }
            return try PPO(env: env, config: try ppoConfig(), seed: seed, communicator: comm)
        } catch let CohortError.invalidParameter(name, message) {
            let flags = ["environments": "--envs", "rolloutSteps": "--rollout-steps", "batchSize": "--batch-size", "epochs": "--epochs",
                         "gamma": "--gamma", "learningRate": "--lr", "clipRange": "--clip-range", "entropyCoefficient": "--ent-coef",
                         "totalSteps": "--steps", "hidden": "--hidden", "bufferSize": "--buffer-size", "learningStarts": "--learning-starts",
                         "trainFrequency": "--train-freq", "targetUpdateInterval": "--target-update", "gradientSteps": "--gradient-steps",
                         "explorationFraction": "--exploration-fraction", "env": "--env",
                         "sde": "--sde", "logStdInit": "--log-std-init"]
            throw CohortError.badFlag(flag: flags[name] ?? name, message)
        }
    }

    func train(_ supervisor: RankSupervisor) throws {
        // RL's collectives are many and tiny (one per minibatch): a rank busy-polling for its
        // peer on an oversubscribed or shared machine costs a scheduler tick each (measured
        // 28 s instead of 3 s for CartPole at 2 ranks); yielding while idle avoids it. A
        // value the user set (mpirun --mca, the environment) wins.
        setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0)
        let comm = try World.start()
        let usedThreads = try BLASRuntime.configureThreads(requested: threads ?? 1)
        try supervisor.start(comm: comm, collectiveTimeout: collectiveTimeout, faultSpec: injectFault)
        let learner = try makeLearner(comm)
        learner.orderedReduction = deterministic
        let config = try configRecord(comm)
        let target = noTarget ? nil : (targetReturn ?? (env.lowercased().hasPrefix("cartpole") ? 475 : nil))
        var trainSeconds = 0.0, solvedAt: Int?, lastEval: Double?
        var nextEval = evalEvery
        if let resume { (trainSeconds, nextEval) = try restore(learner, from: resume, config: config, comm: comm) ?? (trainSeconds, nextEval) }
        let log = try comm.rank == 0 ? logDir.map { try MetricsLog(runDirectory: $0, resumingAt: learner.iterations) } : nil
        Log.main("cohort rl: \(env) \(algo), seed \(seed), \(comm.size) rank\(comm.size == 1 ? "" : "s"), budget \(learner.totalSteps) steps"
                 + (target.map { ", target return \($0)" } ?? "") + ", BLAS \(BLAS.coreName) × \(usedThreads)"
                 + (learner.iterations > 0 ? ", resumed at iteration \(learner.iterations) (\(learner.timesteps) steps)" : ""))
        let started = Date()
        var recentReturn = Double.nan
        func metadata() -> [KeyValue] {
            [KeyValue("rl.train_seconds", "\(trainSeconds)"), KeyValue("rl.next_eval", "\(nextEval)")]
        }
        func save() throws {
            guard let dir = checkpointDir else { return }
            if supervisor.crashesCheckpoint(atStep: learner.iterations) { CheckpointWriter.crashDuringNextSave() }
            if let path = try learner.save(directory: dir, config: config, metadata: metadata()) {
                supervisor.reportSaved(path)
                if keepLast > 0 { _ = CheckpointStore(directory: dir).applyRetention(keepLast: keepLast) }
            }
        }
        while learner.timesteps < learner.totalSteps {
            let iteration = learner.iterations + 1
            supervisor.beginStep(iteration)
            let t0 = DispatchTime.now().uptimeNanoseconds
            let stats = try learner.iterate()
            trainSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            if stats.episodes > 0 { recentReturn = stats.meanReturn }
            supervisor.completed(step: iteration)
            var record: [(String, Double)] = [("timesteps", Double(stats.timesteps)), ("train_seconds", trainSeconds)]
            if stats.episodes > 0 { record += [("episode_return", stats.meanReturn), ("episode_length", stats.meanLength)] }
            record += stats.metrics.map { ($0.name, $0.value) }
            if learner.timesteps >= nextEval {
                while nextEval <= learner.timesteps { nextEval += evalEvery }
                let screen = evalScreen > 0 && target != nil ? try learner.evaluate(episodes: evalScreen, seed: seed) : nil
                var full: Double?
                if screen == nil || target == nil || screen! >= target! { full = try learner.evaluate(episodes: evalEpisodes, seed: seed) }
                lastEval = full ?? screen
                if let screen { record.append(("eval_screen_return", screen)) }
                if let full { record.append(("eval_return", full)) }
                Log.main(String(format: "eval at %d steps: %@%@ (train %.2f s)", learner.timesteps,
                                screen.map { String(format: "screen %d episodes %.1f", evalScreen, $0) } ?? "",
                                full.map { String(format: "%@mean over %d episodes %.1f", screen == nil ? "" : ", ", evalEpisodes, $0) } ?? "", trainSeconds))
                if let target, let full, full >= target { solvedAt = learner.timesteps }
            }
            try log?.append(MetricRecord(step: iteration, wallTime: Date().timeIntervalSince1970,
                                         metrics: record.map { MetricRecord.Metric(name: $0.0, value: $0.1) }))
            if iteration % logEvery == 0 {
                Log.main(String(format: "iteration %d, %d steps: episode return %.1f, %@", iteration, stats.timesteps, recentReturn,
                                stats.metrics.map { String(format: "%@ %.4g", $0.name, $0.value) }.joined(separator: ", ")))
            }
            let agreement = try supervisor.agree(loss: 0, finishRequested: false, step: iteration, comm: comm)
            if let preemption = agreement.preemption {
                try save()
                try supervisor.preempted(atStep: iteration, reason: preemption, checkpointDirectory: checkpointDir, comm: comm)
                return
            }
            if solvedAt != nil { break }
            if iteration % checkpointEvery == 0 { try save() }
        }
        try save()
        let wall = Date().timeIntervalSince(started)
        let sha = learner.weightsSHA256
        if let solvedAt {
            Log.main(String(format: "solved: mean return ≥ %g over %d episodes at %d steps; training wall time to solve %.2f s (%.2f s in all)",
                            target ?? 0, evalEpisodes, solvedAt, trainSeconds, wall))
        } else if let target {
            Log.main(String(format: "not solved: target return %g not reached in %d steps (last evaluation %@); training %.2f s",
                            target, learner.timesteps, lastEval.map { String(format: "%.1f", $0) } ?? "none", trainSeconds))
        }
        Log.main(String(format: "done: %d iterations, %d steps, training %.2f s, weights sha256 %@", learner.iterations, learner.timesteps, trainSeconds, sha))
        if comm.rank == 0, let path = summaryJSON {
            var fields = ["\"env\": \"\(env)\"", "\"algo\": \"\(algo)\"", "\"seed\": \(seed)", "\"ranks\": \(comm.size)",
                          "\"solved\": \(solvedAt != nil)", "\"timesteps\": \(learner.timesteps)", "\"iterations\": \(learner.iterations)",
                          "\"train_seconds\": \(trainSeconds)", "\"wall_seconds\": \(wall)", "\"weights_sha256\": \"\(sha)\""]
            if let solvedAt { fields.append("\"solved_at_steps\": \(solvedAt)") }
            if let lastEval { fields.append("\"last_eval_return\": \(lastEval)") }
            try ("{" + fields.joined(separator: ", ") + "}\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        supervisor.finished(step: learner.iterations, comm: comm)
    }

    /// Restores `learner` from `--resume` (auto: the newest valid checkpoint, if any); returns the
    /// saved training seconds and next evaluation, or nil when `auto` found nothing.
    func restore(_ learner: any RLLearner, from spec: String, config: [KeyValue], comm: any Communicator) throws -> (Double, Int)? {
        let checkpoint: Checkpoint
        if spec == "auto" {
            guard let dir = checkpointDir, let c = CheckpointStore(directory: dir).latestValid() else { return nil }
            checkpoint = c
        } else {
            do { checkpoint = try Checkpoint(path: spec) } catch let e as CheckpointError { throw UserError(e) }
        }
        let saved = checkpoint.manifest.trainingConfig
        // Settings added after checkpoints were first written: a checkpoint without one used its default.
        let addedLater = ["rl.sde": "false", "rl.sdeSampleFrequency": "-1", "rl.logStdInit": "0.0"]
        for kv in config {
            let old = saved.first { $0.key == kv.key }?.value
            guard old == kv.value || (old == nil && addedLater[kv.key] == kv.value) else {
                throw CohortError.badFlag(flag: "--resume", "\(checkpoint.path) was saved with \(kv.key) = \(old ?? "nothing"), this run has \(kv.value)")
            }
        }
        do { _ = try learner.restore(from: checkpoint) } catch let e as CheckpointError { throw UserError(e) }
        let meta = checkpoint.manifest.metadata
        let seconds = meta.first { $0.key == "rl.train_seconds" }.flatMap { Double($0.value) } ?? 0
        let next = meta.first { $0.key == "rl.next_eval" }.flatMap { Int($0.value) } ?? evalEvery
        Log.main("resumed from \(checkpoint.path): iteration \(learner.iterations), \(learner.timesteps) steps")
        return (seconds, next)
    }
}
