// `cohort train --config run.yaml|run.toml` and `cohort config show` on the release
// binary: file values reach the run, the command line overrides them, mistakes are
// errors naming file, line and key, the shown configuration round-trips, and the
// TOML subset parses (escapes, numbers, arrays, comments) or fails at line:column.
import Foundation
import Testing

@Suite(.serialized) struct ConfigFileTests {
    /// Writes `text` to `name` in a fresh directory; returns the directory and the file's path.
    func write(_ text: String, _ name: String) throws -> (URL, String) {
        let dir = try CLI.temporaryDirectory()
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (dir, path)
    }

    /// `key: value` per line of `cohort config show` output, without the `# source` comments.
    func values(_ yaml: String) -> [String] {
        yaml.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            line.range(of: "  # ", options: .backwards).map { String(line[..<$0.lowerBound]).trimmingCharacters(in: .whitespaces) } ?? String(line)
        }
    }

    /// The `# source` of `key` in `cohort config show` output.
    func source(_ yaml: String, _ key: String) -> String? {
        yaml.split(separator: "\n").first { $0.hasPrefix(key + ": ") }
            .flatMap { line in line.range(of: "  # ", options: .backwards).map { String(line[$0.upperBound...]) } }
    }

    @Test func yamlConfigTrainsWithTheFilesValues() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("s.json").path
        let yaml = """
            # a small run
            model: mlp
            hidden: "32"
            global_batch: 64
            steps: 3
            seed: 5
            deterministic: true
            metadata: [owner=ana, purpose=test]
            summary-json: \(summary)
            optimizer:          # an organisational section
              lr: 3e-4
              optimizer: sgd
            """
        let path = dir.appendingPathComponent("run.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["train", "--config", path], timeout: 120)
        #expect(r.status == 0, "\(r.output)")
        let s = try CLI.readJSON(summary)
        #expect(s["batch_size"] as? Int == 64)
        #expect(s["steps"] as? Int == 3)
        #expect(s["seed"] as? Int == 5)
        #expect(s["deterministic"] as? Bool == true)
        #expect(r.stderr.contains("sgd lr 0.0003"), "\(r.stderr)")
    }

    @Test func tomlConfigTrainsWithTheFilesValues() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("s.json").path
        let toml = """
            # a small run
            hidden = '32'
            global-batch = 32
            steps = 3
            seed = 0x07
            accumulate = 2
            summary_json = "\(summary)"

            [optimizer]
            lr = 2.5e-3   # exponent
            optimizer = "adamw"
            """
        let path = dir.appendingPathComponent("run.toml").path
        try toml.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["train", "--config", path], timeout: 120)
        #expect(r.status == 0, "\(r.output)")
        let s = try CLI.readJSON(summary)
        #expect(s["batch_size"] as? Int == 32)
        #expect(s["steps"] as? Int == 3)
        #expect(s["seed"] as? Int == 7)
        #expect(s["accumulate"] as? Int == 2)
        #expect(r.stderr.contains("adamw lr 0.0025"), "\(r.stderr)")
    }

    @Test func commandLineOverridesTheFile() throws {
        let (dir, path) = try write("hidden: '32'\nglobal-batch: 64\nsteps: 5\nlr: 0.5\ntensorboard: false\n", "run.yml")
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("s.json").path
        let r = try CLI.run(["train", "--global-batch", "32", "--config", path, "--steps", "2", "--lr=0.01",
                             "--tensorboard", "--summary-json", summary], timeout: 120)
        #expect(r.status == 0, "\(r.output)")
        let s = try CLI.readJSON(summary)
        #expect(s["batch_size"] as? Int == 32)
        #expect(s["steps"] as? Int == 2)
        #expect(r.stderr.contains("adam lr 0.01,"), "\(r.stderr)")
    }

    @Test func unknownKeysNameFileLineAndSuggestion() throws {
        let (dir, path) = try write("model: mlp\n\nlearning-rate: 0.1\n", "run.yaml")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["train", "--config", path], timeout: 60)
        #expect(r.status == 2, "\(r.output)")
        #expect(r.stderr.contains("\(path): line 3: unknown key 'learning-rate' (did you mean 'lr'?"), "\(r.stderr)")
        for (text, name, line, suggestion) in [("steps: 1\nbatch_sise: 8\n", "a.yaml", 2, "batch-size"),
                                               ("modle: mlp\n", "b.yaml", 1, "model"),
                                               ("seed = 1\n[optimizer]\nmomentun = 0.9\n", "c.toml", 3, "momentum")] {
            let (d, p) = try write(text, name)
            defer { try? FileManager.default.removeItem(at: d) }
            let e = try CLI.run(["config", "show", "--config", p], timeout: 60)
            #expect(e.status == 2, "\(e.output)")
            #expect(e.stderr.contains("\(p): line \(line): unknown key") && e.stderr.contains("did you mean '\(suggestion)'"), "\(e.stderr)")
        }
    }

    @Test func wrongValueTypesNameFileKeyAndExpectation() throws {
        let cases: [(String, String, [String])] = [
            ("model: [mlp, cnn]\n", "list.yaml", ["line 1", "'model' takes a single value"]),
            ("deterministic: 3\n", "flag.yaml", ["line 1", "'deterministic' is a flag: expected true or false, got '3'"]),
            ("deterministic = \"true\"\n", "flag.toml", ["line 1", "'deterministic' is a flag", "without quotes"]),
            ("metadata:\n  owner: ana\n", "map.yaml", ["line 2", "'metadata' is itself an option", "list of values, not a mapping"]),
            ("a:\n  b:\n    c: 1\n", "deep.yaml", ["line 2", "sections nest one level only"]),
            ("metadata = [[\"a=1\"]]\n", "nested.toml", ["line 1", "'metadata' takes a list of single values"]),
            ("lr: 1\nglobal-batch: 8\nbatch-size: 16\n", "twice.yaml", ["line 3", "sets --global-batch again (first set on line 2)"]),
            ("config: other.yaml\n", "self.yaml", ["line 1", "'config' cannot be set in a config file"]),
        ]
        for (text, name, needles) in cases {
            let (dir, path) = try write(text, name)
            defer { try? FileManager.default.removeItem(at: dir) }
            let r = try CLI.run(["train", "--config", path, "--steps", "1"], timeout: 60)
            #expect(r.status == 2, "\(name): \(r.output)")
            #expect(r.stderr.contains("Error: \(path): "), "\(name): \(r.stderr)")
            for n in needles { #expect(r.stderr.contains(n), "\(name): no '\(n)' in \(r.stderr)") }
        }
        // A value ArgumentParser rejects: its message, plus where the value came from.
        let (dir, path) = try write("seed: 1\nlr: abc\n", "value.yaml")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["train", "--config", path], timeout: 60)
        #expect(r.status == 2, "\(r.output)")
        #expect(r.stderr.contains("'abc' is invalid for '--lr") && r.stderr.contains("--lr was set by \(path), line 2"), "\(r.stderr)")
    }

    @Test func missingUnreadableOrMalformedFilesNameThePath() throws {
        let missing = try CLI.run(["train", "--config", "/nonexistent/run.yaml"], timeout: 60)
        #expect(missing.status == 2, "\(missing.output)")
        #expect(missing.stderr.contains("/nonexistent/run.yaml: no such config file"), "\(missing.stderr)")
        let shown = try CLI.run(["config", "show", "--config", "/nonexistent/run.toml"], timeout: 60)
        #expect(shown.status == 2 && shown.stderr.contains("/nonexistent/run.toml"), "\(shown.output)")
        let (dir, json) = try write("{}", "run.json")
        defer { try? FileManager.default.removeItem(at: dir) }
        let format = try CLI.run(["train", "--config", json], timeout: 60)
        #expect(format.status == 2 && format.stderr.contains("--config: \(json): unknown format '.json'"), "\(format.output)")
        let noValue = try CLI.run(["train", "--config"], timeout: 60)
        #expect(noValue.status == 2 && noValue.stderr.contains("--config: needs a file"), "\(noValue.output)")
        let (d2, broken) = try write("model: mlp\nlr: [1\n", "broken.yaml")
        defer { try? FileManager.default.removeItem(at: d2) }
        let syntax = try CLI.run(["train", "--config", broken], timeout: 60)
        #expect(syntax.status == 2 && syntax.stderr.contains("\(broken):3:1: YAML syntax error"), "\(syntax.output)")
    }

    @Test func configShowPrintsSourcesAndRoundTrips() throws {
        let (dir, path) = try write("hidden: '32'\nglobal-batch: 64\nthreads: 1\nlr: 0.5\nasync-checkpoint: false\nmetadata: [owner=ana]\n", "run.yaml")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cli = ["--lr", "0.01", "--metadata", "purpose=test", "--steps", "3"]
        let show = try CLI.run(["config", "show", "--config", path] + cli, timeout: 60)
        #expect(show.status == 0, "\(show.output)")
        #expect(!show.stderr.contains("step "), "config show must not train: \(show.stderr)")
        let out = show.stdout
        #expect(values(out).contains("global-batch: 64") && source(out, "global-batch") == path)
        #expect(values(out).contains("lr: 0.01") && source(out, "lr") == "command line")
        #expect(values(out).contains("epochs: 3") && source(out, "epochs") == "default")
        #expect(values(out).contains("async-checkpoint: false") && source(out, "async-checkpoint") == path)
        #expect(values(out).contains("metadata: [\"owner=ana\", \"purpose=test\"]") && source(out, "metadata") == "\(path) + command line", "\(out)")
        #expect(values(out).contains("data: null") && values(out).contains("deterministic: false"))
        // Every option of `cohort train --help` is listed.
        let help = try CLI.run(["train", "--help"], timeout: 60).stdout
        for flag in ["--model", "--global-batch", "--metadata", "--deterministic", "--inject-fault"] {
            let key = String(flag.dropFirst(2))
            #expect(help.contains(flag) && values(out).contains { $0.hasPrefix(key + ": ") }, "\(key) missing")
        }
        #expect(help.contains("--config"))

        // The output, saved, is a config file: same values, and the same run as the original.
        let resolved = dir.appendingPathComponent("resolved.yaml").path
        try out.write(toFile: resolved, atomically: true, encoding: .utf8)
        let again = try CLI.run(["config", "show", "--config", resolved], timeout: 60)
        #expect(again.status == 0, "\(again.output)")
        #expect(values(again.stdout) == values(out))
        #expect(source(again.stdout, "lr") == resolved)
        let s1 = dir.appendingPathComponent("s1.json").path, s2 = dir.appendingPathComponent("s2.json").path
        let direct = try CLI.run(["train", "--config", path] + cli + ["--summary-json", s1], timeout: 120)
        let viaShow = try CLI.run(["train", "--config", resolved, "--summary-json", s2], timeout: 120)
        #expect(direct.status == 0 && viaShow.status == 0, "\(direct.output)\n\(viaShow.output)")
        let w1 = try CLI.readJSON(s1)["weights_sha256"] as? String, w2 = try CLI.readJSON(s2)["weights_sha256"] as? String
        #expect(w1 != nil && w1 == w2)
    }

    @Test func tomlSubsetParsesStringsNumbersArraysAndComments() throws {
        let toml = #"""
            # comment line
            model = "mlp"            # trailing comment
            'global-batch' = 1_024
            seed = 0x1F
            lr = 3e-4
            momentum = +0.5
            weight-decay = 1E2
            clip-grad-norm = -0.0
            deterministic = false
            metadata = [
              "tab=a\tb",            # escapes
              'path=C:\dir\n',       # literal: no escapes
              "u=\u00e9\U0001F600",
              "q=\"x\" \\ done",
            ]
            """#
        let (dir, path) = try write(toml, "parse.toml")
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["config", "show", "--config", path], timeout: 60)
        #expect(r.status == 0, "\(r.output)")
        let v = values(r.stdout)
        for expected in ["model: mlp", "global-batch: 1024", "seed: 31", "lr: 0.0003", "momentum: 0.5", "weight-decay: 100.0",
                         "clip-grad-norm: -0.0", "deterministic: false",
                         #"metadata: ["tab=a\tb", "path=C:\\dir\\n", "u=é😀", "q=\"x\" \\ done"]"#] {
            #expect(v.contains(expected), "no '\(expected)' in\n\(r.stdout)")
        }
        #expect(source(r.stdout, "deterministic") == path)
    }

    @Test func tomlErrorsNameLineAndColumn() throws {
        let cases: [(String, String)] = [
            ("seed = 1\nmodel = \"mlp\n", ":2:13: unterminated string"),
            ("seed = 1\nmodel = \"a\\qb\"\n", ":2:11: unknown escape sequence \\q"),
            ("seed = 1\nseed = 2\n", ":2:1: key 'seed' is defined twice (first on line 1)"),
            ("optimizer.lr = 1\n", ":1:10: dotted keys are not supported"),
            ("seed 1\n", ":1:6: expected '=' after key 'seed'"),
            ("seed = 1 2\n", ":1:10: expected the end of the line, found '2'"),
            ("lr = 01\n", ":1:6: unsupported value '01'"),
            ("lr = 1979-05-27\n", ":1:6: unsupported value '1979-05-27'"),
            ("metadata = [\"a=1\",\n  \"b=2\" \"c=3\"]\n", ":2:9: expected ',' or ']' in the array"),
            ("[optimizer]\nlr = 1\n[optimizer]\n", ":3:1: table [optimizer] is defined twice"),
            ("lr = {x = 1}\n", ":1:6: inline tables ({…}) are not supported"),
        ]
        for (text, needle) in cases {
            let (dir, path) = try write(text, "bad.toml")
            defer { try? FileManager.default.removeItem(at: dir) }
            let r = try CLI.run(["config", "show", "--config", path], timeout: 60)
            #expect(r.status == 2, "\(text): \(r.output)")
            #expect(r.stderr.contains("Error: " + path + needle), "expected '\(needle)' for \(text.debugDescription), got \(r.stderr)")
        }
    }

    @Test func launchExpandsTheConfigOnceForEveryRank() throws {
        let (dir, _) = try write("""
            hidden: "32"
            global-batch: 32
            steps: 3
            checkpoint-dir: ckpt
            summary-json: s.json
            """, "run.yaml")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A relative --config and relative paths in it resolve against the working directory.
        let r = try CLI.runExecutable("/bin/sh", ["-c", "cd '\(dir.path)' && exec '\(CLI.binary)' launch --np 2 -- --config run.yaml --steps 4"],
                                      timeout: 180)
        #expect(r.status == 0, "\(r.output)")
        let s = try CLI.readJSON(dir.appendingPathComponent("s.json").path)
        #expect(s["world_size"] as? Int == 2 && s["steps"] as? Int == 4 && s["batch_size"] as? Int == 32, "\(s)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("ckpt/step-00000004").path))
    }
}
