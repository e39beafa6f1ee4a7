// `cohort train`'s learning-rate schedule flags (one option group, so Train.swift stays
// small): the kind, a linear warm-up, and each schedule's settings. A setting given for a
// schedule that does not read it is an error naming both flags, never silently ignored.
import ArgumentParser
import CohortCheckpoint
import CohortCore
import CohortRuntime

/// The schedule flags of `cohort train`, as `ScheduleSettings`.
struct ScheduleFlags: ParsableArguments {
    static let kinds = ["constant", "cosine", "step", "multistep", "exponential", "onecycle", "plateau"]

    @Option(name: .train(TrainFlags.lrSchedule), help: "constant, cosine (to 1% of --lr, 5% warm-up unless --warmup), step, multistep, exponential, onecycle or plateau (PyTorch's StepLR, MultiStepLR, ExponentialLR, OneCycleLR, ReduceLROnPlateau; docs/cli.md).") var kind = "cosine"
    @Option(name: .train(TrainFlags.warmup), parsing: .unconditional, help: "Steps of linear warm-up before the schedule (not onecycle, which has its own).") var warmup: Int?
    @Option(name: .train(TrainFlags.lrStepSize), parsing: .unconditional, help: "step: multiply by --lr-gamma every N steps.") var stepSize: Int?
    @Option(name: .train(TrainFlags.lrGamma), parsing: .unconditional, help: "step, multistep (default 0.1), exponential (required): the factor.") var gamma: Float?
    @Option(name: .train(TrainFlags.lrMilestones), help: "multistep: the steps A,B,C… at which to multiply by --lr-gamma.") var milestones: String?
    @Option(name: .train(TrainFlags.lrMax), parsing: .unconditional, help: "onecycle: the peak rate (default --lr); it starts at 1/25 of it and ends at 1/25e4.") var maximum: Float?
    @Option(name: .train(TrainFlags.lrPctStart), parsing: .unconditional, help: "onecycle: the fraction of steps rising to --lr-max (default 0.3).") var pctStart: Double?
    @Option(name: .train(TrainFlags.lrPatience), parsing: .unconditional, help: "plateau: validations without improvement tolerated before reducing (default 10).") var patience: Int?
    @Option(name: .train(TrainFlags.lrFactor), parsing: .unconditional, help: "plateau: the factor of each reduction (default 0.1).") var factor: Float?

    /// Which schedules read each setting.
    var given: [(flag: String, set: Bool, kinds: [String])] {
        [("--warmup", warmup != nil, Self.kinds.filter { $0 != "onecycle" }), ("--lr-step-size", stepSize != nil, ["step"]),
         ("--lr-gamma", gamma != nil, ["step", "multistep", "exponential"]), ("--lr-milestones", milestones != nil, ["multistep"]),
         ("--lr-max", maximum != nil, ["onecycle"]), ("--lr-pct-start", pctStart != nil, ["onecycle"]),
         ("--lr-patience", patience != nil, ["plateau"]), ("--lr-factor", factor != nil, ["plateau"])]
    }

    /// Throws `ValidationError` naming the flag at fault; plateau needs periodic validation.
    func validate(valEvery: Int?, valSplit: Double) throws {
        guard Self.kinds.contains(kind) else { throw ValidationError("--lr-schedule must be one of \(Self.kinds.joined(separator: ", ")); got '\(kind)'") }
        for g in given where g.set && !g.kinds.contains(kind) {
            throw ValidationError("\(g.flag) applies to --lr-schedule \(g.kinds.joined(separator: ", ")), not \(kind)")
        }
        if let warmup, warmup < 0 { throw ValidationError("--warmup must be ≥ 0 steps, got \(warmup)") }
        if kind == "step" {
            guard let stepSize else { throw ValidationError("--lr-schedule step needs --lr-step-size N") }
            guard stepSize > 0 else { throw ValidationError("--lr-step-size must be positive, got \(stepSize)") }
        }
        if let gamma, !(gamma > 0 && gamma.isFinite) { throw ValidationError("--lr-gamma must be a positive number, got \(gamma)") }
        if kind == "exponential" && gamma == nil { throw ValidationError("--lr-schedule exponential needs --lr-gamma G (the factor per step)") }
        if kind == "multistep" {
            guard let text = milestones else { throw ValidationError("--lr-schedule multistep needs --lr-milestones A,B,C") }
            guard milestoneSteps != nil else { throw ValidationError("--lr-milestones must be comma-separated positive steps, got '\(text)'") }
        }
        if let maximum, !(maximum > 0 && maximum.isFinite) { throw ValidationError("--lr-max must be a positive number, got \(maximum)") }
        if let pctStart, !(pctStart > 0 && pctStart < 1) { throw ValidationError("--lr-pct-start must be in (0, 1), got \(pctStart)") }
        if let patience, patience < 0 { throw ValidationError("--lr-patience must be ≥ 0, got \(patience)") }
        if let factor, !(factor > 0 && factor < 1) { throw ValidationError("--lr-factor must be in (0, 1), got \(factor)") }
        if kind == "plateau" && (valEvery == nil || valSplit == 0) {
            throw ValidationError("--lr-schedule plateau follows the validation loss: add --val-split F and --val-every N")
        }
    }

    /// `--lr-milestones` as steps; nil when it is not a list of positive integers.
    var milestoneSteps: [Int]? {
        guard let milestones else { return [] }
        let steps = milestones.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard steps.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return steps.map { $0! }
    }

    /// The settings the task's schedule is built from.
    func settings() throws -> ScheduleSettings {
        var s = ScheduleSettings()
        s.warmup = warmup
        s.stepSize = stepSize ?? 1
        s.gamma = gamma
        s.milestones = milestoneSteps ?? []
        s.maximum = maximum
        s.pctStart = pctStart ?? s.pctStart
        s.patience = patience ?? s.patience
        s.factor = factor ?? s.factor
        return s
    }

    /// The settings given, for the run config a resume must match (absent when none is: older checkpoints resume).
    var config: [KeyValue] {
        let values: [(String, String?)] = [("warmup", warmup.map { "\($0)" }), ("lr_step_size", stepSize.map { "\($0)" }),
                                           ("lr_gamma", gamma.map { "\($0)" }), ("lr_milestones", milestones),
                                           ("lr_max", maximum.map { "\($0)" }), ("lr_pct_start", pctStart.map { "\($0)" }),
                                           ("lr_patience", patience.map { "\($0)" }), ("lr_factor", factor.map { "\($0)" })]
        return values.compactMap { k, v in v.map { KeyValue(k, $0) } }
    }
}
