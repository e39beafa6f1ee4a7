// Tolerance comparison shared by the CohortStats tests.

/// True when `actual` is within `tolerance` of `expected`, relative to max(1, |expected|).
func close(_ actual: Double, _ expected: Double, _ tolerance: Double = 1e-9) -> Bool {
    abs(actual - expected) <= tolerance * max(1, abs(expected))
}

/// True when `actual` is within `tolerance` of `expected` relative to |expected| (for tiny probabilities).
func relativelyClose(_ actual: Double, _ expected: Double, _ tolerance: Double) -> Bool {
    abs(actual - expected) <= tolerance * abs(expected)
}
