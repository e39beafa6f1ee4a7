// `cohort tune`'s search space file (YAML: cohort train options and their domains),
// the default ranking metric and the winner's test metrics. Trials run in CohortTune.
import CohortConfig
import CohortCore
import CohortTune
import Foundation
import Yams

enum TuneSpace {
    /// Reads a space file: `option: [choices]` or `option: {uniform|log-uniform|int|choice: …}`.
    /// - Throws: naming the file, line and key for unknown options and malformed domains.
    static func load(_ path: String) throws -> SearchSpace {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CohortError.badFile(path: path, "cannot read the search space file")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw CohortError.badFile(path: path, "YAML syntax error: \(error)") }
        guard let mapping = root?.mapping else { throw CohortError.badFile(path: path, "expected a mapping of cohort train options to domains") }
        var options: [(name: String, domain: Domain)] = []
        for (k, v) in mapping {
            let line = k.mark?.line ?? 0
            guard let key = k.string, let option = TrainFlagTable.named(key) else {
                throw CohortError.badFile(path: path, "line \(line): unknown cohort train option '\(k.string ?? "?")'" + ConfigFile.suggestion(for: k.string ?? "", options: TrainFlagTable.table))
            }
            guard option.kind == .single || option.kind == .flag else {
                throw CohortError.badFile(path: path, "line \(line): '\(key)' takes several values; it cannot be searched")
            }
            func bad(_ why: String) -> CohortError { .badFile(path: path, "line \(line): '\(key)': \(why)") }
            let domain: Domain
            if let list = v.sequence {
                domain = .choice(try list.map { guard let s = $0.string else { throw bad("choices must be single values") }; return s })
            } else if let m = v.mapping, m.count == 1, let (kind, arg) = m.first.map({ ($0.key.string ?? "", $0.value) }) {
                let numbers = try (arg.sequence ?? []).map { n -> Double in
                    guard let s = n.string, let d = Double(s) else { throw bad("\(kind) needs numbers, got '\(n.string ?? "?")'") }
                    return d
                }
                switch kind {
                case "choice": domain = .choice(try (arg.sequence ?? []).map { guard let s = $0.string else { throw bad("choices must be single values") }; return s })
                case "uniform", "log-uniform", "log_uniform", "int":
                    guard numbers.count == 2 else { throw bad("\(kind) needs [low, high]") }
                    if kind == "uniform" { domain = .uniform(numbers[0], numbers[1]) } else if kind == "int" {
                        guard numbers.allSatisfy({ $0 == $0.rounded() }) else { throw bad("int needs whole numbers") }
                        domain = .integer(Int(numbers[0]), Int(numbers[1]))
                    } else { domain = .logUniform(numbers[0], numbers[1]) }
                default: throw bad("unknown domain '\(kind)' (choice, uniform, log-uniform, int)")
                }
            } else {
                throw bad("expected a list of choices or one of {choice: […]}, {uniform: [lo, hi]}, {log-uniform: [lo, hi]}, {int: [lo, hi]}")
            }
            options.append((option.key, domain))
        }
        do { return try SearchSpace(options) } catch { throw CohortError.badFile(path: path, "\(error)") }
    }

    /// The validation metric the task reports, in order of preference.
    static func defaultMetric(_ trials: [TrialRecord]) throws -> String {
        for name in ["val_accuracy", "val_loss", "val_exact_match", "val_r2"] where trials.contains(where: { $0.summary?[name] != nil }) { return name }
        throw CohortError.invalidArgument("no trial finished with a validation metric (see the train.log files); name one with --metric")
    }

    /// A trial's test metrics for reporting: the counterpart of the ranking metric (`val_accuracy` →
    /// `test_accuracy`) if it has one, else every `test_*` value of its summary.
    static func testMetrics(_ trial: TrialRecord, for metric: String) -> [(name: String, value: Double)] {
        guard let summary = trial.summary else { return [] }
        let twin = "test_" + metric.dropFirst(4)
        if let v = summary[twin] as? Double { return [(twin, v)] }
        return summary.keys.filter { $0.hasPrefix("test_") }.sorted().compactMap { k in (summary[k] as? Double).map { (k, $0) } }
    }
}
