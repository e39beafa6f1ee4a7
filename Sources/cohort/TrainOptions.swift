// The options of `cohort train` as data (names, kind, default), read from
// ArgumentParser's own description of `Train`, for config files, `cohort config
// show` and `cohort tune`.
import ArgumentParser
import Foundation

/// How `cohort train` takes an option.
enum TrainOptionKind: Sendable {
    /// A Boolean flag (`--deterministic`): present or absent.
    case flag
    /// One value; given twice, the later wins.
    case single
    /// A value per use (`--metadata a=1 --metadata b=2`).
    case repeating
}

/// One `cohort train` option as ArgumentParser declares it.
struct TrainOption: Sendable {
    /// Long names without `--`, the preferred one first (e.g. `global-batch`, `batch-size`).
    var names: [String]
    var kind: TrainOptionKind
    /// The default as ArgumentParser renders it (`--x` for a flag on by default); nil when none.
    var defaultValue: String?
    /// A flag's negative name (`no-tensorboard`), which config files write as `tensorboard: false`.
    var inversion: String?
    /// The name config files and `cohort config show` use.
    var key: String { names[0] }
}

/// The options of `cohort train`, read from ArgumentParser's tool-info dump of `Train`, so
/// an option added to `Train` is a valid config key without further work.
enum TrainOptions {
    /// Every option in declaration order, without `--help` and `--config`; a flag's
    /// `--x`/`--no-x` pair (two arguments in the dump) is one option.
    static let all: [TrainOption] = {
        struct Name: Decodable { var kind: String; var name: String }
        struct Argument: Decodable {
            var kind: String, isRepeating: Bool, names: [Name]?, preferredName: Name?, defaultValue: String?
        }
        struct Command: Decodable { var arguments: [Argument]? }
        struct Dump: Decodable { var command: Command }
        guard let dump = try? JSONDecoder().decode(Dump.self, from: Data(Train._dumpHelp().utf8)) else { return [] }
        let options: [TrainOption] = (dump.command.arguments ?? []).compactMap { a in
            let long = (a.names ?? []).filter { $0.kind.hasPrefix("long") }.map(\.name)
            guard a.kind != "positional", !long.isEmpty, !long.contains("help"), !long.contains(ConfigFile.flag) else { return nil }
            let preferred = a.preferredName.map(\.name).flatMap { long.contains($0) ? $0 : nil } ?? long[0]
            let kind: TrainOptionKind = a.kind == "flag" ? .flag : a.isRepeating ? .repeating : .single
            return TrainOption(names: [preferred] + long.filter { $0 != preferred }, kind: kind, defaultValue: a.defaultValue)
        }
        var merged: [TrainOption] = []
        for o in options {
            if o.kind == .flag, let last = merged.last, last.kind == .flag, last.inversion == nil,
               o.key == "no-" + last.key || (last.key.hasPrefix("enable-") && o.key == "disable-" + last.key.dropFirst(7)) {
                merged[merged.count - 1].inversion = o.key
                if o.defaultValue == "--" + o.key { merged[merged.count - 1].defaultValue = "false" }
                continue
            }
            merged.append(o)
        }
        return merged
    }()

    /// Whether a flag is on when not given.
    static func isOnByDefault(_ o: TrainOption) -> Bool { o.defaultValue == "true" || o.defaultValue == "--" + o.key }

    /// The option called `name` (`_` accepted for `-`), if any.
    static func named(_ name: String) -> TrainOption? {
        let n = name.replacingOccurrences(of: "_", with: "-")
        return all.first { $0.names.contains(n) }
    }
}
