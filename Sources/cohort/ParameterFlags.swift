// Libraries name their parameters as the Swift API does (`globalBatch`); the command line
// shows its flags (`--global-batch`). This file is the one translation between the two.
import ArgumentParser
import CohortCore
import CohortRuntime
import CohortTrainer

enum ParameterFlags {
    /// Parameters whose flag is not their name in kebab case.
    static let exceptions: [String: String] = [
        "validateEvery": "--val-every",
        "bucketMegabytes": "--bucket-mb",
        "checkpointDirectory": "--checkpoint-dir",
        "faultSpec": "--inject-fault",
        "strict": "--init-strict",
        "syncBatchNorm": "--sync-bn",
    ]

    /// The flag of a library parameter: `globalBatch` → `--global-batch`.
    static func flag(for parameter: String) -> String {
        if let flag = exceptions[parameter] { return flag }
        var out = "--"
        for ch in parameter {
            if ch.isUppercase { out += "-" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }

    /// `error` as the command line reports it: a `CohortError.invalidParameter` becomes a
    /// `badFlag` whose flag and backticked parameter names are the command's flags; any other
    /// error is returned unchanged.
    static func commandLineError(_ error: any Error) -> any Error {
        switch error {
        case let CohortError.invalidParameter(name, message): return CohortError.badFlag(flag: flag(for: name), flags(in: message))
        case let wrapped as ResumeError: return ResumeError(commandLineError(wrapped.underlying))
        case let wrapped as UserError: return UserError(commandLineError(wrapped.underlying))
        default: return error
        }
    }

    /// `message` with every `` `parameterName` `` replaced by its flag.
    static func flags(in message: String) -> String {
        let parts = message.split(separator: "`", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return message }
        var out = ""
        for (i, part) in parts.enumerated() {
            let isName = i % 2 == 1 && i < parts.count - 1 && !part.isEmpty && part.allSatisfy { $0.isLetter || $0.isNumber }
            if isName { out += flag(for: String(part)) } else { out += (i % 2 == 1 ? "`" : "") + part + (i % 2 == 1 && i < parts.count - 1 ? "`" : "") }
        }
        return out
    }
}

extension RankSupervisor {
    /// Ends the process for `caught` as the command line reports it: parameters rendered as
    /// flags, ArgumentParser's message, and its validation errors classed as user errors (exit 2).
    func exitCommandLine(for caught: any Error) -> Never {
        let error = ParameterFlags.commandLineError(caught)
        exit(for: error is ValidationError ? UserError(error) : error, message: Train.message(for: error))
    }
}
