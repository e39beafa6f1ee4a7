// `cohort train --tokenizer bytes|bpe:N`: how a text corpus becomes tokens — its distinct
// bytes (the default, and what older checkpoints hold) or a byte-level BPE Cohort trains on
// the corpus (CohortData's BPETokenizer). The choice and the merges' fingerprint are part of
// the run's config, so a resume with another tokenizer is refused naming the flag.
import ArgumentParser
import CohortCheckpoint
import CohortCore
import CohortData
import CohortRuntime

/// The tokenizer of text data.
struct TokenizerFlags: ParsableArguments {
    @Option(name: .customLong("tokenizer"), help: "Text data (gpt, lstm): bytes (one token per distinct byte of the corpus; the default) or bpe:N (a byte-level BPE of N ≥ 257 tokens, trained by Cohort on the first 90 % of the corpus; fewer when its pairs run out).") var tokenizer: String?

    /// The choice (`bytes` without the flag).
    /// - Throws: `CohortError.badFlag(flag: "--tokenizer", …)` for a value that is not `bytes` or `bpe:N`.
    func choice() throws -> TokenizerChoice { try tokenizer.map { try TokenizerChoice(parsing: $0) } ?? .bytes }

    /// Refuses the flag where there is no text corpus to tokenize; errors name it.
    func check(model: String, data: String?, taskKind: String) throws {
        guard let tokenizer else { return }
        do { _ = try choice() } catch let CohortError.badFlag(_, why) { throw ValidationError("--tokenizer \(why)") }
        guard ModelZoo.sequenceModels.contains(model), taskKind == "classification" else {
            throw ValidationError("--tokenizer \(tokenizer) applies to text data (--model gpt or lstm with --data FILE.txt); "
                                  + (taskKind == "classification" ? "--model \(model)" : "--task \(taskKind)") + " takes no text")
        }
        guard let data, data != "addition" else {
            throw ValidationError("--tokenizer \(tokenizer) does not apply to the built-in addition corpus (its 13 tokens are fixed); give --data FILE.txt")
        }
    }

    /// The run's config entry for a text task: `bytes`, or `bpe:N` with the merges' SHA-256 prefix,
    /// so a resume whose corpus or flag gives other merges is refused (`--tokenizer` named).
    static func config(_ task: any TrainTask) -> [KeyValue] {
        guard let lm = task as? LanguageModelTask else { return [] }
        guard case .bpe(let bpe) = lm.vocabulary else { return [KeyValue("tokenizer", "bytes")] }
        var hash = SHA256()
        hash.update(Array(bpe.serialized.utf8))
        return [KeyValue("tokenizer", "\(lm.tokenizerChoice) (\(bpe.count) tokens, merges sha256 \(SHA256.hex(hash.finalize()).prefix(12)))")]
    }
}
