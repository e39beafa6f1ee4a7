// `cohort config show`: the configuration `cohort train` would run with — every option,
// its value and where it came from (default, the --config file, the command line) —
// as YAML that `cohort train --config` reads back. It never trains.
import ArgumentParser
import CohortConfig
import CohortCore
import Foundation

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Config files for `cohort train` (`cohort config show`).",
        subcommands: [Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the resolved `cohort train` configuration as YAML, with each value's source; does not train.",
            discussion: "Takes the same --config file and flags as `cohort train`. Save the output and pass it back "
                + "with --config. Example: cohort config show --config run.yaml --lr 0.01 > resolved.yaml")

        @Option(help: "A YAML (.yaml, .yml) or TOML (.toml) file of `cohort train` options.") var config: String?
        @Argument(parsing: .allUnrecognized, help: "`cohort train` flags (they override the file).") var trainArguments: [String] = []

        func run() throws {
            let expansion: ConfigExpansion
            do {
                expansion = try ConfigExpansion(trainArguments: (config.map { ["--config", $0] } ?? []) + trainArguments, options: TrainFlagTable.table)
            } catch let error as CohortError {
                FileHandle.standardError.write(Data("Error: \(ParameterFlags.commandLineError(error))\n".utf8))
                throw ExitCode(2)
            }
            // The same checks `cohort train` makes, so what is shown is what would run.
            do { _ = try Train.parse(expansion.arguments) } catch {
                let message = expansion.annotate(Train.fullMessage(for: error))
                guard Train.exitCode(for: error) != .success else { print(message); return }
                FileHandle.standardError.write(Data((message + "\n").utf8))
                throw ExitCode(2)
            }
            print(ResolvedConfig(expansion).yaml, terminator: "")
        }
    }
}

/// Every `cohort train` option with its value and source, after the file and the command line.
struct ResolvedConfig {
    struct Item {
        var option: TrainOption
        /// nil: unset (no default); a flag's value is `true`/`false`.
        var values: [String]?
        var sources: [String]
    }

    var items: [Item]

    /// Applies the file's arguments, then the command line's, over the defaults.
    /// `expansion.arguments` must already have parsed as `Train`.
    init(_ expansion: ConfigExpansion) {
        items = TrainFlagTable.all.map { o in
            let values: [String]?
            switch o.kind {
            case .flag: values = [TrainFlagTable.isOnByDefault(o) ? "true" : "false"]
            case .single: values = o.defaultValue.map { [$0] }
            case .repeating: values = []
            }
            return Item(option: o, values: values, sources: ["default"])
        }
        if let file = expansion.file {
            // A false flag stands for no argument; it still came from the file.
            for setting in file.settings where setting.option.kind == .flag && setting.arguments.isEmpty {
                if let k = items.firstIndex(where: { $0.option.key == setting.option.key }) { items[k].sources = [file.path] }
            }
            apply(file.arguments, source: file.path)
        }
        apply(expansion.commandLine, source: "command line")
    }

    private mutating func apply(_ arguments: [String], source: String) {
        var i = 0
        while i < arguments.count {
            defer { i += 1 }
            let a = arguments[i]
            guard a.hasPrefix("--") else { continue }
            let body = a.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            guard let k = items.firstIndex(where: { $0.option.names.contains(name) || $0.option.inversion == name }) else { continue }
            var value: String
            if let eq = body.firstIndex(of: "=") { value = String(body[body.index(after: eq)...]) }
            else if items[k].option.kind == .flag { value = "true" }
            else if i + 1 < arguments.count { i += 1; value = arguments[i] }
            else { continue }
            if items[k].option.kind == .flag { value = items[k].option.inversion == name ? "false" : "true" }
            if items[k].option.kind == .repeating {
                if items[k].sources == ["default"] { items[k].sources = [] }
                items[k].values = (items[k].values ?? []) + [value]
                if !items[k].sources.contains(source) { items[k].sources.append(source) }
            } else {
                items[k].values = [value]
                items[k].sources = [source]
            }
        }
    }

    /// `key: value  # source` per option, in `cohort train --help` order.
    var yaml: String {
        let rows = items.map { item -> (String, String) in
            let value: String
            switch (item.option.kind, item.values) {
            case (_, nil): value = "null"
            case (.flag, let v?): value = v.first ?? "false"
            case (.single, let v?): value = Self.scalar(v.first ?? "")
            case (.repeating, let v?): value = "[" + v.map(Self.scalar).joined(separator: ", ") + "]"
            }
            return ("\(item.option.key): \(value)", item.sources.joined(separator: " + "))
        }
        let width = min(rows.map(\.0.count).max() ?? 0, 40)
        var out = "# `cohort train` configuration from `cohort config show`; run it with: cohort train --config FILE\n"
        for (text, source) in rows {
            out += text + String(repeating: " ", count: max(0, width - text.count)) + "  # \(source)\n"
        }
        return out
    }

    /// `s` as a YAML scalar whose text reads back unchanged: plain when that is safe,
    /// else double-quoted with escapes.
    static func scalar(_ s: String) -> String {
        let nullWords: Set<String> = ["", "~", "null", "Null", "NULL"]
        let plain = s.range(of: #"^([A-Za-z0-9_./][A-Za-z0-9_./+-]*|-[0-9][A-Za-z0-9_./+-]*)$"#, options: .regularExpression) != nil
        if plain && !nullWords.contains(s) { return s }
        return jsonStringLiteral(s)   // YAML double-quoted scalars take JSON escapes
    }
}
