// The arguments `cohort launch` adds to or reads from any program it runs
// (`--checkpoint-dir`, `--resume`, `--collective-timeout`, `--inject-fault`):
// a Trainer program on CohortRuntime takes them without parsing them itself.
import CohortCore
import CohortTrainer

/// The launcher's arguments found in a program's command line, and the rest.
public struct LaunchArguments: Sendable, Equatable {
    /// `--checkpoint-dir DIR`: where checkpoints go and a restart resumes from.
    public var checkpointDirectory: String?
    /// `--resume auto|PATH` (the launcher adds `auto` on every restart).
    public var resume: String?
    /// `--collective-timeout SECONDS`.
    public var collectiveTimeout: Double?
    /// `--inject-fault SPEC` (also read from COHORT_FAULT).
    public var faultSpec: String?
    /// Every other argument, in order: the program's own.
    public var remaining: [String] = []

    /// The flags this type takes out of a command line.
    public static let flags = ["--checkpoint-dir", "--resume", "--collective-timeout", "--inject-fault"]

    /// Reads `arguments` (without the program name); `--flag value` and `--flag=value` both work.
    /// - Throws: `CohortError.invalidParameter` for a flag without a value or a timeout that is not a number.
    public init(_ arguments: [String]) throws {
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            guard let flag = Self.flags.first(where: { a == $0 || a.hasPrefix($0 + "=") }) else {
                remaining.append(a)
                i += 1
                continue
            }
            let value: String
            if a == flag {
                guard i + 1 < arguments.count else { throw CohortError.invalidParameter(name: Self.parameter(flag), "has no value") }
                value = arguments[i + 1]
                i += 2
            } else {
                value = String(a.dropFirst(flag.count + 1))
                i += 1
            }
            switch flag {
            case "--checkpoint-dir": checkpointDirectory = value
            case "--resume": resume = value
            case "--collective-timeout":
                guard let seconds = Double(value) else {
                    throw CohortError.invalidParameter(name: "collectiveTimeout", "must be a positive number of seconds, got '\(value)'")
                }
                collectiveTimeout = seconds
            default: faultSpec = value
            }
        }
    }

    /// The parameter a flag sets (`--checkpoint-dir` → `checkpointDirectory`).
    static func parameter(_ flag: String) -> String {
        ["--checkpoint-dir": "checkpointDirectory", "--resume": "resume", "--collective-timeout": "collectiveTimeout",
         "--inject-fault": "faultSpec"][flag] ?? flag
    }

    /// `options` with the values given here in place of its own.
    public func applied(to options: TrainerOptions) -> TrainerOptions {
        var o = options
        if let checkpointDirectory { o.checkpointDirectory = checkpointDirectory }
        if let resume { o.resume = resume }
        if let collectiveTimeout { o.collectiveTimeout = collectiveTimeout }
        return o
    }
}
