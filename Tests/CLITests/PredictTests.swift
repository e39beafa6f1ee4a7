// `cohort predict` end to end: iris CSV rows as JSON lines and as CSV (the same
// predictions both ways, accuracy as learned), `.npy` rows equal CSV rows, MNIST IDX
// test images give exactly `cohort eval`'s accuracy, `mpirun -np 2` writes the same
// bytes as one process, a text model's greedy continuation equals `cohort generate
// --temperature 0`, regression values and `cohort eval`'s MAE/RMSE/R² agree with
// training's test metrics, and bad inputs are errors naming the file and counts.
import Foundation
import Testing

@Suite(.serialized) struct PredictTests {
    static let data = CLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path
    static let iris = data + "/iris/iris.csv"

    static func train(_ dir: URL, _ name: String, _ args: [String]) throws -> String {
        let run = dir.appendingPathComponent(name).path
        let r = try CLI.run(["train", "--threads", "1", "--log-every", "100000", "--checkpoint-dir", run] + args)
        #expect(r.status == 0, "\(r.output)")
        return run
    }

    static func jsonLines(_ text: String) throws -> [[String: Any]] {
        try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    /// A float32 `.npy` file of `values` with `shape`.
    static func writeNPY(_ values: [Float], shape: [Int], to path: String) throws {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",), }" : "), }")
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)] + Array(header.utf8)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func irisCSVAsJSONLinesAndCSVAndNPY() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try Self.train(dir, "iris", ["--data", Self.iris, "--hidden", "16", "--steps", "60", "--global-batch", "24", "--lr", "1e-2"])
        let j = try CLI.run(["predict", "--checkpoint", run, "--input", Self.iris, "--top-k", "2"])
        #expect(j.status == 0, "\(j.output)")
        let rows = try Self.jsonLines(j.stdout)
        #expect(rows.count == 150 && rows.map { $0["row"] as? Int ?? -1 } == Array(0..<150))
        let labels = try String(contentsOfFile: Self.iris, encoding: .utf8).split(separator: "\n").dropFirst().map { Int($0.split(separator: ",").last!)! }
        let classes = rows.map { $0["class"] as? Int ?? -1 }
        #expect(zip(classes, labels).filter { $0 == $1 }.count > 120, "iris should be learned: \(classes)")
        for r in rows {
            let top = r["top_k"] as? [[String: Any]] ?? []
            #expect(top.count == 2 && top[0]["class"] as? Int == r["class"] as? Int && (top[0]["probability"] as? Double ?? 0) >= (top[1]["probability"] as? Double ?? 1))
        }

        let out = dir.appendingPathComponent("p.csv").path
        let c = try CLI.run(["predict", "--checkpoint", run, "--input", Self.iris, "--top-k", "2", "--output-format", "csv", "--output", out])
        #expect(c.status == 0 && c.stdout.isEmpty, "\(c.output)")
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "row,class,label,probability,class_2,label_2,probability_2" && lines.count == 151)
        #expect(lines.dropFirst().map { Int($0.split(separator: ",")[1])! } == classes)
        #expect(lines.dropFirst().map { Double($0.split(separator: ",")[3])! } == rows.map { $0["probability"] as? Double ?? -1 })

        // The same features as .npy (float32, [150, 4]) and as a headerless CSV without the label column.
        let features = try String(contentsOfFile: Self.iris, encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",").dropLast().map(String.init) }
        let npy = dir.appendingPathComponent("x.npy").path
        try Self.writeNPY(features.flatMap { $0.map { Float($0)! } }, shape: [150, 4], to: npy)
        let n = try CLI.run(["predict", "--checkpoint", run, "--input", npy, "--top-k", "2"])
        #expect(n.status == 0 && n.stdout == j.stdout, "\(n.output)")
        let bare = dir.appendingPathComponent("bare.csv").path
        try (features.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n").write(toFile: bare, atomically: true, encoding: .utf8)
        let b = try CLI.run(["predict", "--checkpoint", run, "--input", bare, "--top-k", "2"])
        #expect(b.status == 0 && b.stdout == j.stdout, "\(b.output)")

        // Bad inputs name the file, the line or shape, and the expected against the actual count.
        let wide = dir.appendingPathComponent("wide.csv").path
        try "1,2,3,4,5,6\n".write(toFile: wide, atomically: true, encoding: .utf8)
        let w = try CLI.run(["predict", "--checkpoint", run, "--input", wide])
        #expect(w.status == 2 && w.stderr.contains("wide.csv") && w.stderr.contains("6 columns") && w.stderr.contains("takes 4 features"), "\(w.output)")
        let word = dir.appendingPathComponent("word.csv").path
        try "1,2,3,4\n5,6,x,8\n".write(toFile: word, atomically: true, encoding: .utf8)
        let x = try CLI.run(["predict", "--checkpoint", run, "--input", word])
        #expect(x.status == 2 && x.stderr.contains("word.csv") && x.stderr.contains("line 2") && x.stderr.contains("column 3"), "\(x.output)")
        let shape = dir.appendingPathComponent("s.npy").path
        try Self.writeNPY([Float](repeating: 0, count: 15), shape: [3, 5], to: shape)
        let s = try CLI.run(["predict", "--checkpoint", run, "--input", shape])
        #expect(s.status == 2 && s.stderr.contains("s.npy") && s.stderr.contains("5 values per row") && s.stderr.contains("takes 4"), "\(s.output)")
        let text = try CLI.run(["predict", "--checkpoint", run, "--input", Self.iris, "--format", "text"])
        #expect(text.status == 2 && text.stderr.contains("--format"), "\(text.output)")
        let flag = try CLI.run(["predict", "--checkpoint", run, "--input", Self.iris, "--output-format", "xml"])
        #expect(flag.status == 2 && flag.stderr.contains("--output-format"), "\(flag.output)")
    }

    @Test func mnistIDXMatchesEvalAndMPIRunIsByteIdentical() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try Self.train(dir, "mnist", ["--data", CLI.mnist, "--hidden", "64", "--steps", "40", "--global-batch", "64"])
        let images = CLI.mnist + "/t10k-images-idx3-ubyte.gz"
        let one = dir.appendingPathComponent("one.jsonl").path, two = dir.appendingPathComponent("two.jsonl").path
        let p1 = try CLI.run(["predict", "--checkpoint", run, "--input", images, "--batch-size", "500", "--output", one])
        #expect(p1.status == 0, "\(p1.output)")
        let p2 = try CLI.mpirun(2, ["predict", "--checkpoint", run, "--input", images, "--batch-size", "500", "--output", two])
        #expect(p2.status == 0, "\(p2.output)")
        let a = try Data(contentsOf: URL(fileURLWithPath: one)), b = try Data(contentsOf: URL(fileURLWithPath: two))
        #expect(a.count > 0 && a == b, "np 1 wrote \(a.count) bytes, np 2 \(b.count); they differ")

        let predicted = try Self.jsonLines(String(decoding: a, as: UTF8.self))
        #expect(predicted.count == 10_000 && predicted.last?["row"] as? Int == 9_999)
        // eval on one BLAS thread, as predict runs: the same products, so the same classes.
        let e = try CLI.run(["eval", "--checkpoint", run, "--data", CLI.mnist, "--json"], environment: ["OPENBLAS_NUM_THREADS": "1"])
        #expect(e.status == 0, "\(e.output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])
        // The confusion matrix's row sums are the true counts per class; its column sums what the model predicted.
        let matrix = try #require(report["confusion_matrix"] as? [[Int]])
        let predictedPerClass = (0..<10).map { c in matrix.map { $0[c] }.reduce(0, +) }
        let ours = (0..<10).map { c in predicted.filter { $0["class"] as? Int == c }.count }
        // Equal but for near-ties (another batch size may sum in another order): at most 2 images per class.
        #expect(zip(ours, predictedPerClass).allSatisfy { abs($0 - $1) <= 2 } && ours.reduce(0, +) == 10_000,
                "predict \(ours), eval \(predictedPerClass)")
        #expect((report["accuracy"] as? Double ?? 0) > 0.5)
    }

    @Test func textModelContinuesPromptsAsGenerateDoes() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try Self.train(dir, "lstm", ["--model", "lstm", "--data", Self.data + "/tiny-shakespeare", "--hidden", "32", "--layers", "1",
                                               "--embedding", "16", "--context", "32", "--steps", "30", "--global-batch", "16", "--lr", "1e-2"])
        let prompts = dir.appendingPathComponent("prompts.txt").path
        try "ROMEO:\nTo be, or not\n".write(toFile: prompts, atomically: true, encoding: .utf8)
        let p = try CLI.run(["predict", "--checkpoint", run, "--input", prompts, "--tokens", "25"])
        #expect(p.status == 0, "\(p.output)")
        let rows = try Self.jsonLines(p.stdout)
        #expect(rows.count == 2)
        for (i, prompt) in ["ROMEO:", "To be, or not"].enumerated() {
            let g = try CLI.run(["generate", "--checkpoint", run, "--prompt", prompt, "--tokens", "25", "--temperature", "0"],
                                environment: ["OPENBLAS_NUM_THREADS": "1"])   // predict's one thread: the same products
            #expect(g.status == 0, "\(g.output)")
            let continuation = rows[i]["continuation"] as? String ?? ""
            #expect(rows[i]["prompt"] as? String == prompt && continuation.count == 25)
            #expect(g.stdout == prompt + continuation + "\n", "generate: \(g.stdout.debugDescription), predict: \(continuation.debugDescription)")
        }
        let csv = try CLI.run(["predict", "--checkpoint", run, "--input", prompts, "--tokens", "5", "--output-format", "csv"])
        #expect(csv.status == 0 && csv.stdout.hasPrefix("row,prompt,continuation\n0,ROMEO:,") && csv.stdout.contains("\n1,\"To be, or not\","), "\(csv.output)")
        let rowsForText = try CLI.run(["predict", "--checkpoint", run, "--input", Self.iris])
        #expect(rowsForText.status == 2 && rowsForText.stderr.contains("text model"), "\(rowsForText.output)")
        let unknown = dir.appendingPathComponent("unknown.txt").path
        try "ROMEO:\nthe ~ sign\n".write(toFile: unknown, atomically: true, encoding: .utf8)
        let u = try CLI.run(["predict", "--checkpoint", run, "--input", unknown])
        #expect(u.status == 2 && u.stderr.contains("unknown.txt") && u.stderr.contains("line 2"), "\(u.output)")
    }

    @Test func regressionPredictAndEval() throws {
        let diabetes = Self.data + "/diabetes/diabetes.csv"
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("s.json").path
        let run = try Self.train(dir, "reg", ["--data", diabetes, "--task", "regression", "--hidden", "32", "--epochs", "40",
                                              "--global-batch", "32", "--lr", "3e-3", "--summary-json", summary])
        let e = try CLI.run(["eval", "--checkpoint", run, "--data", diabetes, "--json"])
        #expect(e.status == 0, "\(e.output)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])
        let trained = try CLI.readJSON(summary)
        #expect(report["samples"] as? Int == 88)
        for (key, train) in [("mae", "test_mae"), ("rmse", "test_rmse"), ("r2", "test_r2")] {
            let x = report[key] as? Double ?? -1, y = trained[train] as? Double ?? -2
            #expect(abs(x - y) < 1e-9 * max(1, abs(y)), "\(key): eval \(x), train \(y)")
        }
        let text = try CLI.run(["eval", "--checkpoint", run, "--data", diabetes])
        #expect(text.status == 0 && text.stdout.contains("MAE") && text.stdout.contains("R²"), "\(text.output)")

        let p = try CLI.run(["predict", "--checkpoint", run, "--input", diabetes, "--output-format", "csv"])
        #expect(p.status == 0, "\(p.output)")
        let lines = p.stdout.split(separator: "\n")
        #expect(lines.first == "row,target" && lines.count == 443, "\(lines.prefix(2))")
        let values = lines.dropFirst().compactMap { Double($0.split(separator: ",")[1]) }
        let targets = try String(contentsOfFile: diabetes, encoding: .utf8).split(separator: "\n").dropFirst().map { Double($0.split(separator: ",").last!)! }
        #expect(values.count == 442)
        // Over all rows (mostly training rows) the fit is at least as good as on the held-out part, in the target's units.
        let mae = zip(values, targets).map { abs($0 - $1) }.reduce(0, +) / 442
        #expect(mae < (report["mae"] as? Double ?? 0) * 1.3 && mae > 10, "MAE over all rows \(mae), held-out \(report["mae"] ?? "?")")
        let j = try CLI.run(["predict", "--checkpoint", run, "--input", diabetes])
        let first = try Self.jsonLines(j.stdout).first
        #expect(first?["row"] as? Int == 0 && abs((first?["value"] as? Double ?? 0) - values[0]) < 1e-4 * abs(values[0]))
    }
}
