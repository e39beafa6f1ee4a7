// The error a user sees: one message naming the file, flag, shape, rank or
// step at fault. The CLI prints `description` and exits non-zero.

/// Errors raised by Cohort's own code for a user's mistake or a bad input.
public enum CohortError: Error, CustomStringConvertible, Equatable {
    /// Two tensors (or a tensor and an expectation) disagree in shape; the message names both.
    case shapeMismatch(op: String, String)
    /// An argument outside what the operation accepts.
    case invalidArgument(String)
    /// A file that is missing, truncated or malformed.
    case badFile(path: String, String)
    /// A loss or tensor that became NaN or infinite during training.
    case nonFinite(String)
    /// A command-line flag with a bad value (thrown by the command-line layer only).
    case badFlag(flag: String, String)
    /// A library parameter with a bad value, named as the Swift API names it (`globalBatch`).
    /// The message refers to other parameters in backticks (`` `virtualShards` ``); the
    /// command line renders both as its flags (`--global-batch`, `--virtual-shards`).
    case invalidParameter(name: String, String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, msg): return "\(op): shape mismatch: \(msg)"
        case let .invalidArgument(msg): return msg
        case let .badFile(path, msg): return "\(path): \(msg)"
        case let .nonFinite(msg): return msg
        case let .badFlag(flag, msg): return "\(flag): \(msg)"
        case let .invalidParameter(name, msg): return "\(name): \(msg)"
        }
    }
}

/// Renders a shape the way error messages show it: `[256, 784]`.
public func describeShape(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
