// Range checks of `cohort train`'s numeric flags, run by `Train.validate()`: every
// count, size, rate and timeout is refused with the flag and the value when it is
// out of range (negative numbers reach here as values: the flags parse unconditionally).
import ArgumentParser

extension Train {
    /// Throws `ValidationError` naming the first numeric flag outside its range.
    func validateNumbers() throws {
        func positive(_ value: Int?, _ flag: String) throws {
            if let value, value <= 0 { throw ValidationError("\(flag) must be positive, got \(value)") }
        }
        func atLeastZero(_ value: Float, _ flag: String) throws {
            guard value >= 0, value.isFinite else { throw ValidationError("\(flag) must be a finite number ≥ 0, got \(value)") }
        }
        for (value, flag) in [(logEvery, "--log-every"), (patience, "--patience"), (nanPatience, "--nan-patience"),
                              (context, "--context"), (digits, "--digits"), (heads, "--heads"), (dModel, "--d-model"),
                              (embedding, "--embedding"), (virtualShards, "--virtual-shards"), (cvFolds, "--cv-folds")] {
            try positive(value, flag)
        }
        try positive(valEvery, "--val-every")
        try positive(haltAt, "--halt-at")
        guard layers >= 0 else { throw ValidationError("--layers must be ≥ 0, got \(layers)") }
        guard bucketMB > 0, bucketMB.isFinite else { throw ValidationError("--bucket-mb must be a positive number, got \(bucketMB)") }
        try atLeastZero(momentum, "--momentum")
        try atLeastZero(weightDecay, "--weight-decay")
        try atLeastZero(clipGradNorm, "--clip-grad-norm")
        guard dropout >= 0, dropout < 1 else { throw ValidationError("--dropout must be in [0, 1) (0: off), got \(dropout)") }
        guard labelSmoothing >= 0, labelSmoothing < 1 else {
            throw ValidationError("--label-smoothing must be in [0, 1) (0: off), got \(labelSmoothing)")
        }
    }
}
