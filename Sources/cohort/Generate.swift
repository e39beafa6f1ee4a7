// `cohort generate`: rebuilds a sequence model (gpt, lstm) and its tokenizer from
// a checkpoint and samples text after a prompt; for a GAN (dcgan), writes a PNG
// grid of generated images (Generate+Images.swift).
import ArgumentParser
import CohortCheckpoint
import CohortCore
import CohortData
import CohortNN
import CohortRuntime
import CohortTensor
import Foundation

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sample text from a trained gpt or lstm checkpoint, or images from a dcgan checkpoint.",
        discussion: "Examples: cohort generate --checkpoint runs/gpt --prompt 'ROMEO:' --tokens 300 --temperature 0.8 --top-k 40\n"
            + "          cohort generate --checkpoint runs/gan --out samples.png --images 64")

    @Option(help: "A checkpoint directory, or a run directory (its newest valid checkpoint).") var checkpoint: String
    @Option(help: "Text the sample continues (with a byte vocabulary every character must be in it; a BPE tokenizer takes any text).") var prompt = "\n"
    @Option(parsing: .unconditional, help: "Tokens to generate.") var tokens = 200
    @Option(parsing: .unconditional, help: "Sampling temperature (0: greedy).") var temperature: Float = 1
    @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Sample among the k most likely tokens only (gpt).") var topK: Int?
    @Option(parsing: .unconditional, help: "Seed of the sampling.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Independent samples to print.") var samples = 1
    @Option(help: "dcgan: the PNG file the grid of generated images is written to.") var out: String?
    @Option(parsing: .unconditional, help: "dcgan: images in the grid (8 per row).") var images = 64

    func run() throws {
        guard tokens >= 0 else { throw CohortError.badFlag(flag: "--tokens", "must be ≥ 0, got \(tokens)") }
        guard temperature >= 0 else { throw CohortError.badFlag(flag: "--temperature", "must be ≥ 0, got \(temperature)") }
        let c = try Ckpt.open(checkpoint)
        let record = c.manifest.model
        let settings = Dictionary(record.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        if record.name == "dcgan" { return try generateImages(c, settings: settings) }
        guard out == nil else { throw CohortError.badFlag(flag: "--out", "writes a dcgan's images; \(c.path) holds a '\(record.name)' model") }
        guard ModelZoo.sequenceModels.contains(record.name) else {
            throw CohortError.badFlag(flag: "--checkpoint", "\(c.path) holds a '\(record.name)' model; generate needs \(ModelZoo.sequenceModels.sorted().joined(separator: " or "))")
        }
        guard let vocabulary = settings["tokenizer"], let inputs = settings["inputs"].flatMap({ Int($0) }),
              let outputs = settings["classes"].flatMap({ Int($0) }) else {
            throw CohortError.badFlag(flag: "--checkpoint", "\(c.path) does not record its tokenizer and sizes (saved by an older cohort?)")
        }
        let tokenizer: TextTokenizer
        do { tokenizer = try TextTokenizer(serialized: vocabulary) } catch {
            throw CohortError.badFlag(flag: "--checkpoint", "\(c.path): its model setting tokenizer is unreadable: \(error)")
        }
        var g = RandomGenerator(seed: 0)
        let model = try ModelZoo.build(ModelSpec(name: record.name, settings: settings),
                                       shape: ModelShape(inputs: inputs, outputs: outputs, sequence: true), generator: &g)
        let arena = ParameterArena(model)
        try TrainingCheckpoint.restore(c, arena: arena, optimizer: nil)
        model.eval()
        let start: [Int32]
        do { start = try tokenizer.encode(prompt) } catch { throw CohortError.badFlag(flag: "--prompt", "\(error)") }
        guard !start.isEmpty else { throw CohortError.badFlag(flag: "--prompt", "is empty") }
        var sampler = RandomGenerator(seed: seed)
        for i in 0..<samples {
            let ids = start.map(Int.init)
            let out: [Int]
            if let gpt = model as? GPT {
                out = try gpt.generate(prompt: ids, maxNewTokens: tokens, temperature: temperature, topK: topK, generator: &sampler)
            } else if let lstm = model as? CharLSTM {
                out = try lstm.sample(prompt: ids, count: tokens, temperature: temperature, generator: &sampler)
            } else {
                throw CohortError.badFlag(flag: "--checkpoint", "model '\(record.name)' cannot sample")
            }
            // Both return the prompt followed by the new tokens, or only the new ones; print prompt + new.
            let new = out.count >= ids.count + tokens && Array(out.prefix(ids.count)) == ids ? Array(out.dropFirst(ids.count)) : out
            if samples > 1 { print("--- sample \(i + 1) ---") }
            print(prompt + (try tokenizer.decode(new.map { Int32($0) })))
        }
    }
}
