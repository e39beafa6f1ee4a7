// `cohort train --config run.yaml|run.toml`: a file of `cohort train` options that
// becomes command-line arguments placed before the user's own, so the command line
// wins. The valid keys come from Train's ArgumentParser definition itself.
import CohortCore
import Foundation
import Yams

/// A value as a config file spells it.
public enum ConfigValue {
    /// A string, number or Boolean as text (`3e-4`, `cnn`, `true`); `boolean` is set when the
    /// file's syntax makes it a Boolean.
    case scalar(String, boolean: Bool?)
    case null
    case list([ConfigValue])
    case mapping
}

/// One `key: value` of a config file.
public struct ConfigEntry {
    public var key: String
    public var value: ConfigValue
    /// 1-based line of the key, when the parser knows it.
    public var line: Int?
    /// The organisational section (`[optimizer]`) the key sits in, if any.
    public var section: String?
}

/// A loaded config file: per option set, the arguments it stands for.
public struct ConfigFile {
    /// The `cohort train` option naming the file.
    public static let flag = "config"

    /// One option the file sets.
    public struct Setting {
        public var option: TrainOption
        /// `--name=value` per value, `--name` for a true flag; empty for null or false.
        public var arguments: [String]
        public var line: Int?
    }

    /// The path as given (relative paths resolve against the working directory).
    public let path: String
    public let settings: [Setting]

    /// The arguments the file stands for, in file order.
    public var arguments: [String] { settings.flatMap(\.arguments) }

    /// Reads and checks `path` (`.yaml`/`.yml` or `.toml`).
    /// - Throws: `CohortError.badFile` naming the path (and line) for an unreadable file, a
    ///   syntax error, an unknown key (with suggestions), a duplicate or a wrongly typed value;
    ///   `CohortError.invalidParameter` (`config`) for an unknown extension.
    public init(path: String, options: OptionTable) throws {
        self.path = path
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        guard ["yaml", "yml", "toml"].contains(ext) else {
            throw CohortError.invalidParameter(name: "config", "\(path): unknown format '.\(ext)'; use a .yaml, .yml or .toml file")
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the config file (not readable UTF-8 text)" : "no such config file"
            throw CohortError.badFile(path: path, reason)
        }
        let entries = ext == "toml" ? try Self.tomlEntries(text, path: path) : try Self.yamlEntries(text, path: path)
        var settings: [Setting] = []
        var seen: [String: Int?] = [:]
        for entry in entries {
            let at = entry.line.map { "line \($0): " } ?? ""
            guard let option = options.named(entry.key) else {
                if entry.key.replacingOccurrences(of: "_", with: "-") == Self.flag {
                    throw CohortError.badFile(path: path, at + "'config' cannot be set in a config file (files do not include other files)")
                }
                var within = entry.section.map { " in section '\($0)'" } ?? ""
                if let section = entry.section, let sectionOption = options.named(section) {
                    // `metadata: {a: 1}`: more likely a wrongly typed value than a section.
                    within += " ('\(section)' is itself an option: --\(sectionOption.key) takes "
                        + (sectionOption.kind == .repeating ? "a list of values" : sectionOption.kind == .flag ? "true or false" : "a single value") + ", not a mapping)"
                }
                throw CohortError.badFile(path: path, at + "unknown key '\(entry.key)'\(within)" + Self.suggestion(for: entry.key, options: options))
            }
            if let first = seen[option.key] {
                let earlier = first.map { " (first set on line \($0))" } ?? ""
                throw CohortError.badFile(path: path, at + "'\(entry.key)' sets --\(option.key) again\(earlier)")
            }
            seen[option.key] = entry.line
            let args = try Self.arguments(for: option, entry.value, key: entry.key) { CohortError.badFile(path: path, at + $0) }
            settings.append(Setting(option: option, arguments: args, line: entry.line))
        }
        self.settings = settings
    }

