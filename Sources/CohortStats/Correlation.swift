// Covariance and correlation matrices of a data table: rows are observations,
// columns are variables (numpy's `rowvar=False`). Pearson and Spearman (Pearson on
// average ranks) correlations; a constant column is an error, not a NaN row.

/// The kind of correlation coefficient.
public enum CorrelationMethod: Sendable, Equatable {
    /// Pearson's product-moment correlation.
    case pearson
    /// Spearman's rank correlation: Pearson's on the average ranks of each column.
    case spearman
}

/// The sample covariance matrix (n − 1 denominator, as `numpy.cov(data, rowvar=False)`) of `data`,
/// an n × p table with observations in rows: p × p. Throws for fewer than two rows, ragged rows or
/// non-finite values (the message names the row and column).
public func covarianceMatrix(_ data: [[Double]]) throws -> [[Double]] {
    let columns = try validateTable(data, "covarianceMatrix")
    let n = Double(data.count)
    let means = (0..<columns).map { c in data.reduce(0) { $0 + $1[c] } / n }
    var cov = [[Double]](repeating: [Double](repeating: 0, count: columns), count: columns)
    for i in 0..<columns {
        for j in i..<columns {
            var s = 0.0
            for row in data { s += (row[i] - means[i]) * (row[j] - means[j]) }
            cov[i][j] = s / (n - 1); cov[j][i] = cov[i][j]
        }
    }
    return cov
}

/// The p × p correlation matrix of `data` (n × p, observations in rows) by `method`.
/// Throws as `covarianceMatrix`, and when a column has zero variance (its correlation is undefined).
public func correlationMatrix(_ data: [[Double]], method: CorrelationMethod = .pearson) throws -> [[Double]] {
    let columns = try validateTable(data, "correlationMatrix")
    var table = data
    if method == .spearman {
        for c in 0..<columns {
            let ranks = averageRanks(data.map { $0[c] }).ranks
            for r in table.indices { table[r][c] = ranks[r] }
        }
    }
    let cov = try covarianceMatrix(table)
    if let c = (0..<columns).first(where: { cov[$0][$0] == 0 }) {
        throw StatsError.degenerate("correlationMatrix: column \(c) has zero variance, so its correlation is undefined")
    }
    var correlation = cov
    for i in 0..<columns {
        for j in 0..<columns {
            let r: Double = cov[i][j] / (cov[i][i] * cov[j][j]).squareRoot()
            correlation[i][j] = i == j ? 1 : Swift.max(-1, Swift.min(1, r))
        }
    }
    return correlation
}

/// Checks an n × p table (n ≥ 2, p ≥ 1, rows of equal length, finite) and returns p.
func validateTable(_ data: [[Double]], _ function: String) throws -> Int {
    guard data.count >= 2 else { throw StatsError.tooFew(function, needed: 2, got: data.count) }
    let columns = data[0].count
    guard columns >= 1 else { throw StatsError.invalidArgument("\(function): rows have no columns") }
    for (r, row) in data.enumerated() {
        guard row.count == columns else {
            throw StatsError.invalidArgument("\(function): row \(r) has \(row.count) values, row 0 has \(columns)")
        }
        if let c = row.firstIndex(where: { !$0.isFinite }) {
            throw StatsError.invalidArgument("\(function): the value at row \(r), column \(c) is NaN or infinite")
        }
    }
    return columns
}
