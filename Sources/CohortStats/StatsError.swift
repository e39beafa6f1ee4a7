// The one error type of CohortStats: every bad input (empty, too short,
// NaN/infinite, an argument out of range) is thrown, never trapped.

/// Errors thrown by CohortStats for input it cannot summarise or test.
public enum StatsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The named function was given no samples.
    case empty(String)
    /// The named function needs at least `needed` samples but got `got`.
    case tooFew(String, needed: Int, got: Int)
    /// The named function was given a NaN or infinite sample at `index`.
    case nonFinite(String, index: Int)
    /// An argument outside the accepted range; the message names the function, argument and value.
    case invalidArgument(String)
    /// Valid input on which the statistic is undefined (zero variance, an empty row of a table);
    /// the message names the function and the cause.
    case degenerate(String)

    /// A one-line message naming the function and what was wrong with its input.
    public var description: String {
        switch self {
        case let .empty(function): return "\(function): no samples"
        case let .tooFew(function, needed, got): return "\(function): needs at least \(needed) samples, got \(got)"
        case let .nonFinite(function, index): return "\(function): sample \(index) is NaN or infinite"
        case let .invalidArgument(message): return message
        case let .degenerate(message): return message
        }
    }
}

/// Throws unless `samples` has at least `minCount` elements, all finite.
func validate(_ samples: [Double], _ function: String, minCount: Int = 1) throws {
    if samples.isEmpty { throw StatsError.empty(function) }
    if samples.count < minCount { throw StatsError.tooFew(function, needed: minCount, got: samples.count) }
    if let i = samples.firstIndex(where: { !$0.isFinite }) { throw StatsError.nonFinite(function, index: i) }
}

/// Throws unless `p` is a probability in the closed interval [0, 1].
func validateProbability(_ p: Double, _ function: String, name: String = "p") throws {
    guard p >= 0, p <= 1 else { throw StatsError.invalidArgument("\(function): \(name) must be in [0, 1], got \(p)") }
}

/// Throws unless `level` lies strictly between 0 and 1.
func validateOpenUnit(_ level: Double, _ function: String, name: String) throws {
    guard level > 0, level < 1 else { throw StatsError.invalidArgument("\(function): \(name) must be in (0, 1), got \(level)") }
}