    /// The command-line arguments for `value`, or the error `fail` makes of what is wrong.
    private static func arguments(for option: TrainOption, _ value: ConfigValue, key: String,
                                  fail: (String) -> CohortError) throws -> [String] {
        func scalarText(_ v: ConfigValue) throws -> String? {
            switch v {
            case let .scalar(text, _): return text
            case .null: return nil
            case .list: throw fail("'\(key)' takes a single value (--\(option.key) is not repeatable), got a list")
            case .mapping: throw fail("'\(key)' takes a single value, got a mapping (sections nest one level only)")
            }
        }
        switch option.kind {
        case .flag:
            switch value {
            case .scalar(_, boolean: let b?): return b ? ["--" + option.key] : option.inversion.map { ["--" + $0] } ?? []
            case .null: return []
            case let .scalar(text, _) where ["true", "false"].contains(text.lowercased()):
                throw fail("'\(key)' is a flag: expected true or false, got the string \"\(text)\" (write it without quotes)")
            default: throw fail("'\(key)' is a flag: expected true or false, got \(describe(value))")
            }
        case .single:
            return try scalarText(value).map { ["--\(option.key)=\($0)"] } ?? []
        case .repeating:
            let items: [ConfigValue]
            switch value {
            case let .list(list): items = list
            case .mapping: throw fail("'\(key)' takes a list of values, got a mapping")
            default: items = [value]
            }
            return try items.compactMap { item -> String? in
                switch item {
                case .list, .mapping: throw fail("'\(key)' takes a list of single values, got \(describe(item)) inside the list")
                case .null: throw fail("'\(key)': a list item is empty (null)")
                default: return try scalarText(item).map { "--\(option.key)=\($0)" }
                }
            }
        }
    }

    private static func describe(_ v: ConfigValue) -> String {
        switch v {
        case let .scalar(text, _): return "'\(text)'"
        case .null: return "null"
        case .list: return "a list"
        case .mapping: return "a mapping"
        }
    }

    // MARK: Parsers

    /// Top-level keys, and one level of organisational sections (`optimizer: {lr: …}`).
    public static func yamlEntries(_ text: String, path: String) throws -> [ConfigEntry] {
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let error as YamlError {
            switch error {
            case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
                let within = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
                throw CohortError.badFile(path: "\(path):\(mark.line):\(mark.column)", "YAML syntax error: \(problem)\(within)")
            default:
                throw CohortError.badFile(path: path, "YAML error: \(error)")
            }
        }
        guard let root else { return [] }
        guard let mapping = root.mapping else {
            throw CohortError.badFile(path: path, "line \(root.mark?.line ?? 1): expected a mapping of `cohort train` option names to values")
        }
        var entries: [ConfigEntry] = []
        for (k, v) in mapping {
            let key = try yamlKey(k, path: path)
            if let section = v.mapping {
                for (k2, v2) in section {
                    let value = yamlValue(v2)
                    if case .mapping = value {
                        throw CohortError.badFile(path: path, "line \(k2.mark?.line ?? 0): '\(key).\(k2.string ?? "?")': sections nest one level only")
                    }
                    entries.append(ConfigEntry(key: try yamlKey(k2, path: path), value: value, line: k2.mark?.line, section: key))
                }
            } else {
                entries.append(ConfigEntry(key: key, value: yamlValue(v), line: k.mark?.line))
            }
        }
        return entries
    }

    private static func yamlKey(_ node: Node, path: String) throws -> String {
        guard let s = node.scalar?.string else {
            throw CohortError.badFile(path: path, "line \(node.mark?.line ?? 0): keys must be option names, not lists or mappings")
        }
        return s
    }

    private static func yamlValue(_ node: Node) -> ConfigValue {
        if let s = node.scalar {
            guard s.style == .plain || s.style == .any else { return .scalar(s.string, boolean: nil) }
            // Plain `null`, `~` or nothing is null; true/false (also yes/no/on/off, YAML 1.1) a Boolean.
            if node.null != nil { return .null }
            return .scalar(s.string, boolean: node.bool)
        }
        if let seq = node.sequence { return .list(seq.map(yamlValue)) }
        return .mapping
    }

