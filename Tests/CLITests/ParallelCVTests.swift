// `cohort cv --parallel`: all folds in one mpirun job, MPI's world split into one
// group of ranks per fold. With one rank per fold every fold must end with the
// weights of the sequential run; with two ranks per fold deterministic mode makes
// them bitwise equal too; a world size the folds do not divide is a clear error.
import Foundation
import Testing

@Suite(.serialized) struct ParallelCVTests {
    var iris: String { CLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/iris/iris.csv").path }

    /// Runs `cohort cv` with `options` and `train` (after `--`), summaries kept in a new directory.
    func crossValidate(_ options: [String], _ train: [String], in dir: URL, _ name: String) throws -> (CLIResult, URL) {
        let out = dir.appendingPathComponent(name)
        return (try CLI.run(["cv", "--out", out.path, "--json"] + options + ["--"] + train, timeout: 120), out)
    }

    /// `key` of fold `i`'s summary in `out`.
    func fold(_ i: Int, in out: URL, _ key: String) throws -> Any? {
        try CLI.readJSON(out.appendingPathComponent("fold-\(i).json").path)[key]
    }

    @Test func oneRankPerFoldMatchesSequentialFolds() throws {
        guard FileManager.default.fileExists(atPath: iris) else { return }   // ../shared/data absent
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // One BLAS thread on both sides: outside deterministic mode a GEMM's bits may depend on
        // how many threads split it (a sequential fold would get every core, a parallel one a share).
        let train = ["--data", iris, "--hidden", "16", "--epochs", "20", "--global-batch", "16", "--lr", "1e-2", "--threads", "1"]
        let (seq, seqOut) = try crossValidate(["--folds", "3"], train, in: dir, "sequential")
        let (par, parOut) = try crossValidate(["--folds", "3", "--parallel"], train, in: dir, "parallel")
        #expect(seq.status == 0, "\(seq.output)")
        #expect(par.status == 0, "\(par.output)")
        var hashes: Set<String> = []
        for i in 1...3 {
            let a = try fold(i, in: seqOut, "weights_sha256") as? String, b = try fold(i, in: parOut, "weights_sha256") as? String
            #expect(a != nil && a == b, "fold \(i): sequential \(a ?? "-"), parallel \(b ?? "-")")
            #expect(try fold(i, in: parOut, "world_size") as? Int == 1)
            for key in ["test_accuracy", "test_macro_f1", "test_log_loss"] {
                let x = try fold(i, in: seqOut, key) as? Double, y = try fold(i, in: parOut, key) as? Double
                #expect(x != nil && x == y, "fold \(i) \(key): sequential \(x ?? .nan), parallel \(y ?? .nan)")
            }
            hashes.insert(a ?? "")
        }
        #expect(hashes.count == 3, "each fold trains on different data: \(hashes)")
        // The report is the same object, byte for byte.
        #expect(!seq.stdout.isEmpty && seq.stdout == par.stdout, "sequential:\n\(seq.stdout)\nparallel:\n\(par.stdout)")
        let report = try JSONSerialization.jsonObject(with: Data(par.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(((report["test_accuracy"] as? [String: Any])?["folds"] as? [Double])?.count == 3, "\(report)")
    }

    @Test func twoRanksPerFoldTrainEachFoldDataParallel() throws {
        guard FileManager.default.fileExists(atPath: iris) else { return }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Deterministic mode: the same bits on 1 or 2 ranks, so each fold of the 4-rank job equals the sequential fold.
        let train = ["--data", iris, "--hidden", "16", "--epochs", "10", "--global-batch", "16", "--lr", "1e-2",
                     "--deterministic", "--virtual-shards", "8"]
        let (seq, seqOut) = try crossValidate(["--folds", "2"], train, in: dir, "sequential")
        let (par, parOut) = try crossValidate(["--folds", "2", "--parallel", "--ranks-per-fold", "2"], train, in: dir, "parallel")
        #expect(seq.status == 0, "\(seq.output)")
        #expect(par.status == 0, "\(par.output)")
        for i in 1...2 {
            #expect(try fold(i, in: parOut, "world_size") as? Int == 2, "fold \(i) should train on 2 ranks")
            let a = try fold(i, in: seqOut, "weights_sha256") as? String, b = try fold(i, in: parOut, "weights_sha256") as? String
            #expect(a != nil && a == b, "fold \(i): sequential \(a ?? "-"), 2 ranks \(b ?? "-")")
        }
        // Equal weights, but each of the 2 ranks evaluates its share in a forward pass of another batch
        // size, and the GEMM's rounding may depend on it (on an AMD Zen kernel it does): counts (accuracy,
        // F1) are exact, the log-loss agrees to Float32 rounding of the logits.
        let s = try JSONSerialization.jsonObject(with: Data(seq.stdout.utf8)) as? [String: Any] ?? [:]
        let p = try JSONSerialization.jsonObject(with: Data(par.stdout.utf8)) as? [String: Any] ?? [:]
        for key in ["test_accuracy", "test_macro_f1", "test_log_loss"] {
            let x = (s[key] as? [String: Any])?["folds"] as? [Double] ?? [], y = (p[key] as? [String: Any])?["folds"] as? [Double] ?? []
            let tolerance = key == "test_log_loss" ? 1e-6 : 0
            #expect(x.count == 2 && y.count == 2 && zip(x, y).allSatisfy { abs($0 - $1) <= tolerance * abs($0) }, "\(key): \(x) vs \(y)")
        }

        // The hidden train flag directly: each group's rank 0 logs its fold and writes its own {fold} summary.
        let summary = dir.appendingPathComponent("direct-{fold}.json").path
        let r = try CLI.runExecutable("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "2",
                                                       CLI.binary, "train"] + train + ["--cv-parallel-folds", "2", "--summary-json", summary],
                                      timeout: 120)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stderr.contains("[rank 0/2] fold 1/2 done:") && r.stderr.contains("[rank 1/2] fold 2/2 done:"), "\(r.output)")
        for i in 1...2 {
            let direct = try CLI.readJSON(summary.replacingOccurrences(of: "{fold}", with: "\(i)"))
            #expect(direct["weights_sha256"] as? String == (try fold(i, in: seqOut, "weights_sha256") as? String))
        }
    }

    @Test func eachFoldKeepsItsOwnRunLogs() throws {
        guard FileManager.default.fileExists(atPath: iris) else { return }   // ../shared/data absent
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let logs = dir.appendingPathComponent("logs").path
        let (r, _) = try crossValidate(["--folds", "2", "--parallel"],
                                       ["--data", iris, "--hidden", "8", "--epochs", "5", "--global-batch", "16", "--log-dir", logs + "/fold-{fold}"],
                                       in: dir, "parallel")
        #expect(r.status == 0, "\(r.output)")
        for i in 1...2 {
            let confusion = try CLI.readJSON(logs + "/fold-\(i)/confusion.json")
            let matrix = try #require(confusion["matrix"] as? [[Int]])
            #expect(matrix.joined().reduce(0, +) == 75, "fold \(i) holds out half of iris: \(confusion)")
            #expect(FileManager.default.fileExists(atPath: logs + "/fold-\(i)/metrics.jsonl"))
        }
    }

    @Test func mistakesAreClearErrors() throws {
        guard FileManager.default.fileExists(atPath: iris) else { return }
        // 3 ranks cannot split into 2 equal fold groups.
        let r = try CLI.runExecutable("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "3",
                                                       CLI.binary, "train", "--data", iris, "--epochs", "1", "--cv-parallel-folds", "2"],
                                      timeout: 60)
        #expect(r.status != 0, "\(r.output)")
        #expect(r.stderr.contains("Error: --cv-parallel-folds: 2 folds need a world size that is a multiple of 2")
                && r.stderr.contains("the job has 3 ranks"), "\(r.output)")
        let one = try CLI.run(["train", "--data", iris, "--epochs", "1", "--cv-parallel-folds", "2"])
        #expect(one.status == 2 && one.stderr.contains("the job has 1 rank"), "\(one.output)")

        let noParallel = try CLI.run(["cv", "--ranks-per-fold", "2", "--", "--data", iris])
        #expect(noParallel.status == 2 && noParallel.stderr.contains("--ranks-per-fold: needs --parallel"), "\(noParallel.output)")
        let checkpoints = try CLI.run(["cv", "--parallel", "--", "--data", iris, "--checkpoint-dir", "/tmp/x"])
        #expect(checkpoints.status == 2 && checkpoints.stderr.contains("--checkpoint-dir: cannot be used with cohort cv --parallel"),
                "\(checkpoints.output)")
        let owned = try CLI.run(["cv", "--parallel", "--", "--data", iris, "--cv-parallel-folds=3"])
        #expect(owned.status == 2 && owned.stderr.contains("--cv-parallel-folds: is set by cohort cv"), "\(owned.output)")
    }
}
