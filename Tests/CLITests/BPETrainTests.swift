// `cohort train --tokenizer bpe:N` end to end on the release binary: a small GPT on tiny
// Shakespeare starts at the loss of a uniform guess over the BPE vocabulary (ln 512) and
// learns; `cohort generate` reads the BPE form from its checkpoint; a resume with another
// tokenizer or corpus is refused naming the flag; the flag is refused where there is no text.
import Foundation
import Testing

@Suite(.serialized) struct BPETrainTests {
    static let shakespeare = CLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/tiny-shakespeare").path
    let gpt = ["train", "--model", "gpt", "--layers", "1", "--heads", "2", "--d-model", "32", "--context", "32",
               "--global-batch", "16", "--lr", "3e-3", "--log-every", "1", "--seed", "3"]

    /// The `train_loss` of each line of a run directory's metrics.jsonl, in order.
    func losses(_ runDirectory: String) throws -> [Double] {
        let text = try String(contentsOfFile: runDirectory + "/metrics.jsonl", encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["train_loss"] as? Double
        }
    }

    @Test func gptTrainsOnBPETokensGeneratesAndRefusesAnotherTokenizerOnResume() throws {
        guard FileManager.default.fileExists(atPath: Self.shakespeare + "/input.txt") else { return }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("ckpt").path, logs = dir.appendingPathComponent("run").path
        let r = try CLI.run(gpt + ["--data", Self.shakespeare, "--tokenizer", "bpe:512", "--steps", "20",
                                   "--checkpoint-dir", ckpt, "--log-dir", logs, "--no-tensorboard"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stderr.contains("tokenizer bpe (512 tokens)"), "\(r.stderr)")
        let loss = try losses(logs)
        #expect(loss.count >= 2, "\(loss)")
        if let first = loss.first, let last = loss.last {
            #expect(abs(first - log(512)) < 0.3, "first loss \(first), ln 512 = \(log(512.0))")
            #expect(last < first - 0.3, "losses \(loss)")   // measured: 6.25 → 5.66 in 20 steps
        }

        let g = try CLI.run(["generate", "--checkpoint", ckpt, "--prompt", "ROMEO: ~é", "--tokens", "30", "--seed", "1"])
        #expect(g.status == 0, "\(g.output)")
        #expect(g.stdout.hasPrefix("ROMEO: ~é") && g.stdout.count > "ROMEO: ~é".count + 10, "\(g.stdout.debugDescription)")

        for other in ["bytes", "bpe:600"] {
            let again = try CLI.run(gpt + ["--data", Self.shakespeare, "--tokenizer", other, "--steps", "30",
                                           "--checkpoint-dir", ckpt, "--resume", "auto"])
            #expect(again.status != 0 && again.stderr.contains("--tokenizer") && again.stderr.contains("bpe:512"), "\(again.output)")
        }
        // Another corpus (here the first 300 kB of it) would give other merges: refused by its fingerprint, naming --data.
        let part = dir.appendingPathComponent("part.txt").path
        try Data(contentsOf: URL(fileURLWithPath: Self.shakespeare + "/input.txt")).prefix(300_000).write(to: URL(fileURLWithPath: part))
        let otherCorpus = try CLI.run(gpt + ["--data", part, "--tokenizer", "bpe:512", "--steps", "20", "--checkpoint-dir", ckpt, "--resume", "auto"])
        #expect(otherCorpus.status != 0 && otherCorpus.stderr.contains("(set by --data)"), "\(otherCorpus.output)")
        let same = try CLI.run(gpt + ["--data", Self.shakespeare, "--tokenizer", "bpe:512", "--steps", "21",
                                      "--checkpoint-dir", ckpt, "--resume", "auto", "--extend"])
        #expect(same.status == 0 && same.stderr.contains("resumed from"), "\(same.output)")
    }

    @Test func tokenizerFlagIsRefusedWithoutText() throws {
        for (args, why) in [(["--model", "mlp", "--tokenizer", "bpe:512"], "applies to text"),
                            (["--model", "gpt", "--data", "addition", "--tokenizer", "bpe:512"], "addition"),
                            (["--model", "gpt", "--tokenizer", "bpe:300"], "addition"),
                            (["--model", "gpt", "--data", Self.shakespeare, "--tokenizer", "bpe:100"], "257")] {
            let r = try CLI.run(["train", "--steps", "1"] + args)
            #expect(r.status != 0 && r.stderr.contains("--tokenizer") && r.stderr.contains(why), "\(args): \(r.output)")
        }
    }
}
