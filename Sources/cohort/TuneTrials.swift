// The two halves of `cohort tune` that touch the outside: reading the search
// space file, and running trials as `cohort train` processes, several at once.
import CohortCore
import CohortProcess
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
            guard let key = k.string, let option = TrainOptions.named(key) else {
                throw CohortError.badFile(path: path, "line \(line): unknown cohort train option '\(k.string ?? "?")'" + ConfigFile.suggestion(for: k.string ?? ""))
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

    /// The value after `flag` in `arguments` (`--flag v` or `--flag=v`), the last one winning.
    static func value(of flag: String, in arguments: [String]) -> String? {
        var found: String?
        for (i, a) in arguments.enumerated() {
            if a == flag, i + 1 < arguments.count { found = arguments[i + 1] } else if a.hasPrefix(flag + "=") { found = String(a.dropFirst(flag.count + 1)) }
        }
        return found
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

/// Runs trials as `cohort train` processes, at most `parallel` at once.
struct TrialRunner {
    let out: String
    let base: [String]
    let parallel: Int

    func directory(_ id: Int) -> String { out + String(format: "/trial-%03d", id) }

    /// Runs `trials` (continuing from their checkpoints when `haltAt` staging is in use) and reads their summaries.
    func run(_ trials: [TrialRecord], haltAt: Int?, staged: Bool) throws -> [TrialRecord] {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        var environment = ProcessInfo.processInfo.environment
        if TuneSpace.value(of: "--threads", in: base) == nil && environment["OPENBLAS_NUM_THREADS"] == nil {
            environment["OPENBLAS_NUM_THREADS"] = String(max(1, ProcessInfo.processInfo.activeProcessorCount / parallel))
        }
        var results = trials
        var running: [(index: Int, process: ChildProcess)] = []
        var next = 0
        func finish(_ slot: (index: Int, process: ChildProcess)) throws {
            let status = slot.process.wait().processStatus
            let dir = directory(results[slot.index].id)
            if status == 0, let data = FileManager.default.contents(atPath: dir + "/summary.json"),
               let summary = try JSONSerialization.jsonObject(with: data) as? [String: Any] {
                results[slot.index].summary = summary
                results[slot.index].failed = nil
            } else {
                let log = (try? String(contentsOfFile: dir + "/train.log", encoding: .utf8)) ?? ""
                let last = log.split(separator: "\n").last(where: { $0.contains("Error") }) ?? log.split(separator: "\n").last ?? "no output"
                results[slot.index].failed = "exit \(status): \(last.prefix(160))"
                Log.warning("trial \(results[slot.index].id) failed: \(last.prefix(160)) (\(dir)/train.log)")
            }
        }
        while next < results.count || !running.isEmpty {
            while running.count < parallel && next < results.count {
                let trial = results[next]
                let dir = directory(trial.id)
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                var args = ["train"] + base + trial.flags + ["--summary-json", dir + "/summary.json", "--progress", "lines"]
                if let haltAt { args += ["--halt-at", String(haltAt)] }
                if staged { args += ["--checkpoint-dir", dir + "/checkpoints", "--resume", "auto", "--checkpoint-every", "100000000", "--keep-last", "1"] }
                let log = dir + "/train.log"
                let p = try ChildProcess(argv: [me] + args, environment: environment, stdout: .append(path: log), stderr: .sameAsStdout)
                Log.main("trial \(trial.id): " + trial.params.map { "\($0.name)=\($0.value)" }.joined(separator: " ") + (haltAt.map { " (to step \($0))" } ?? ""))
                running.append((next, p))
                next += 1
            }
            if let done = running.firstIndex(where: { $0.process.exitStatus != nil }) {
                try finish(running.remove(at: done))
            } else {
                usleep(20_000)
            }
        }
        return results
    }

    /// Runs `cohort args…` and returns its standard output.
    /// - Throws: with its standard error when it fails.
    static func capture(_ args: [String]) throws -> String {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let r = try runChild([me] + args, stdout: .capture, stderr: .capture)
        let data = r.stdout, errors = r.stderr
        guard r.status.processStatus == 0 else {
            throw CohortError.invalidArgument("cohort \(args.prefix(2).joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
