// Pearson's χ² tests on counts: goodness of fit against expected frequencies, and
// independence of the rows and columns of a contingency table (as scipy's
// `chisquare` and `chi2_contingency`, Yates' correction for 2×2 tables included).

/// The outcome of a χ² test of independence.
public struct ContingencyTestResult: Sendable, Equatable {
    /// The χ² statistic, its degrees of freedom (r − 1)(c − 1) and its p-value.
    public var test: TestResult
    /// The expected counts under independence, rowTotal · columnTotal / total, shaped like the table.
    public var expected: [[Double]]
}

/// Pearson's χ² goodness-of-fit test: χ² = Σ (Oᵢ − Eᵢ)² / Eᵢ with k − 1 − `ddof` degrees of freedom.
/// `expected` defaults to equal frequencies; otherwise it must be positive and sum to the observed
/// total (relative tolerance 1e-8, as scipy). Throws for fewer than two categories, negative counts,
/// or no degrees of freedom left.
public func chiSquareGoodnessOfFit(observed: [Double], expected: [Double]? = nil, ddof: Int = 0) throws -> TestResult {
    let function = "chiSquareGoodnessOfFit"
    try validate(observed, function + " (observed)", minCount: 2)
    if let i = observed.firstIndex(where: { $0 < 0 }) {
        throw StatsError.invalidArgument("\(function): observed count \(i) is negative (\(observed[i]))")
    }
    let total = observed.reduce(0, +)
    let expectedCounts = expected ?? [Double](repeating: total / Double(observed.count), count: observed.count)
    guard expectedCounts.count == observed.count else {
        throw StatsError.invalidArgument("\(function): \(observed.count) observed counts but \(expectedCounts.count) expected")
    }
    try validate(expectedCounts, function + " (expected)")
    if let i = expectedCounts.firstIndex(where: { $0 <= 0 }) {
        throw StatsError.invalidArgument("\(function): expected count \(i) must be > 0, got \(expectedCounts[i])")
    }
    let expectedTotal = expectedCounts.reduce(0, +)
    guard abs(expectedTotal - total) <= 1e-8 * Swift.max(abs(total), abs(expectedTotal)) else {
        throw StatsError.invalidArgument("\(function): observed counts sum to \(total) but expected counts to \(expectedTotal)")
    }
    let df = observed.count - 1 - ddof
    guard df > 0 else {
        throw StatsError.invalidArgument("\(function): \(observed.count) categories with ddof \(ddof) leave \(df) degrees of freedom")
    }
    var statistic = 0.0
    for (o, e) in zip(observed, expectedCounts) { statistic += (o - e) * (o - e) / e }
    let p = try ChiSquared(degreesOfFreedom: Double(df)).survival(statistic)
    return TestResult(statistic: statistic, degreesOfFreedom: Double(df), pValue: p, alternative: .greater)
}

/// Pearson's χ² test of independence on an r × c contingency table of counts (rows of equal length,
/// r, c ≥ 2). With `yatesCorrection` (the default, as scipy) a table with one degree of freedom has each
/// |O − E| reduced by up to ½. Throws for ragged or negative tables and for a row or column summing to zero.
public func chiSquareIndependence(_ table: [[Double]], yatesCorrection: Bool = true) throws -> ContingencyTestResult {
    let function = "chiSquareIndependence"
    guard table.count >= 2, let columns = table.first?.count, columns >= 2 else {
        throw StatsError.invalidArgument("\(function): the table must be at least 2 x 2, got \(table.count) rows")
    }
    for (r, row) in table.enumerated() {
        guard row.count == columns else {
            throw StatsError.invalidArgument("\(function): row \(r) has \(row.count) columns, row 0 has \(columns)")
        }
        for (c, v) in row.enumerated() where !(v.isFinite && v >= 0) {
            throw StatsError.invalidArgument("\(function): cell (\(r), \(c)) must be a finite count >= 0, got \(v)")
        }
    }
    let rowTotals = table.map { $0.reduce(0, +) }
    let columnTotals = (0..<columns).map { c in table.reduce(0) { $0 + $1[c] } }
    if let r = rowTotals.firstIndex(of: 0) { throw StatsError.degenerate("\(function): row \(r) sums to zero") }
    if let c = columnTotals.firstIndex(of: 0) { throw StatsError.degenerate("\(function): column \(c) sums to zero") }
    let total = rowTotals.reduce(0, +)
    let expected = rowTotals.map { r in columnTotals.map { r * $0 / total } }
    let df = (table.count - 1) * (columns - 1)
    var statistic = 0.0
    for r in table.indices {
        for c in 0..<columns {
            let e = expected[r][c]
            var difference = abs(table[r][c] - e)
            if yatesCorrection && df == 1 { difference = Swift.max(0, difference - 0.5) }
            statistic += difference * difference / e
        }
    }
    let p = try ChiSquared(degreesOfFreedom: Double(df)).survival(statistic)
    return ContingencyTestResult(test: TestResult(statistic: statistic, degreesOfFreedom: Double(df), pValue: p, alternative: .greater),
                                 expected: expected)
}
