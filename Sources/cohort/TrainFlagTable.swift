// The options of `cohort train` as data (names, kind, default), read from
// ArgumentParser's own description of `Train`, for config files, `cohort config
// show` and `cohort tune`.
import ArgumentParser
import CohortConfig
import CohortCore
import Foundation

/// The options of `cohort train`, read from ArgumentParser's tool-info dump of `Train`, so
/// an option added to `Train` is a valid config key without further work.
enum TrainFlagTable {
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

    /// The table config files are checked against.
    static let table = OptionTable(all)

    /// Whether a flag is on when not given.
    static func isOnByDefault(_ o: TrainOption) -> Bool { OptionTable.isOnByDefault(o) }

    /// The option called `name` (`_` accepted for `-`), if any.
    static func named(_ name: String) -> TrainOption? { table.named(name) }
}

extension NameSpecification {
    /// The long names of a train flag the other commands share (`TrainFlags`), so `cohort train`
    /// declares it under exactly the names `cohort launch`, `scale`, `cv` and `tune` read.
    static func train(_ flag: TrainFlag) -> NameSpecification {
        NameSpecification(flag.names.map { .customLong(String($0.dropFirst(2))) })
    }
}
