// `cohort train`: mini-batch training of a classifier with shuffling, progress
// lines, a held-out evaluation and a JSON summary. Data: the built-in synthetic
// set (default, no download) or MNIST IDX files (`--data DIR`).
import ArgumentParser
import CohortCore
import CohortCheckpoint
import CohortCollectives
import CohortData
import CohortDistributed
import CohortMPI
import CohortOptim
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a model (MLP classifier for now).")

    @Option(help: "Model name (mlp).") var model = "mlp"
    @Option(help: "MNIST-format IDX directory, a CSV file (classification; stratified 80/20 split), a text file (sequence models) or 'addition'. Default: the built-in synthetic dataset.") var data: String?
    @Option(help: "Epochs to train (ignored when --steps is given).") var epochs = 3
    @Option(help: "Total optimizer steps (overrides --epochs).") var steps: Int?
    @Option(name: [.customLong("global-batch"), .customLong("batch-size")],
            help: "Global mini-batch size (all ranks together); each rank takes global ÷ ranks.") var batchSize = 128
    @Option(help: "Accumulate gradients over k micro-batches per optimizer step (communicating once).") var accumulate = 1
    @Flag(help: "Deterministic mode: bitwise-identical updates for any world size dividing --virtual-shards (1 BLAS thread unless --threads).") var deterministic = false
    @Option(name: .customLong("virtual-shards"), help: "Virtual shards per global batch in deterministic mode (a power of two).") var virtualShards = 8
    @Option(name: .customLong("bucket-mb"), help: "Gradient bucket size for the data-parallel allreduce, in MB.") var bucketMB: Double = 25
    @Option(help: "Hidden layer widths, comma-separated (mlp; default 512,256), or the LSTM's hidden size (default 256).") var hidden: String?
    @Option(help: "Layers (gpt, lstm).") var layers = 4
    @Option(help: "Attention heads (gpt).") var heads = 4
    @Option(name: .customLong("d-model"), help: "Transformer width (gpt).") var dModel = 256
    @Option(help: "Token embedding width (lstm).") var embedding = 64
    @Option(help: "Optimizer: sgd, adam, adamw, rmsprop.") var optimizer = "adam"
    @Option(help: "Learning rate.") var lr: Float = 1e-3
    @Option(help: "Momentum (sgd, rmsprop).") var momentum: Float = 0.9
    @Option(name: .customLong("weight-decay"), help: "Weight decay.") var weightDecay: Float = 0
    @Option(name: .customLong("lr-schedule"), help: "constant or cosine (with 5% warm-up).") var lrSchedule = "cosine"
    @Option(name: .customLong("clip-grad-norm"), help: "Clip the global gradient norm to this value (0 = off).") var clipGradNorm: Float = 0
    @Option(help: "Seed for every random draw (initialisation, shuffling, synthetic data).") var seed: UInt64 = 0
    @Option(help: "BLAS threads (default: OPENBLAS_NUM_THREADS, else cores per rank).") var threads: Int?
    @Option(name: .customLong("log-every"), help: "Print progress every N steps.") var logEvery = 100
    @Option(name: .customLong("summary-json"), help: "Write a JSON summary of the run to this file.") var summaryJSON: String?
    @Option(name: .customLong("checkpoint-dir"), help: "Directory for step-NNNNNNNN checkpoints.") var checkpointDir: String?
    @Option(name: .customLong("checkpoint-every"), help: "Save every N steps (and at the end) when --checkpoint-dir is set.") var checkpointEvery = 500
    @Option(help: "Resume: 'auto' (newest good checkpoint in --checkpoint-dir, if any) or a checkpoint path.") var resume: String?
    @Option(name: .customLong("keep-last"), help: "Keep the newest K checkpoints (0 = keep all).") var keepLast = 3
    @Option(name: .customLong("keep-every"), help: "Also keep every checkpoint whose step is a multiple of N (0 = off).") var keepEvery = 0
    @Flag(name: .customLong("async-checkpoint"), help: "Write checkpoints in the background while training continues.") var asyncCheckpoint = false
    @Option(help: "User metadata stored in checkpoints, key=value (repeatable).") var metadata: [String] = []
    @Option(help: "Steps of batches prepared ahead on a background thread while steps compute (0, the default: prepare in the step; in-memory datasets gather a batch faster than the hand-off).") var prefetch = 0
    @Flag(name: .customLong("step-times"), help: "Record every rank's per-step phase times (data, compute, comm wait, optimizer, total) in --summary-json.") var stepTimes = false
    @Option(name: .customLong("trace-samples"), help: "Append each step's global sample ids to this file (rank 0), for checking data order.") var traceSamples: String?
    @Option(name: .customLong("label-column"), help: "CSV data: the label (or regression target) column (default: the last).") var labelColumn: String?
    @Option(name: .customLong("cv-fold"), help: "CSV classification: hold out fold I (1-based) of --cv-folds stratified folds instead of 20 % (cohort cv sets it).") var cvFold: Int?
    @Option(name: .customLong("cv-folds"), help: "Number of cross-validation folds for --cv-fold.") var cvFolds = 5
    @Option(name: .customLong("task"), help: "CSV data: classification (default) or regression (MSE loss; MAE, RMSE, R²).") var taskKind = "classification"
    @Option(help: "Tokens per training sample for text data (sequence models).") var context = 128
    @Option(help: "Digits per operand of the built-in addition corpus.") var digits = 3
    @Option(name: .customLong("collective-timeout"), help: "Seconds any collective wait of a step may last before the rank reports it and exits 3.") var collectiveTimeout: Double = 600
    @Option(name: .customLong("inject-fault"), help: "Faults to inject, KIND@STEP[:rank=R][:attempt=A][:ms=M],… (docs/cli.md); overrides COHORT_FAULT.") var injectFault: String?

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--global-batch (--batch-size) must be positive, got \(batchSize)") }
        guard epochs > 0 || steps != nil else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        if let steps, steps <= 0 { throw ValidationError("--steps must be positive, got \(steps)") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard ["constant", "cosine"].contains(lrSchedule) else { throw ValidationError("--lr-schedule must be constant or cosine, got '\(lrSchedule)'") }
        guard ["sgd", "adam", "adamw", "rmsprop"].contains(optimizer) else {
            throw ValidationError("--optimizer must be one of sgd, adam, adamw, rmsprop; got '\(optimizer)'")
        }
        guard ["classification", "regression"].contains(taskKind) else { throw ValidationError("--task must be classification or regression, got \(taskKind)") }
        if taskKind == "regression" && !(data ?? "").lowercased().hasSuffix(".csv") {
            throw ValidationError("--task regression needs --data FILE.csv (got \(data ?? "the built-in dataset"))")
        }
        if let f = cvFold, !(cvFolds >= 2 && (1...cvFolds).contains(f)) {
            throw ValidationError("--cv-fold \(f) must be in 1…--cv-folds (\(cvFolds), at least 2)")
        }
        guard prefetch >= 0 else { throw ValidationError("--prefetch must be 0 (off) or a positive number of steps, got \(prefetch)") }
        guard checkpointEvery > 0 else { throw ValidationError("--checkpoint-every must be positive, got \(checkpointEvery)") }
        guard keepLast >= 0, keepEvery >= 0 else { throw ValidationError("--keep-last and --keep-every must be ≥ 0") }
        if resume == "auto" && checkpointDir == nil { throw ValidationError("--resume auto needs --checkpoint-dir") }
        guard hiddenSizes != nil else { throw ValidationError("--hidden must be comma-separated positive integers, got '\(hiddenText)'") }
    }

    /// `--hidden`, or the model's default.
    var hiddenText: String { hidden ?? ModelZoo.defaultHidden(model) }

    var hiddenSizes: [Int]? {
        let parts = hiddenText.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return parts.map { $0! }
    }

    /// Trains under supervision: any error ends the process here with its exit code and report
    /// (RankSupervision.swift); a SIGTERM or the coordinator's command ends it with a checkpoint and 0.
    func run() throws {
        let supervisor = RankSupervisor(rank: RunInfo.current.rank)
        do { try train(supervisor) } catch { supervisor.exit(for: error) }
    }

    func train(_ supervisor: RankSupervisor) throws {
        // Deterministic mode pins BLAS to one thread: a GEMM's bits depend on how it is split.
        let usedThreads = try BLASRuntime.configureThreads(requested: threads ?? (deterministic ? 1 : nil))
        let comm: any Communicator = RunInfo.current.worldSize > 1 ? try MPIRuntime.initialize() : SingleProcessCommunicator()
        try supervisor.start(comm: comm, collectiveTimeout: collectiveTimeout, faultSpec: injectFault)
        guard batchSize % comm.size == 0 else {
            let valid = (1...batchSize).filter { batchSize % $0 == 0 }.map(String.init).joined(separator: ", ")
            throw CohortError.badFlag(flag: "--global-batch", "\(batchSize) does not divide among \(comm.size) ranks; valid world sizes: \(valid)")
        }
        let localBatch = batchSize / comm.size
        guard accumulate >= 1, localBatch % accumulate == 0 else {
            throw CohortError.badFlag(flag: "--accumulate", "\(accumulate) must be ≥ 1 and divide the per-rank batch \(localBatch)")
        }
        let task = try makeTask()
        let shape = task.modelShape
        var generator = RandomGenerator(seed: seed)
        let spec = ModelSpec(name: model, hidden: hiddenSizes!, layers: layers, heads: heads, dModel: dModel, embedding: embedding)
        let net = try ModelZoo.build(spec, shape: shape, generator: &generator)
        let arena = ParameterArena(net)
        let ddp = try DataParallel(model: net, arena: arena, communicator: comm, bucketMegabytes: bucketMB)
        ddp.watchdog = supervisor.watchdog
        var reducer: VirtualShardReducer?
        if deterministic {
            guard accumulate == 1 else { throw CohortError.badFlag(flag: "--accumulate", "cannot be combined with --deterministic (use --virtual-shards)") }
            guard batchSize % virtualShards == 0 else {
                throw CohortError.badFlag(flag: "--virtual-shards", "\(virtualShards) shards do not divide the global batch \(batchSize)")
            }
            reducer = try VirtualShardReducer(shards: virtualShards, communicator: comm, elements: arena.count)
            reducer?.watchdog = supervisor.watchdog
            ddp.noSync = true   // gradients are combined by the fixed tree instead
        }
        let opt = makeOptimizer(arena)
        let stepsPerEpoch = task.count / batchSize
        guard stepsPerEpoch > 0 else {
            throw CohortError.badFlag(flag: "--batch-size", "\(batchSize) is larger than the training set (\(task.count) samples)")
        }
        let totalSteps = steps ?? epochs * stepsPerEpoch
        let schedule: any LRSchedule = lrSchedule == "cosine"
            ? CosineWithWarmup(base: lr, warmup: max(totalSteps / 20, 1), total: totalSteps, minimum: lr * 0.01)
            : ConstantLR(lr)
        Log.main("cohort train: model \(model) \(net.parameterCount) parameters, \(task.summary), "
                 + "global batch \(batchSize) (\(localBatch) × \(comm.size) ranks), \(totalSteps) steps, \(optimizer) lr \(lr), BLAS \(BLAS.coreName) × \(usedThreads) threads")

        var batches = try BatchIterator(count: task.count, name: task.name, batchSize: batchSize, shuffle: true, dropLast: true, seed: seed)
        let checkpoints = TrainCheckpointing(directory: checkpointDir, every: checkpointEvery, keepLast: keepLast, keepEvery: keepEvery,
                                             async: asyncCheckpoint, config: runConfig(task: task, totalSteps: totalSteps),
                                             onSaved: supervisor.reportSaved)
        var losses: [Float] = []
        var startStep = 0
        if let point = try checkpoints.resume(resume, arena: arena, optimizer: opt, model: net) {
            guard point.step <= totalSteps else {
                throw CohortError.badFlag(flag: "--resume", "\(point.path) is at step \(point.step), past this run's \(totalSteps) steps")
            }
            startStep = point.step
            losses = point.losses
            try batches.seek(to: point.samplesConsumed)
        }
        /// Rank 0: saves the state after `completed` steps (fault injection may kill the write).
        func saveCheckpoint(after completed: Int) throws {
            if supervisor.crashesCheckpoint(atStep: completed) { checkpoints.crashDuringNextSave = true }
            var cursor = DataCursorRecord()
            cursor.shuffleSeed = seed
            cursor.epoch = batches.epoch
            cursor.sampleInEpoch = batches.positionInEpoch
            cursor.samplesConsumed = batches.cursor
            cursor.dataset = task.name
            cursor.datasetSize = task.count
            var modelRecord = ModelRecord()
            modelRecord.name = model
            modelRecord.settings = spec.settings + [KeyValue("inputs", "\(shape.inputs)"), KeyValue("classes", "\(shape.outputs)")]
                + (task.tokenizer.map { [KeyValue("tokenizer", $0.serialized)] } ?? [])
            modelRecord.parameterCount = net.parameterCount
            var scheduleRecord = ScheduleRecord()
            scheduleRecord.kind = lrSchedule
            scheduleRecord.parameters = [NamedValue("base_lr", Double(lr)), NamedValue("total_steps", Double(totalSteps))]
            scheduleRecord.step = completed
            try checkpoints.save(step: completed, epoch: batches.epoch, cursor: cursor, batchSize: batchSize, model: modelRecord,
                                 arena: arena, optimizer: opt, schedule: scheduleRecord, losses: losses,
                                 rng: [RNGRecord(name: "init", words: generator.state)]
                                    + net.namedRandomStates().map { RNGRecord(name: "module/" + $0.name, words: $0.state) },
                                 metadata: try parsedMetadata())
        }
        var trainSeconds = 0.0, commSeconds = 0.0, dataSeconds = 0.0
        var phases = StepTimes()
        var stop: (step: Int, reasons: StopReasons)?
        let trace = comm.rank == 0 ? try traceSamples.map(SampleTrace.init) : nil
        var windowStart = monotonicSeconds(), windowSamples = 0
        /// This rank's batches of one step (virtual shards, or micro-batches of its slice), from the step's global sample ids.
        func stepBatches(_ global: [Int]) throws -> [(inputs: Tensor, targets: Targets)] {
            if let reducer {
                let shardSize = batchSize / reducer.shards
                return try (0..<reducer.perRank).map { i in
                    let j = reducer.firstShard + i
                    return try task.batch(Array(global[(j * shardSize)..<((j + 1) * shardSize)]))
                }
            }
            let first = comm.rank * localBatch, micro = localBatch / accumulate
            return try (0..<accumulate).map { m in try task.batch(Array(global[(first + m * micro)..<(first + (m + 1) * micro)])) }
        }
        // Prefetch: a copy of the data iterator runs `prefetch` steps ahead of `batches` and the
        // worker prepares those steps' batches during compute; the order (and the checkpointed
        // cursor, which stays with `batches`) is exactly the same as without it.
        let prefetcher = prefetch > 0 ? Prefetcher<(ids: [Int], batches: [(inputs: Tensor, targets: Targets)])>() : nil
        var ahead = batches
        var submitted = startStep
        func refill() {
            guard let prefetcher else { return }
            while prefetcher.pending < prefetch && submitted < totalSteps {
                let ids = ahead.nextIndices().indices
                prefetcher.submit { (ids, try stepBatches(ids)) }
                submitted += 1
            }
        }
        refill()
        net.train()
        for step in startStep..<totalSteps {
            let t0 = monotonicSeconds()   // the step's time includes the supervisor's work (and injected slowness)
            supervisor.beginStep(step + 1)
            let global = batches.nextIndices().indices
            try trace?.record(step: step + 1, global)
            let d0 = monotonicSeconds()
            var stepData: [(inputs: Tensor, targets: Targets)]
            if let prefetcher {
                let (prepared, _) = try prefetcher.next()
                guard prepared.ids == global else {
                    throw CohortError.invalidArgument("step \(step + 1): prefetched batch does not match the data order (internal error)")
                }
                stepData = prepared.batches
                refill()
            } else {
                stepData = try stepBatches(global)
            }
            dataSeconds += monotonicSeconds() - d0
            phases.add(data: monotonicSeconds() - d0)
            schedule.apply(to: opt)
            opt.zeroGrad()
            var localLoss: Float = 0
            if let reducer {
                // Deterministic: one backward per virtual shard, then the fixed-order tree.
                for i in 0..<reducer.perRank {
                    let batch = stepData[i]
                    arena.zeroGrad()
                    let loss = try task.loss(net(batch.inputs), batch.targets)
                    localLoss += try loss.item() / Float(reducer.perRank)
                    try loss.backward()
                    reducer.store(local: i, from: arena.grads.pointer)
                }
                let c0 = monotonicSeconds()
                try reducer.reduce(into: arena.grads.pointer)
                commSeconds += monotonicSeconds() - c0
                phases.add(comm: monotonicSeconds() - c0)
            } else {
            // Gradient accumulation: k micro-batches, communication only after the last.
            for m in 0..<accumulate {
                let batch = stepData[m]
                ddp.noSync = m < accumulate - 1
                let loss = try task.loss(net(batch.inputs), batch.targets)
                localLoss += try loss.item() / Float(accumulate)
                try (accumulate == 1 ? loss : loss / Float(accumulate)).backward()
            }
            }
            // The global loss (mean over ranks): every rank sees the same value and decisions,
            // including whether to stop after this step (a signal or command on any rank).
            let a0 = monotonicSeconds()
            let (value, stopReasons) = try supervisor.agree(loss: localLoss, step: step + 1, comm: comm)
            phases.add(comm: monotonicSeconds() - a0)
            guard value.isFinite else {
                let culprit = arena.firstNonFiniteValue().map { "; first non-finite parameter: \($0)" } ?? ""
                let shown = value.isNaN ? "NaN" : (value > 0 ? "+infinity" : "-infinity")
                throw CohortError.nonFinite("step \(step + 1): the training loss (cross-entropy of the model's logits) is \(shown)\(culprit). "
                                            + "Try a smaller --lr (now \(lr)) or --clip-grad-norm.")
            }
            if reducer == nil {
                try ddp.synchronize(timeout: collectiveTimeout)
                commSeconds += ddp.lastWaitSeconds
                phases.add(comm: ddp.lastWaitSeconds)
            }
            let o0 = monotonicSeconds()
            if clipGradNorm > 0 { CohortOptim.clipGradNorm(arena, maxNorm: clipGradNorm) }
            if let bad = arena.firstNonFiniteGrad() {
                throw CohortError.nonFinite("step \(step + 1): gradient of \(bad) is not finite (loss \(value))")
            }
            try checkpoints.beforeParameterUpdate()
            opt.step()
            phases.add(optimizer: monotonicSeconds() - o0)
            phases.finishStep(total: monotonicSeconds() - t0)   // checkpoint saves are not part of a step's phases
            losses.append(value)
            if checkpoints.due(afterStep: step + 1, total: totalSteps) {
                try ddp.averageBuffers()   // every rank: BatchNorm statistics become one model's
                if comm.rank == 0 { try saveCheckpoint(after: step + 1) }
            }
            supervisor.completed(step: step + 1)
            trainSeconds += monotonicSeconds() - t0
            windowSamples += batchSize
            if (step + 1) % logEvery == 0 || step + 1 == totalSteps {
                let t = monotonicSeconds()
                Log.main(String(format: "step %d/%d epoch %d loss %.4f lr %.2e %.0f samples/s",
                                step + 1, totalSteps, step / stepsPerEpoch + 1, value, opt.learningRate,
                                Double(windowSamples) / (t - windowStart)))
                windowStart = t; windowSamples = 0
            }
            if !stopReasons.isEmpty && step + 1 < totalSteps { stop = (step + 1, stopReasons); break }
        }
        if let stop {
            try ddp.averageBuffers()
            if comm.rank == 0 && checkpoints.lastSavedStep != stop.step { try saveCheckpoint(after: stop.step) }
            try checkpoints.finish()
            try supervisor.preempted(atStep: stop.step, reasons: stop.reasons, checkpointDirectory: checkpointDir, comm: comm)
            return
        }
        try checkpoints.finish()
        let recentLosses = Array(losses.suffix(stepsPerEpoch))
        try ddp.averageBuffers()
        net.eval()
        let metrics = try task.evaluate(net, comm, CollectiveGuard { op, body in try supervisor.guarding(op, body) })
        if let addition = task as? AdditionTask, comm.rank == 0 {
            for line in try addition.samples(net, count: 5) { Log.main("sample: " + line) }
        }
        let trainLoss = recentLosses.reduce(0, +) / Float(max(recentLosses.count, 1))
        let samplesPerSec = Double((totalSteps - startStep) * batchSize) / max(trainSeconds, 1e-9)
        let sha = arena.sha256()
        let perRankTimes = stepTimes ? try supervisor.guarding("allreduce of the step times") { try phases.gathered(comm) } : nil
        Log.main(String(format: "done: train loss %.4f, %@, %.0f samples/s, weights sha256 %@",
                        trainLoss, metrics.map(\.text).joined(separator: ", "), samplesPerSec, sha))
        if let path = summaryJSON, comm.rank == 0 {
            var summary: [String: Any] = [
                "model": model, "dataset": task.name, "train_loss": Double(trainLoss),
                "steps": totalSteps, "epochs": Double(totalSteps) / Double(stepsPerEpoch), "batch_size": batchSize,
                "samples_per_sec": samplesPerSec, "world_size": comm.size, "weights_sha256": sha,
                "local_batch": localBatch, "gradient_transport": comm.size == 1 ? "none" : deterministic ? "virtual shards" : ddp.transport,
                "deterministic": deterministic, "virtual_shards": deterministic ? virtualShards : 0, "comm_wait_seconds": commSeconds, "data_wait_seconds": dataSeconds,
                "compute_seconds": trainSeconds - commSeconds - dataSeconds, "train_seconds": trainSeconds, "accumulate": accumulate,
                "parameters": net.parameterCount, "prefetch": prefetch, "seed": seed, "blas_kernel": BLAS.coreName, "blas_threads": usedThreads,
            ]
            for m in metrics { summary[m.name] = m.value }
            if let perRankTimes {
                summary["step_time_phases"] = StepTimes.phases
                summary["step_times"] = perRankTimes
                summary["first_timed_step"] = startStep + 1
                summary["gradient_bytes"] = arena.count * 4
                summary["tokens_per_sample"] = shape.sequence ? shape.inputs : 0
            }
            try writeJSON(summary, to: path)
        }
        supervisor.finished(step: totalSteps, comm: comm)
    }

    /// `--metadata key=value` pairs, in the order given.
    func parsedMetadata() throws -> [KeyValue] {
        try metadata.map { item in
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw CohortError.badFlag(flag: "--metadata", "expected key=value, got '\(item)'")
            }
            return KeyValue(String(item[..<eq]), String(item[item.index(after: eq)...]))
        }
    }

    /// The settings that decide the run's result; a resumed run must match them.
    func runConfig(task: any TrainTask, totalSteps: Int) -> [KeyValue] {
        [KeyValue("model", model), KeyValue("dataset", "\(task.name) (\(task.count) samples)"), KeyValue("hidden", hiddenText), KeyValue("model_sizes", "\(layers)/\(heads)/\(dModel)/\(embedding)"),
         KeyValue("batch_size", "\(batchSize)"), KeyValue("optimizer", optimizer), KeyValue("lr", "\(lr)"),
         KeyValue("momentum", "\(momentum)"), KeyValue("weight_decay", "\(weightDecay)"), KeyValue("lr_schedule", lrSchedule),
         KeyValue("clip_grad_norm", "\(clipGradNorm)"), KeyValue("seed", "\(seed)"), KeyValue("total_steps", "\(totalSteps)"),
         KeyValue("deterministic", deterministic ? "virtual shards \(virtualShards)" : "off"), KeyValue("accumulate", "\(accumulate)")]
            + (taskKind == "regression" ? [KeyValue("task", taskKind)] : [])
            + (cvFold.map { [KeyValue("cv_fold", "\($0) of \(cvFolds)")] } ?? [])   // absent for classification: older checkpoints still resume
    }

    /// The task `--data` names: an MNIST-format directory (classification), a text file or a
    /// directory holding `input.txt` (next-token prediction with `--context`), `addition` (the
    /// built-in addition corpus), or nothing: the built-in synthetic classification set, or the
    /// addition corpus for sequence models.
    func makeTask() throws -> any TrainTask {
        let sequenceModel = ModelZoo.sequenceModels.contains(model)
        guard let data else {
            if sequenceModel { return try AdditionTask(digits: digits, trainCount: 200_000, testCount: 2_000, seed: seed) }
            let (train, test) = try SyntheticDataset.make(seed: seed)
            return ClassificationTask(train: train, test: test)
        }
        if data == "addition" { return try AdditionTask(digits: digits, trainCount: 200_000, testCount: 2_000, seed: seed) }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory)
        let text = !exists || isDirectory.boolValue ? data + "/input.txt" : data
        if exists && (!isDirectory.boolValue || FileManager.default.fileExists(atPath: text)) && sequenceModel {
            return try LanguageModelTask(corpusPath: text, context: context)
        }
        if sequenceModel {
            throw CohortError.badFlag(flag: "--data", "\(data): --model \(model) needs a text file (or a directory with input.txt), or 'addition'")
        }
        if data.lowercased().hasSuffix(".csv") && taskKind == "regression" {
            let table = try CSVDataset.regression(path: data, targetColumn: labelColumn)
            return try RegressionTask(table: table, name: URL(fileURLWithPath: data).deletingPathExtension().lastPathComponent, seed: seed)
        }
        // MNIST-format images, or a CSV table (stratified 80/20 split by the seed, standardized with the training part).
        let (train, test) = try ClassificationData.split(data: data, labelColumn: labelColumn, seed: seed,
                                                         fold: cvFold.map { ($0 - 1, cvFolds) })
        return ClassificationTask(train: train, test: test)
    }

    func makeOptimizer(_ arena: ParameterArena) -> any Optimizer {
        switch optimizer {
        case "sgd": return SGD(arena, lr: lr, momentum: momentum, weightDecay: weightDecay)
        case "adamw": return AdamW(arena, lr: lr, weightDecay: weightDecay)
        case "rmsprop": return RMSprop(arena, lr: lr, momentum: momentum, weightDecay: weightDecay)
        default: return Adam(arena, lr: lr, weightDecay: weightDecay)
        }
    }
}

/// Writes `object` as pretty, key-sorted JSON, creating parent directories.
func writeJSON(_ object: [String: Any], to path: String) throws {
    let url = URL(fileURLWithPath: path)
    do {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: url, options: .atomic)
    } catch {
        throw CohortError.badFile(path: path, "cannot write the summary: \(error.localizedDescription)")
    }
}

/// Appends "step N: id id …" lines to a file (the samples each step trained on).
final class SampleTrace {
    let handle: FileHandle
    let path: String
    init(_ path: String) throws {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw CohortError.badFile(path: path, "cannot open for --trace-samples") }
        h.seekToEndOfFile()
        handle = h
    }
    func record(step: Int, _ ids: [Int]) throws {
        handle.write(Data(("step \(step): " + ids.map(String.init).joined(separator: " ") + "\n").utf8))
    }
    deinit { try? handle.close() }
}
