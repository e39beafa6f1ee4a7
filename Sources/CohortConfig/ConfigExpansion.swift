// `--config FILE` in `cohort train` (and `cohort launch -- …`) arguments expanded
// into the file's options, placed before the command line's so the command line wins.
import CohortCore
import Foundation

/// `cohort train` arguments with `--config FILE` replaced by the file's options, placed
/// first: for single-valued options the command line's later value wins, repeatable
/// options take the file's values and then the command line's.
public struct ConfigExpansion {
    /// The file `--config` named, if any.
    public let file: ConfigFile?
    /// The user's own arguments, without `--config FILE`.
    public let commandLine: [String]

    /// The arguments `cohort train` parses.
    public var arguments: [String] { (file?.arguments ?? []) + commandLine }

    /// Takes `--config FILE` (or `--config=FILE`) out of `trainArguments` (those after
    /// `train`) and loads the file.
    /// - Throws: `CohortError` for a missing value, a repeated `--config`, or a bad file.
    public init(trainArguments: [String], options: OptionTable) throws {
        var path: String?
        var rest: [String] = []
        var i = 0
        while i < trainArguments.count {
            let a = trainArguments[i]
            var value: String?
            if a == "--" + ConfigFile.flag {
                guard i + 1 < trainArguments.count, !trainArguments[i + 1].hasPrefix("--") else {
                    throw CohortError.invalidParameter(name: "config", "needs a file: --config run.yaml (or .toml)")
                }
                value = trainArguments[i + 1]
                i += 1
            } else if a.hasPrefix("--\(ConfigFile.flag)=") {
                value = String(a.dropFirst(ConfigFile.flag.count + 3))
            } else {
                rest.append(a)
            }
            if let value {
                guard path == nil else { throw CohortError.invalidParameter(name: "config", "given twice ('\(path!)' and '\(value)'); use one file") }
                guard !value.isEmpty else { throw CohortError.invalidParameter(name: "config", "needs a file: --config run.yaml (or .toml)") }
                path = value
            }
            i += 1
        }
        file = try path.map { try ConfigFile(path: $0, options: options) }
        commandLine = rest
    }

    /// Whether the user's own arguments set `option`.
    public func commandLineSets(_ option: TrainOption) -> Bool {
        let names = option.names + (option.inversion.map { [$0] } ?? [])
        return commandLine.contains { a in names.contains { a == "--" + $0 || a.hasPrefix("--\($0)=") } }
    }

    /// `message` (an error about the parsed arguments) with a note naming the file and line
    /// of each option it mentions that came from the file alone.
    public func annotate(_ message: String) -> String {
        guard let file else { return message }
        var notes: [String] = []
        for s in file.settings where !s.arguments.isEmpty && !commandLineSets(s.option) {
            let mentioned = (s.option.names + (s.option.inversion.map { [$0] } ?? [])).contains { name in
                var from = message.startIndex
                while let r = message.range(of: "--" + name, range: from..<message.endIndex) {
                    let next = r.upperBound < message.endIndex ? message[r.upperBound] : " "
                    if !(next.isLetter || next.isNumber || next == "-") { return true }
                    from = r.upperBound
                }
                return false
            }
            if mentioned { notes.append("--\(s.option.key) was set by \(file.path)" + (s.line.map { ", line \($0)" } ?? "")) }
        }
        return notes.isEmpty ? message : message + "\n(" + notes.joined(separator: "; ") + ")"
    }
}
