// The version of Cohort, recorded in checkpoints and scaling results.

/// Cohort's version string.
public let cohortVersion = "0.1.0"