    public static func tomlEntries(_ text: String, path: String) throws -> [ConfigEntry] {
        func convert(_ v: TOMLValue) -> ConfigValue {
            switch v {
            case let .string(s): return .scalar(s, boolean: nil)
            case let .integer(i): return .scalar(String(i), boolean: nil)
            case let .float(d): return .scalar("\(d)", boolean: nil)
            case let .boolean(b): return .scalar(b ? "true" : "false", boolean: b)
            case let .array(items): return .list(items.map(convert))
            }
        }
        do {
            return try TOMLParser.parse(text).map { ConfigEntry(key: $0.key, value: convert($0.value), line: $0.line, section: $0.table) }
        } catch let e as TOMLError {
            throw CohortError.badFile(path: "\(path):\(e.line):\(e.column)", e.message)
        }
    }

    // MARK: Suggestions

    /// Names other tools use for Cohort's options: suggested even when far in spelling.
    public static let aliases: [String: String] = [
        "learning-rate": "lr", "learningrate": "lr", "batch": "global-batch", "num-epochs": "epochs",
        "max-epochs": "epochs", "max-steps": "steps", "num-steps": "steps", "iterations": "steps",
        "wd": "weight-decay", "optim": "optimizer", "random-seed": "seed", "num-threads": "threads",
        "grad-clip": "clip-grad-norm", "max-grad-norm": "clip-grad-norm", "gradient-clipping": "clip-grad-norm",
        "scheduler": "lr-schedule", "lr-scheduler": "lr-schedule", "dataset": "data", "data-dir": "data",
        "arch": "model", "architecture": "model", "hidden-sizes": "hidden", "hidden-size": "hidden",
        "save-dir": "checkpoint-dir", "output-dir": "checkpoint-dir", "ckpt-dir": "checkpoint-dir",
        "gradient-accumulation-steps": "accumulate", "grad-accum": "accumulate", "num-layers": "layers",
        "n-layers": "layers", "n-heads": "heads", "num-heads": "heads", "dim": "d-model", "width": "d-model",
    ]

    /// ` (did you mean 'lr'?; …)`: aliases first, then the nearest names by edit distance.
    public static func suggestion(for key: String, options: OptionTable) -> String {
        let k = key.lowercased().replacingOccurrences(of: "_", with: "-")
        var picks: [String] = []
        let limit = max(1, k.count / 3)
        // Near an alias (`learning_rat`) counts as the alias.
        let alias = aliases[k] ?? aliases.map { (name: $0.value, distance: editDistance(k, $0.key), key: $0.key) }
            .filter { $0.distance <= limit }.min { ($0.distance, $0.key) < ($1.distance, $1.key) }?.name
        if let a = alias, options.named(a) != nil { picks.append(a) }
        let names = options.all.flatMap(\.names)
        let near = names.map { ($0, editDistance(k, $0)) }.filter { $0.1 <= limit }.sorted { $0.1 < $1.1 }
        for (n, _) in near where !picks.contains(n) && picks.count < 3 { picks.append(n) }
        let hint = "`cohort config show` lists every key"
        guard !picks.isEmpty else { return " (\(hint))" }
        return " (did you mean " + picks.map { "'\($0)'" }.joined(separator: " or ") + "?; \(hint))"
    }

    /// Damerau–Levenshtein distance (optimal string alignment): insertions, deletions,
    /// substitutions and transpositions of neighbours each cost 1.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let s = Array(a), t = Array(b)
        if s.isEmpty || t.isEmpty { return max(s.count, t.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: t.count + 1), count: s.count + 1)
        for i in 0...s.count { d[i][0] = i }
        for j in 0...t.count { d[0][j] = j }
        for i in 1...s.count {
            for j in 1...t.count {
                let cost = s[i - 1] == t[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, s[i - 1] == t[j - 2], s[i - 2] == t[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[s.count][t.count]
    }
}
