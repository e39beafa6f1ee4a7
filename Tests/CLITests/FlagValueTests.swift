// Flag values a user gets wrong reach the real validation: a negative number after a
// numeric flag (`--lr -1`, not only `--lr=-1`) is that flag's value, not a flag; an
// empty --hidden is refused (`--hidden none` asks for no hidden layer); absurd model
// sizes are one-line errors with exit status 2, before anything is allocated.
import Foundation
import Testing

@Suite struct FlagValueTests {
    @Test func negativeNumbersAreValuesNotFlags() throws {
        let cases: [([String], String)] = [
            (["--lr", "-1"], "--lr must be a positive number, got -1"),
            (["--steps", "-5"], "--steps must be positive, got -5"),
            (["--epochs", "-2"], "--epochs must be positive, got -2"),
            (["--global-batch", "-8"], "--global-batch (--batch-size) must be positive, got -8"),
            (["--checkpoint-every", "-1"], "--checkpoint-every must be positive, got -1"),
            (["--keep-last", "-1"], "--keep-last and --keep-every must be ≥ 0"),
            (["--prefetch", "-3"], "--prefetch must be 0 (off) or a positive number of steps, got -3"),
            (["--threads", "-1"], "--threads"),
            (["--hidden", "-4"], "--hidden must be comma-separated positive integers (or none), got '-4'"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(["train"] + args)
            #expect(r.status == 2 && r.stderr.contains(message) && !r.stderr.contains("Missing value"), "\(args): \(r.output)")
        }
        // A seed is a whole number ≥ 0: -1 is refused by name (not read as a flag).
        let seed = try CLI.run(["train", "--seed", "-1", "--steps", "1"])
        #expect(seed.status != 0 && seed.stderr.contains("-1") && seed.stderr.contains("--seed") && !seed.stderr.contains("Missing value"),
                "\(seed.output)")
        // Other commands' numeric options too.
        let folds = try CLI.run(["cv", "--folds", "-3", "--", "--data", "x.csv"])
        #expect(folds.status == 2 && folds.stderr.contains("--folds: -3 folds"), "\(folds.output)")
        let tokens = try CLI.run(["generate", "--tokens", "-5", "--checkpoint", "/nonexistent"])
        #expect(tokens.status != 0 && !tokens.stderr.contains("Missing value"), "\(tokens.output)")
    }

    @Test func emptyHiddenIsRefusedAndNoneMeansNoHiddenLayer() throws {
        let empty = try CLI.run(["train", "--hidden", "", "--steps", "1"])
        #expect(empty.status == 2 && empty.stderr.contains("--hidden is empty") && empty.stderr.contains("--hidden none"), "\(empty.output)")
        let gap = try CLI.run(["train", "--hidden", "64,,32", "--steps", "1"])
        #expect(gap.status == 2 && gap.stderr.contains("--hidden must be comma-separated"), "\(gap.output)")
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("s.json").path
        let linear = try CLI.run(["train", "--hidden", "none", "--steps", "2", "--log-every", "100", "--summary-json", summary])
        #expect(linear.status == 0, "\(linear.output)")
        // The built-in dataset: 64 features, 10 classes → one Linear layer of 64·10 + 10 parameters.
        #expect(linear.stderr.contains("model mlp 650 parameters"), "\(linear.output)")
        let lstm = try CLI.run(["train", "--model", "lstm", "--data", "addition", "--hidden", "none", "--steps", "1"])
        #expect(lstm.status == 2 && lstm.stderr.contains("--model lstm needs a hidden size"), "\(lstm.output)")
    }

    /// `--train-samples N` trains on the first N training samples (the banner and the run's
    /// identity say so); more than there are, zero, or a text task are refused by flag.
    @Test func trainSamplesCutsTheTrainingPartOnly() throws {
        let cut = try CLI.run(["train", "--train-samples", "300", "--steps", "2", "--log-every", "100"])
        #expect(cut.status == 0 && cut.stderr.contains(" 300 train / "), "\(cut.output)")
        let whole = try CLI.run(["train", "--steps", "1", "--log-every", "100"])
        let testPart = whole.stderr.components(separatedBy: " train / ").last?.prefix(while: { $0 != " " }) ?? ""
        #expect(!testPart.isEmpty && cut.stderr.contains(" train / \(testPart) test"), "the test part stays whole: \(cut.output)")
        for n in ["0", "100000000"] {
            let bad = try CLI.run(["train", "--train-samples", n, "--steps", "1"])
            #expect(bad.status == 2 && bad.stderr.contains("--train-samples: \(n) must be between 1 and"), "\(bad.output)")
        }
        let text = try CLI.run(["train", "--model", "gpt", "--data", "addition", "--train-samples", "10", "--steps", "1"])
        #expect(text.status == 2 && text.stderr.contains("--train-samples: 10: a training subset applies to classification data"), "\(text.output)")
    }

    /// Each model whose size comes from flags, far beyond any machine: a one-line error naming the
    /// model, the bytes needed and available, exit 2, within seconds (nothing is allocated).
    @Test(arguments: [
        ["--hidden", "100000000"],
        ["--hidden", "100000000000000"],
        ["--hidden", "4000000000,4000000000"],
        ["--model", "gpt", "--data", "addition", "--d-model", "4000000", "--heads", "4"],
        ["--model", "gpt", "--data", "addition", "--layers", "100000000000"],
        ["--model", "lstm", "--data", "addition", "--hidden", "300000000"],
        ["--model", "lstm", "--data", "addition", "--embedding", "1000000000000000"],
    ])
    func absurdModelSizesAreOneLineErrors(_ args: [String]) throws {
        let started = Date()
        let r = try CLI.run(["train", "--steps", "1"] + args, timeout: 60)
        let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
        #expect(r.status == 2, "\(args): \(r.output)")
        #expect(lines.count == 1 && lines[0].hasPrefix("Error: model ") && lines[0].contains("bytes"), "\(args): \(r.stderr)")
        #expect(r.stderr.contains("available") || r.stderr.contains("64-bit"), "\(args): \(r.stderr)")
        #expect(!r.output.contains("Fatal error") && !r.output.contains("Crash"), "\(args): \(r.output)")
        #expect(Date().timeIntervalSince(started) < 30, "\(args): took \(Date().timeIntervalSince(started)) s")
    }

    /// The CNN's size is fixed; its absurd size is the batch, refused before a step allocates it.
    @Test func absurdBatchForTheCNNIsAnError() throws {
        let r = try CLI.run(["train", "--model", "cnn", "--data", CLI.mnist, "--global-batch", "100000000000", "--steps", "1"], timeout: 60)
        #expect(r.status == 2 && r.stderr.contains("--batch-size") && !r.output.contains("Fatal error"), "\(r.output)")
    }
}
