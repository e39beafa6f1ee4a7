// Where name maps come from: the built-in maps from the built-in models to their PyTorch
// reference definitions (the benchmark peers W1–W4; docs/parameter-names.md), and map
// files (`--name-map FILE.yaml|.yml|.toml`) read with CohortConfig's YAML and TOML readers.
import CohortConfig
import CohortCore
import Foundation

extension NameMap {
    /// The names of built-in maps (`--name-map torch`).
    public static let builtInNames = ["torch"]

    /// `value` as a map for `model` (a built-in model name) with checkpoint-style `settings`
    /// (`hidden` decides the MLP's layer names): a built-in map's name or a map file.
    /// - Throws: `CohortError.invalidParameter(name: "nameMap", …)` for an unknown name or a
    ///   model without a built-in map; `CohortError.badFile` for an unreadable or invalid file.
    public static func named(_ value: String, model: String, settings: [String: String]) throws -> NameMap {
        if value == "torch" { return try torch(model: model, settings: settings) }
        let lower = value.lowercased()
        guard [".yaml", ".yml", ".toml"].contains(where: { lower.hasSuffix($0) }) else {
            throw CohortError.invalidParameter(name: "nameMap", "'\(value)' is neither a built-in map (\(builtInNames.joined(separator: ", "))) nor a .yaml, .yml or .toml file")
        }
        return try read(value)
    }

    /// The map from `model`'s Cohort names to its PyTorch reference definition's.
    public static func torch(model: String, settings: [String: String]) throws -> NameMap {
        let batchNorm = [#"\.num_batches_tracked$"#]
        switch model {
        case "mlp":
            // W1's nn.Sequential has no Flatten: Cohort's Linear j is {2j+1}, W1's {2j}.
            let hidden = (settings["hidden"] ?? "").split(separator: ",").count
            let rules = (0...hidden).map { j in Rule("^\(2 * j + 1)\\.", "\(2 * j).") }
            return try NameMap(origin: "torch (mlp)", rules: rules, ignored: batchNorm)
        case "cnn":
            // ReLU and max-pooling are fused into Cohort's convolutions; W2 lists them.
            let rules = [("1", "0"), ("2", "3"), ("4", "7"), ("6", "9")].map { Rule("^\($0.0)\\.", "\($0.1).") }
            return try NameMap(origin: "torch (cnn)", rules: rules, ignored: batchNorm)
        case "resnet":
            return try NameMap(origin: "torch (resnet)", rules: [], ignored: batchNorm)
        case "gpt":
            return try NameMap(origin: "torch (gpt)", rules: [Rule(#"^h\.(\d+)\.mlp\.c_fc\."#, "h.$1.mlp.0."),
                                                             Rule(#"^h\.(\d+)\.mlp\.c_proj\."#, "h.$1.mlp.2.")],
                               ignored: batchNorm, ties: [Tie("lm_head.weight", to: "wte.weight")])
        case "lstm":
            return try NameMap(origin: "torch (lstm)", rules: [Rule(#"^embedding\."#, "emb.")], ignored: batchNorm)
        default:
            throw CohortError.invalidParameter(name: "nameMap", "there is no built-in torch map for model '\(model)' (built-in maps: mlp, cnn, resnet, gpt, lstm)")
        }
    }

    /// Reads a map file: each section (YAML mapping or TOML `[table]`, in file order) is one of
    /// `match` + `replace` (+ `transpose: true`), `ignore: PATTERN`, or `tie: NAME` + `to: COHORT_NAME`.
    /// - Throws: `CohortError.badFile` naming the file (and line) of any problem.
    public static func read(_ path: String) throws -> NameMap {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw CohortError.badFile(path: path, "cannot read the name map (missing, unreadable or not UTF-8)")
        }
        let entries = path.lowercased().hasSuffix(".toml") ? try ConfigFile.tomlEntries(text, path: path) : try ConfigFile.yamlEntries(text, path: path)
        var sections: [(name: String, values: [String: ConfigValue], line: Int)] = []
        for e in entries {
            guard let section = e.section else {
                throw CohortError.badFile(path: path, "line \(e.line ?? 0): '\(e.key)' is outside a section; each rule is a section (docs/parameter-names.md)")
            }
            if sections.last?.name != section { sections.append((section, [:], e.line ?? 0)) }
            sections[sections.count - 1].values[e.key] = e.value
        }
        var rules: [Rule] = [], ignored: [String] = [], ties: [Tie] = []
        for s in sections {
            func text(_ key: String) throws -> String? {
                guard let v = s.values[key] else { return nil }
                guard case let .scalar(t, _) = v else { throw CohortError.badFile(path: path, "line \(s.line): \(s.name).\(key) must be a string") }
                return t
            }
            let keys = Set(s.values.keys)
            if keys == ["ignore"] {
                ignored.append(try text("ignore")!)
            } else if keys == ["tie", "to"] {
                ties.append(Tie(try text("tie")!, to: try text("to")!))
            } else if keys.isSubset(of: ["match", "replace", "transpose"]), let m = try text("match"), let r = try text("replace") {
                var transpose = false
                if let v = s.values["transpose"] {
                    guard case let .scalar(_, b) = v, let b else { throw CohortError.badFile(path: path, "line \(s.line): \(s.name).transpose must be true or false") }
                    transpose = b
                }
                rules.append(Rule(m, r, transpose: transpose))
            } else {
                throw CohortError.badFile(path: path, "line \(s.line): section \(s.name) has keys \(keys.sorted().joined(separator: ", ")); "
                    + "a section is match + replace (+ transpose), ignore, or tie + to")
            }
        }
        do { return try NameMap(origin: path, rules: rules, ignored: ignored, ties: ties) } catch let CohortError.invalidParameter(_, message) {
            throw CohortError.badFile(path: path, String(message.dropFirst(path.count + 2)))
        }
    }
}
