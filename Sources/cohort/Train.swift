// `cohort train`: mini-batch training of a built-in model (mlp, cnn, resnet, lstm,
// gpt) on the Trainer, alone or data-parallel under mpirun / cohort launch, with
// checkpoints, validation and a JSON summary. Data: the built-in synthetic set
// (default, no download), MNIST-format IDX, CSV tables, text or `addition`.
import ArgumentParser
import CohortCore
import CohortCheckpoint
import CohortCollectives
import CohortControl
import CohortData
import CohortDistributed
import CohortKernels
import CohortOptim
import CohortRunLog
import CohortRuntime
import CohortTensor
import CohortTrainer
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train a built-in model (mlp, cnn, resnet, lstm, gpt) alone or data-parallel under mpirun, with checkpoints and exact resume.")

    @Option(help: "Model: mlp, cnn, resnet (images), lstm or gpt (text), dcgan (a GAN of 28×28 images), detector (--task detect); docs/cli.md lists what each takes.") var model = "mlp"
    @Option(help: "A YAML (.yaml, .yml) or TOML (.toml) file of these options (keys without --); flags given here override it (docs/cli.md, Config files).") var config: String?
    @Option(name: .train(TrainFlags.data), help: "MNIST-format IDX directory, a CSV file (classification; stratified 80/20 split), a text file (sequence models) or 'addition'. Default: the built-in synthetic dataset.") var data: String?
    @Option(name: .train(TrainFlags.epochs), parsing: .unconditional, help: "Epochs to train (ignored when --steps is given).") var epochs = 3
    @Option(name: .train(TrainFlags.steps), parsing: .unconditional, help: "Total optimizer steps (overrides --epochs).") var steps: Int?
    @Option(name: .train(TrainFlags.globalBatch), parsing: .unconditional, help: "Global mini-batch size (all ranks together); each rank takes global ÷ ranks.") var batchSize = TrainFlags.defaultGlobalBatch
    @Option(parsing: .unconditional, help: "Accumulate gradients over k micro-batches per optimizer step (communicating once).") var accumulate = 1
    @Flag(name: .train(TrainFlags.deterministic), help: "Deterministic mode: bitwise-identical updates for any world size dividing --virtual-shards (1 BLAS thread unless --threads).") var deterministic = false
    @Option(name: .train(TrainFlags.virtualShards), parsing: .unconditional, help: "Virtual shards per global batch in deterministic mode; results are bitwise the same for every world size dividing it (e.g. 12: 1, 2, 3, 4, 6 or 12 ranks).") var virtualShards = TrainFlags.defaultVirtualShards
    @Option(name: .train(TrainFlags.bucketMB), parsing: .unconditional, help: "Gradient bucket size for the data-parallel allreduce, in MB.") var bucketMB: Double = 25
    @Option(parsing: .unconditional, help: "Hidden layer widths, comma-separated (mlp; default 512,256; none: no hidden layer), or the LSTM's hidden size (default 256).") var hidden: String?
    @Option(parsing: .unconditional, help: "Layers (gpt, lstm).") var layers = 4
    @Option(parsing: .unconditional, help: "Attention heads (gpt).") var heads = 4
    @Option(name: .customLong("d-model"), parsing: .unconditional, help: "Transformer width (gpt).") var dModel = 256
    @Option(parsing: .unconditional, help: "Token embedding width (lstm).") var embedding = 64
    @Option(help: "Optimizer: sgd, adam, adamw, rmsprop.") var optimizer = "adam"
    @Option(parsing: .unconditional, help: "Learning rate.") var lr: Float = 1e-3
    @Option(parsing: .unconditional, help: "Momentum (sgd, rmsprop).") var momentum: Float = 0.9
    @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "Weight decay.") var weightDecay: Float = 0
    @Option(name: .customLong("param-group"), help: "A parameter group 'GLOB:lr=X,weight-decay=Y' over dotted parameter names (repeatable; the first matching GLOB wins).") var paramGroup: [String] = []
    @Option(help: "Freeze the parameters matching GLOB[,GLOB…] (dotted names): no gradient, communication, update or weight decay.") var freeze: String?
    @Option(name: .customLong("unfreeze-at"), parsing: .unconditional, help: "With --freeze: train the frozen parameters too from this step on.") var unfreezeAt: Int?
    @Flag(name: .customLong("decay-all"), help: "Apply --weight-decay to every parameter (default: not to biases, norm gains and embeddings).") var decayAll = false
    @OptionGroup var schedule: ScheduleFlags
    @OptionGroup var gan: GANFlags
    @OptionGroup var gradComm: GradCommFlags
    @OptionGroup var syncBN: SyncBNFlags
    @Option(name: .train(TrainFlags.dropout), parsing: .unconditional, help: "Dropout probability P (0 ≤ P < 1) in training: after each hidden ReLU of the mlp, before the cnn's classifier; off in evaluation, predict and export. 0: no dropout layer.") var dropout: Float = 0
    @Option(name: .train(TrainFlags.labelSmoothing), parsing: .unconditional, help: "Classification and text: smooth the cross-entropy targets by EPS (0 ≤ EPS < 1; PyTorch's label_smoothing); held-out metrics stay unsmoothed.") var labelSmoothing: Float = 0
    @Option(name: .customLong("clip-grad-norm"), parsing: .unconditional, help: "Clip the global gradient norm to this value (0 = off).") var clipGradNorm: Float = 0
    @Option(parsing: .unconditional, help: "Seed (a whole number ≥ 0) for every random draw (initialisation, shuffling, synthetic data).") var seed: UInt64 = 0
    @Option(name: .train(TrainFlags.threads), parsing: .unconditional, help: "BLAS threads (default: OPENBLAS_NUM_THREADS, else cores per rank).") var threads: Int?
    @Option(name: .train(TrainFlags.logEvery), parsing: .unconditional, help: "Print progress every N steps.") var logEvery = 100
    @Option(name: .train(TrainFlags.summaryJSON), help: "Write a JSON summary of the run to this file.") var summaryJSON: String?
    @Option(name: .train(TrainFlags.checkpointDirectory), help: "Directory for step-NNNNNNNN checkpoints.") var checkpointDir: String?
    @Option(name: .train(TrainFlags.checkpointEvery), parsing: .unconditional, help: "Save every N steps (and at the end) when --checkpoint-dir is set.") var checkpointEvery = 500
    @Option(name: .train(TrainFlags.resume), help: "Resume: 'auto' (newest good checkpoint in --checkpoint-dir, if any) or a checkpoint path.") var resume: String?
    @Flag(help: "With --resume: continue the run with more --steps and/or a new --lr (every other setting must match); the change is printed and recorded in its checkpoints.") var extend = false
    @Option(name: .customLong("init-from"), help: "Start from pretrained weights: a checkpoint (directory), a .safetensors or a .npz file, matched by name; optimizer, step and data start fresh. A resumed run takes its checkpoint's weights instead.") var initFrom: String?
    @Flag(name: .customLong("init-strict"), inversion: .prefixedNo, help: "With --init-from: fail unless every model tensor is loaded and every source tensor used (--no-init-strict loads what matches and lists the rest).") var initStrict = true
    @Option(name: .customLong("name-map"), help: "With --init-from: rename the source's tensors, by a built-in map (torch: the PyTorch reference definitions, docs/parameter-names.md) or a .yaml/.yml/.toml map file.") var nameMap: String?
    @Option(help: "With --init-from: keep the model's own initialisation for the tensors matching GLOB[,GLOB…] (a new head; their shape mismatches are expected).") var reinit: String?
    @Option(name: .customLong("keep-last"), parsing: .unconditional, help: "Keep the newest K checkpoints (0 = keep all).") var keepLast = 3
    @Option(name: .customLong("keep-every"), parsing: .unconditional, help: "Also keep every checkpoint whose step is a multiple of N (0 = off).") var keepEvery = 0
    @OptionGroup var checkpointWrites: CheckpointWriteFlags
    @Option(help: "User metadata stored in checkpoints, key=value (repeatable).") var metadata: [String] = []
    @Option(parsing: .unconditional, help: "Steps of batches prepared ahead on a background thread while steps compute (0, the default: prepare in the step; in-memory datasets gather a batch faster than the hand-off).") var prefetch = 0
    @Flag(name: .train(TrainFlags.stepTimes), help: "Record every rank's per-step phase times (data, compute, comm wait, optimizer, total) in --summary-json.") var stepTimes = false
    @Option(name: .customLong("trace-samples"), help: "Append each step's global sample ids to this file (rank 0), for checking data order.") var traceSamples: String?
    @Option(name: .customLong("label-column"), help: "CSV data: the label (or regression target) column (default: the last).") var labelColumn: String?
    @Option(name: .train(TrainFlags.cvFold), parsing: .unconditional, help: "CSV data: hold out fold I (1-based) of --cv-folds folds (stratified for classification) instead of 20 % (cohort cv sets it).") var cvFold: Int?
    @Option(name: .train(TrainFlags.cvFolds), parsing: .unconditional, help: "Number of cross-validation folds for --cv-fold.") var cvFolds = 5
    @Option(name: .train(TrainFlags.cvParallelFolds), parsing: .unconditional, help: .hidden) var cvParallelFolds: Int?   // cohort cv --parallel (CrossValidate.swift)
    @Option(name: .customLong("task"), help: "CSV data: classification (default), regression (MSE loss; MAE, RMSE, R²) or forecast (a series' next --horizon values from --context values; docs/timeseries.md); detect: object detection with --model detector (docs/detection.md).") var taskKind = "classification"
    @Option(parsing: .unconditional, help: "Tokens per training sample for text data (sequence models).") var context = 128
    @Option(parsing: .unconditional, help: "Digits per operand of the built-in addition corpus.") var digits = 3
    @Option(name: .train(TrainFlags.collectiveTimeout), parsing: .unconditional, help: "Seconds any collective wait of a step may last before the rank reports it and exits 3.") var collectiveTimeout: Double = 600
    @Option(name: .train(TrainFlags.valSplit), parsing: .unconditional, help: "Hold out this fraction F (0 < F < 1) of the training data for validation (stratified for classes, the last F for sequences, random for regression); val_* metrics select, the test split is scored once at the end. 0: none.") var valSplit: Double = 0
    @Option(name: .customLong("val-every"), parsing: .unconditional, help: "Validate (val_* metrics) every N steps (default: only after the last step); needs --val-split.") var valEvery: Int?
    @Option(name: .customLong("early-stop"), help: "Finish early when this validation metric (e.g. val_loss, val_accuracy) stops improving; needs --val-split and --val-every.") var earlyStop: String?
    @Option(parsing: .unconditional, help: "Validations without improvement before --early-stop finishes the run.") var patience = 3
    @Option(name: .train(TrainFlags.saveBest), help: "Keep the checkpoint with the best value of this validation metric (val_*) in CHECKPOINT_DIR/best and report its test metrics; needs --val-split and --val-every.") var saveBest: String?
    @Option(name: .customLong("monitor-mode"), help: "min or max for --early-stop/--save-best (default: min for names ending in loss/mae/mse/rmse/mase/error, else max).") var monitorModeFlag: String?
    @Option(name: .customLong("on-nan"), help: "A non-finite loss or gradient: stop (default, an error naming the step) or skip the update (every rank skips the same steps).") var onNaN = "stop"
    @Option(name: .customLong("nan-patience"), parsing: .unconditional, help: "With --on-nan skip: stop after this many skipped steps in a row.") var nanPatience = 10
    @Option(name: .train(TrainFlags.haltAt), parsing: .unconditional, help: .hidden) var haltAt: Int?   // cohort tune: finish (checkpoint, validate) at this step
    @Flag(name: .customLong("log-grad-norm"), help: "Log the global gradient norm (grad_norm) with each log record.") var logGradNorm = false
    @Option(name: .train(TrainFlags.logDirectory), help: "Run directory for metrics.jsonl, a TensorBoard event file and confusion.json (cohort plot draws it); {fold} is replaced by the cross-validation fold.") var logDir: String?
    @Flag(inversion: .prefixedNo, help: "Write the TensorBoard event file in --log-dir.") var tensorboard = true
    @Option(help: "Progress display on rank 0: auto (a live bar on a terminal, else lines), bar or lines.") var progress = "auto"
    @Option(name: .customLong("train-samples"), parsing: .unconditional, help: "Classification data: train on only the first N samples of the training part (after --val-split), e.g. a 1,000-image fine-tuning set; the held-out parts stay whole.") var trainSamples: Int?
    @Option(help: "Training-image augmentation, e.g. crop:2,hflip,affine:10,noise:0.05,cutout:8 (docs/augmentation.md); seeded per step and sample.") var augment: String?
    @Option(name: .customLong("inject-fault"), help: "Faults to inject, KIND@STEP[:rank=R][:attempt=A][:ms=M],… (docs/cli.md); overrides COHORT_FAULT.") var injectFault: String?
    @OptionGroup var forecast: ForecastFlags
    @OptionGroup var tokenizer: TokenizerFlags
    @OptionGroup var trace: TraceFlags
    @OptionGroup var allreduce: AllreduceFlags
    @OptionGroup var activations: ActivationFlags

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--global-batch (--batch-size) must be positive, got \(batchSize)") }
        guard epochs > 0 || steps != nil else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        if let steps, steps <= 0 { throw ValidationError("--steps must be positive, got \(steps)") }
        try validateNumbers()
        _ = try allreduce.algorithm()
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
        try schedule.validate(valEvery: valEvery, valSplit: valSplit)
        try gan.check(model: model)
        try gradComm.check(model: model, deterministic: deterministic)
        try syncBN.check(model: model)
        guard ["sgd", "adam", "adamw", "rmsprop"].contains(optimizer) else {
            throw ValidationError("--optimizer must be one of sgd, adam, adamw, rmsprop; got '\(optimizer)'")
        }
        guard ["classification", "regression", "forecast", "detect"].contains(taskKind) else { throw ValidationError("--task must be classification, regression, forecast or detect, got \(taskKind)") }
        try validateForecast()
        try validateDetection()
        try tokenizer.check(model: model, data: data, taskKind: taskKind)
        try activations.validate(model: model)
        if taskKind == "regression" && !(data ?? "").lowercased().hasSuffix(".csv") {
            throw ValidationError("--task regression needs --data FILE.csv (got \(data ?? "the built-in dataset"))")
        }
        if dropout > 0 && !ModelZoo.dropoutModels.contains(model) {
            throw ValidationError("--dropout applies to --model \(ModelZoo.dropoutModels.joined(separator: " or ")); \(model) has no dropout")
        }
        if labelSmoothing > 0 && taskKind == "regression" {
            throw ValidationError("--label-smoothing smooths class targets; --task regression has none (MSE loss)")
        }
        if let f = cvFold, !(cvFolds >= 2 && (1...cvFolds).contains(f)) {
            throw ValidationError("--cv-fold \(f) must be in 1…--cv-folds (\(cvFolds), at least 2)")
        }
        guard valSplit >= 0, valSplit < 1, valSplit.isFinite else { throw ValidationError("--val-split must be a fraction in [0, 1) (0: no validation split), got \(valSplit)") }
        guard prefetch >= 0 else { throw ValidationError("--prefetch must be 0 (off) or a positive number of steps, got \(prefetch)") }
        guard checkpointEvery > 0 else { throw ValidationError("--checkpoint-every must be positive, got \(checkpointEvery)") }
        guard keepLast >= 0, keepEvery >= 0 else { throw ValidationError("--keep-last and --keep-every must be ≥ 0") }
        if nameMap != nil && initFrom == nil { throw ValidationError("--name-map renames an --init-from source's tensors; give --init-from too") }
        if resume == "auto" && checkpointDir == nil { throw ValidationError("--resume auto needs --checkpoint-dir") }
        if reinit != nil && initFrom == nil { throw ValidationError("--reinit needs --init-from (it keeps a fresh initialisation for some tensors of a pretrained model)") }
        var isDirectory: ObjCBool = false
        if let dir = checkpointDir, FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ValidationError("--checkpoint-dir: checkpoint directory \(dir) exists and is not a directory")
        }
        if hiddenText.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--hidden is empty: give comma-separated positive widths (e.g. 512,256), or --hidden none for an MLP without hidden layers")
        }
        guard let sizes = hiddenSizes else { throw ValidationError("--hidden must be comma-separated positive integers (or none), got '\(hiddenText)'") }
        if sizes.isEmpty && model == "lstm" { throw ValidationError("--hidden none: --model lstm needs a hidden size (e.g. --hidden 256)") }
    }

    /// `--hidden`, or the model's default.
    var hiddenText: String { hidden ?? (taskKind == "forecast" ? ForecastModels.defaultHidden : ModelZoo.defaultHidden(model)) }

    /// The widths `--hidden` gives ([] for `none`: an MLP straight from inputs to classes); nil
    /// when it is not a list of positive integers (an empty item included).
    var hiddenSizes: [Int]? {
        if hiddenText.trimmingCharacters(in: .whitespaces).lowercased() == "none" { return [] }
        let parts = hiddenText.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return parts.map { $0! }
    }

    /// Trains under supervision: any error ends the process here with its exit code and report
    /// (RankSupervision.swift); a SIGTERM or the coordinator's command ends it with a checkpoint and 0.
    func run() throws {
        let supervisor = RankSupervisor(rank: RunInfo.current.rank)
        do { try train(supervisor) } catch { supervisor.exitCommandLine(for: error) }
    }

    func train(_ supervisor: RankSupervisor) throws {
        // MPI first (whenever a launcher started this process): the default thread count
        // divides the node's cores by the ranks MPI places on it.
        var comm = try World.start()
        // Deterministic mode pins BLAS to one thread: a GEMM's bits depend on how it is split.
        let usedThreads = try BLASRuntime.configureThreads(requested: threads ?? (deterministic ? 1 : nil))
        var run = self   // with --cv-parallel-folds: this rank's fold group and fold
        if let folds = cvParallelFolds {
            let group = try foldGroup(of: comm, folds: folds)
            (comm, run.cvFold, run.cvFolds) = (group.comm, group.fold, folds)
        }
        comm = try allreduce.arrange(comm, deterministic: deterministic)
        try supervisor.start(comm: comm, collectiveTimeout: collectiveTimeout, faultSpec: injectFault)
        guard batchSize % comm.size == 0 else {
            let valid = (1...batchSize).filter { batchSize % $0 == 0 }.map(String.init).joined(separator: ", ")
            throw CohortError.badFlag(flag: "--global-batch", "\(batchSize) does not divide among \(comm.size) ranks; valid world sizes: \(valid)")
        }
        let localBatch = batchSize / comm.size
        guard accumulate >= 1, localBatch % accumulate == 0 else {
            throw CohortError.badFlag(flag: "--accumulate", "\(accumulate) must be ≥ 1 and divide the per-rank batch \(localBatch)")
        }
        try checkSelection()   // before loading data: a flag mistake is reported at once
        let task = try run.makeTask()
        if let trainSamples, !(task is ClassificationTask) {
            throw CohortError.badFlag(flag: "--train-samples", "\(trainSamples): a training subset applies to classification data, not to \(task.name)")
        }
        if let augment, !(task is ClassificationTask) {
            throw CohortError.badFlag(flag: "--augment", "'\(augment)': augmentation applies to classification data (images), not to \(task.name)")
        }
        let shape = task.modelShape
        var generator = RandomGenerator(seed: seed)
        var spec = ModelSpec(name: model, hidden: hiddenSizes!, layers: layers, heads: heads, dModel: dModel, embedding: embedding)
        (spec.dropout, spec.latent, spec.pack) = (dropout, gan.latent, gan.pack)
        try ModelMemory.check(spec, shape: shape, optimizer: optimizer, momentum: momentum, ranksOnNode: RunInfo.current.localSize)
        let net = try network(for: task, spec, shape: shape, generator: &generator)
        try activations.apply(to: net, model: model)
        if let initFrom {
            try InitialWeights(source: initFrom, strict: initStrict, nameMap: nameMap,
                               reinitialize: reinit?.split(separator: ",").map(String.init) ?? []).load(into: net, spec: spec)
        }
        let stepsPerEpoch = task.count / batchSize
        guard stepsPerEpoch > 0 else {
            throw CohortError.badFlag(flag: "--batch-size", "\(batchSize) is larger than the training set (\(task.count) samples)")
        }
        let totalSteps = steps ?? epochs * stepsPerEpoch
        Log.main("cohort train: model \(model) \(net.parameterCount) parameters, \(task.summary), "
                 + "global batch \(batchSize) (\(localBatch) × \(comm.size) ranks), \(totalSteps) steps, \(optimizer) lr \(lr), BLAS \(BLAS.coreName) × \(usedThreads) threads")
        Log.main(try TrainingSummary(net, model: model, shape: shape, optimizer: optimizer, momentum: momentum, batch: localBatch / accumulate,
                                     frozen: freezeGlobs, zero: gradComm.zero, ranks: comm.size, checkpointActivations: activations.checkpointActivations).shortForm)

        let options = try run.trainerOptions(task: task, spec: spec, shape: shape, totalSteps: totalSteps, generator: generator)

        let trainer = try Trainer(options, callbacks: try run.makeCallbacks(), communicator: comm, supervision: supervisor)
        if let path = run.foldPath(traceSamples), comm.rank == 0 {
            let trace = try SampleTrace(path)
            trainer.onBatchIndices = { step, ids in try trace.record(step: step, ids) }
        }
        let fit = model == "dcgan" ? try trainer.fit(try run.ganModule(task: task, net: net))
            : try trainer.fit(TaskModule(task: task, network: net, settings: try taskOptions(), guarding: supervisor.collectiveGuard,
                                         poisoned: { supervisor.poisonsLoss(atStep: $0) }))
        if let preemption = fit.preemption {
            try supervisor.preempted(atStep: fit.steps, reason: preemption, checkpointDirectory: checkpointDir, comm: comm)
            if cvParallelFolds != nil { World.end() }   // a one-rank fold group does not end MPI's world
            return
        }
        if let addition = task as? AdditionTask, comm.rank == 0 {
            for line in try addition.samples(net, count: 5) { Log.main("sample: " + line) }
        }
        let bestText = fit.best.map { b in String(format: "; best checkpoint (step %d, %@ %.4f): ", b.step, b.monitor, b.value) + b.testMetrics.map(\.text).joined(separator: ", ") } ?? ""
        run.logFoldLine(rank: comm.rank, String(format: "done: train loss %.4f, %@%.0f samples/s, weights sha256 %@%@",
                        fit.trainLoss, fit.metrics.map { $0.text + ", " }.joined(), fit.samplesPerSecond, fit.weightsSHA256, bestText))
        if let path = run.foldPath(summaryJSON), comm.rank == 0 {
            try writeSummary(fit, to: path, task: task, net: net, shape: shape, comm: comm, totalSteps: totalSteps, usedThreads: usedThreads)
        }
        supervisor.finished(step: fit.steps, comm: comm)
        if cvParallelFolds != nil { World.end() }
    }

    /// The callbacks the flags ask for (progress lines always).
    func makeCallbacks() throws -> [any Callback] {
        guard ["auto", "bar", "lines"].contains(progress) else { throw CohortError.badFlag(flag: "--progress", "must be auto, bar or lines, got '\(progress)'") }
        let live = progress == "bar" || (progress == "auto" && Terminal.isTerminal())
        var callbacks: [any Callback] = [ConsoleProgress(stepLines: !live), LearningRateMonitor()]
        if live { callbacks.append(LiveProgress(mode: .live(width: { Terminal.width() }))) }
        if let logDir = foldPath(logDir) { callbacks.append(RunLogger(directory: logDir, tensorBoard: tensorboard)) }
        if logGradNorm { callbacks.append(GradientNormMonitor()) }
        if let haltAt { callbacks.append(HaltAt(step: haltAt)) }
        switch onNaN {
        case "stop": break
        case "skip": callbacks.append(NaNGuard(maxConsecutive: nanPatience))
        default: throw CohortError.badFlag(flag: "--on-nan", "must be stop or skip, got '\(onNaN)'")
        }
        try checkSelection()
        if let monitor = earlyStop {
            callbacks.append(EarlyStopping(monitor: monitor, mode: try monitorMode(for: monitor), patience: patience))
        }
        if let monitor = saveBest {
            guard checkpointDir != nil else { throw CohortError.badFlag(flag: "--save-best", "needs --checkpoint-dir") }
            callbacks.append(BestCheckpoint(monitor: monitor, mode: try monitorMode(for: monitor)))
        }
        return callbacks
    }

    /// Model selection sees only the validation part: periodic validation, early stopping and
    /// best checkpoints need `--val-split`, and never monitor a `test_*` metric.
    func checkSelection() throws {
        for (flag, monitor) in [("--early-stop", earlyStop), ("--save-best", saveBest)] {
            guard let monitor else { continue }
            if monitor.hasPrefix("test_") || monitor.hasPrefix("best_") {
                throw CohortError.badFlag(flag: flag, "'\(monitor)' would select on the test split, which is scored once at the end for reporting; "
                                          + "monitor a validation metric (val_\(monitor.drop { $0 != "_" }.dropFirst())) with --val-split F")
            }
            guard valSplit > 0 || forecastValidation || detectionValidation else { throw CohortError.badFlag(flag: flag, "needs a validation split: add --val-split F (e.g. 0.1) and --val-every N") }
            guard valEvery != nil else { throw CohortError.badFlag(flag: flag, "needs --val-every N (validation during training)") }
        }
        if valEvery != nil && valSplit == 0 && !forecastValidation && !detectionValidation {
            throw CohortError.badFlag(flag: "--val-every", "needs a validation split: add --val-split F (e.g. 0.1); periodic checks of the test split would turn it into a selection set")
        }
    }

    /// Lower is better for losses and errors, higher for the rest (`--monitor-mode` overrides).
    func monitorMode(for metric: String) throws -> MonitorMode {
        if let m = monitorModeFlag {
            guard let mode = MonitorMode(rawValue: m) else { throw CohortError.badFlag(flag: "--monitor-mode", "must be min or max, got '\(m)'") }
            return mode
        }
        let lowerIsBetter = ["loss", "mae", "mse", "rmse", "mase", "error"].contains { metric.hasSuffix($0) }
        return lowerIsBetter ? .min : .max
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
        // val_split first: with another F the dataset's size differs too, and F is the setting to name.
        (valSplit > 0 ? [KeyValue("val_split", "\(valSplit)")] : [])   // absent at 0: older checkpoints still resume
        + [KeyValue("model", model), KeyValue("dataset", "\(task.name) (\(task.count) samples)"), KeyValue("hidden", hiddenText), KeyValue("model_sizes", "\(layers)/\(heads)/\(dModel)/\(embedding)"),
         KeyValue("batch_size", "\(batchSize)"), KeyValue("optimizer", optimizer), KeyValue("lr", "\(lr)"),
         KeyValue("momentum", "\(momentum)"), KeyValue("weight_decay", "\(weightDecay)"), KeyValue("lr_schedule", schedule.kind),
         KeyValue("clip_grad_norm", "\(clipGradNorm)"), KeyValue("seed", "\(seed)"), KeyValue("total_steps", "\(totalSteps)"),
         KeyValue("deterministic", deterministic ? "virtual shards \(virtualShards)" : "off"), KeyValue("accumulate", "\(accumulate)")]
            + (taskKind != "classification" ? [KeyValue("task", taskKind)] : []) + forecastConfig
            + schedule.config + (dropout > 0 ? [KeyValue("dropout", "\(dropout)")] : [])
            + (labelSmoothing > 0 ? [KeyValue("label_smoothing", "\(labelSmoothing)")] : [])   // absent at 0: older checkpoints still resume
            + (cvFold.map { [KeyValue("cv_fold", "\($0) of \(cvFolds)")] } ?? [])   // absent for classification: older checkpoints still resume
    }

    /// The task `--data` names: an MNIST-format directory (classification), a text file or a
    /// directory holding `input.txt` (next-token prediction with `--context`), `addition` (the
    /// built-in addition corpus), or nothing: the built-in synthetic classification set, or the
    /// addition corpus for sequence models.
    func makeTask() throws -> any TrainTask {
        if model == "dcgan" { return try ganImages() }
        let sequenceModel = ModelZoo.sequenceModels.contains(model)
        if taskKind == "forecast" { return try forecastTask() }
        if taskKind == "detect", let data { return try DetectionTask(directory: data) }
        guard let data else {
            if sequenceModel { return try AdditionTask(digits: digits, trainCount: 200_000, testCount: 2_000, seed: seed, validationFraction: valSplit) }
            let (train, test) = try SyntheticDataset.make(seed: seed)
            guard valSplit > 0 else { return try classification(train, nil, test) }
            let parts = try train.validationSplit(fraction: valSplit, runSeed: seed)
            return try classification(parts.train, parts.validation, test)
        }
        if data == "addition" { return try AdditionTask(digits: digits, trainCount: 200_000, testCount: 2_000, seed: seed, validationFraction: valSplit) }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory)
        let text = !exists || isDirectory.boolValue ? data + "/input.txt" : data
        if exists && (!isDirectory.boolValue || FileManager.default.fileExists(atPath: text)) && sequenceModel {
            return try LanguageModelTask(corpusPath: text, context: context, validationFraction: valSplit, tokenizer: try tokenizer.choice())
        }
        if sequenceModel {
            throw CohortError.badFlag(flag: "--data", "\(data): --model \(model) needs a text file (or a directory with input.txt), or 'addition'")
        }
        if data.lowercased().hasSuffix(".csv") && taskKind == "regression" {
            let table = try CSVDataset.regression(path: data, targetColumn: labelColumn)
            return try RegressionTask(table: table, name: URL(fileURLWithPath: data).deletingPathExtension().lastPathComponent, seed: seed,
                                      fold: cvFold.map { ($0 - 1, cvFolds) }, validationFraction: valSplit)
        }
        // MNIST-format images, or a CSV table (stratified 80/20 split by the seed, standardized with the training part).
        let parts = try ClassificationData.split(data: data, labelColumn: labelColumn, seed: seed,
                                                 fold: cvFold.map { ($0 - 1, cvFolds) }, validationFraction: valSplit)
        return try classification(parts.train, parts.validation, parts.test)
    }

    /// A classification task with the run's augmentation and confusion-matrix output.
    func classification(_ train: ClassificationDataset, _ validation: ClassificationDataset?, _ test: ClassificationDataset) throws -> ClassificationTask {
        var task = ClassificationTask(train: try firstTrainSamples(of: train), validation: validation, test: test)
        task.augmentation = try augment.map { try Augmentation(spec: $0, sampleShape: train.featureShape) }
        task.seed = seed
        task.runDirectory = foldPath(logDir)
        return task
    }

    /// `train` cut to its first `--train-samples` samples (all of it without the flag).
    func firstTrainSamples(of train: ClassificationDataset) throws -> ClassificationDataset {
        guard let n = trainSamples else { return train }
        guard n >= 1, n <= train.count else {
            throw CohortError.badFlag(flag: "--train-samples", "\(n) must be between 1 and the \(train.count) samples of \(train.name)'s training part")
        }
        return try train.subset(0..<n)
    }

    /// The settings the task's module reads (optimizer, schedule, data identity).
    func taskOptions() throws -> TaskOptions {
        var o = TaskOptions(model: model, data: data, digits: digits, seed: seed, optimizer: optimizer, lr: lr, momentum: momentum,
                            weightDecay: weightDecay, lrSchedule: schedule.kind)
        o.schedule = try schedule.settings()
        (o.parameterGroups, o.decayAll) = (ParameterGroupRules(try paramGroup.map { try ParameterGroupRules.Rule(parsing: $0, baseLearningRate: lr) }), decayAll)
        o.labelSmoothing = labelSmoothing
        return o
    }
}
