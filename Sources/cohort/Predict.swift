// `cohort predict`: runs a trained model on new, unlabeled inputs (CSV rows, `.npy`
// arrays, IDX images, text prompts) and writes its predictions in input order as
// JSON lines or CSV. Under mpirun each rank predicts a contiguous run of whole
// batches, so every batch — and so every byte of the output — is the same at any
// world size; rank 0 gathers the ranks' formatted lines and writes them in order.
import ArgumentParser
import CohortCollectives
import CohortCore
import CohortKernels
import CohortRuntime
import Foundation

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict with a trained model on new inputs (CSV, .npy, IDX images or text prompts).",
        discussion: """
            Example: cohort predict --checkpoint runs/iris --input new.csv --top-k 2 --output-format csv
            Inputs are raw values as in the training data (pixels 0–255, the CSV's own units): the recorded \
            normalization is applied. Under `mpirun -np N` each rank predicts a shard and rank 0 writes all rows in order.
            """)

    @Option(help: "A checkpoint directory, a run directory (its newest valid checkpoint), or a quantized model file (.cq).") var checkpoint: String
    @Option(help: "The input file.") var input: String
    @Option(help: "Input format: csv, npy, idx or text (default: from the file name — .csv, .npy, IDX names such as *-idx3-ubyte.gz — else text).") var format: String?
    @Option(help: "Where to write the predictions (default: standard output).") var output: String?
    @Option(name: .customLong("output-format"), help: "jsonl or csv.") var outputFormat = "jsonl"
    @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Classes (with probabilities) reported per row.") var topK = 1
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Rows per forward pass (and the unit ranks share).") var batchSize = 256
    @Option(parsing: .unconditional, help: "Text models: characters to generate after each prompt (greedy).") var tokens = 50
    @Option(parsing: .unconditional, help: "BLAS threads per rank (default 1: the output does not depend on the world size).") var threads: Int?
    @Option(help: "Detectors: write each input image with its boxes drawn into this directory.") var draw: String?
    @Option(name: .customLong("min-score"), parsing: .unconditional, help: "Detectors: report (and draw) boxes scoring at least this (0…1).") var minScore: Float = 0.3

    func run() throws { try exitingOnErrors { try predict() } }

    func predict() throws {
        guard ["jsonl", "csv"].contains(outputFormat) else {
            throw CohortError.badFlag(flag: "--output-format", "'\(outputFormat)': use jsonl or csv")
        }
        guard topK >= 1 else { throw CohortError.badFlag(flag: "--top-k", "must be ≥ 1, got \(topK)") }
        guard batchSize >= 1 else { throw CohortError.badFlag(flag: "--batch-size", "must be ≥ 1, got \(batchSize)") }
        guard tokens >= 0 else { throw CohortError.badFlag(flag: "--tokens", "must be ≥ 0, got \(tokens)") }
        let explicit = try format.map { f -> InputFormat in
            guard let k = InputFormat(rawValue: f) else {
                throw CohortError.badFlag(flag: "--format", "'\(f)': use " + InputFormat.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return k
        }
        let comm = try World.start()
        defer { World.end() }
        _ = try BLASRuntime.configureThreads(requested: threads ?? 1)
        if DetectionModel.isDetector(path: checkpoint) {
            guard (0...1).contains(minScore) else { throw CohortError.badFlag(flag: "--min-score", "must be in 0…1, got \(minScore)") }
            return try write(try Self.gather(Array(try predictDetections(comm).utf8), comm), header: "", comm)
        }
        if draw != nil { throw CohortError.badFlag(flag: "--draw", "draws the boxes of a detector; \(checkpoint) holds no detector (cohort train --task detect)") }
        let model = try InferenceModel(path: checkpoint)
        let meta = model.metadata
        let kind = explicit ?? InputFormat.guess(path: input)
        if (kind == .text) != (meta.task == .text) {
            throw CohortError.badFlag(flag: "--format", meta.task == .text
                ? "\(model.source) is a text model (\(meta.modelKind)): it reads text prompts, not \(kind.rawValue) rows"
                : "\(model.source) is a \(meta.task.rawValue) model (\(meta.modelKind)): give csv, npy or idx rows, not text")
        }
        let writer = PredictionFormat(metadata: meta, csv: outputFormat == "csv", topK: min(topK, meta.outputs))
        var lines = ""
        if kind == .text {
            let prompts = try InferenceInput.prompts(path: input)
            let mine = Self.shard(prompts.count, batch: batchSize, rank: comm.rank, size: comm.size)
            let outs: [String]
            do { outs = try model.continueText(Array(prompts[mine]), tokens: tokens, firstLine: mine.lowerBound + 1) } catch let CohortError.invalidArgument(message) {
                throw CohortError.badFile(path: input, message)   // names the prompt and its line
            }
            for (i, (p, o)) in zip(mine, zip(prompts[mine], outs)) { lines += writer.text(row: i, prompt: p, continuation: o) }
            Log.main("cohort predict: \(prompts.count) prompts, \(tokens) tokens each, \(comm.size) rank(s)")
        } else {
            let rows: InputRows
            switch kind {
            case .csv: rows = try InferenceInput.csv(path: input, metadata: meta)
            case .npy: rows = try InferenceInput.npy(path: input, metadata: meta)
            case .idx, .text: rows = try InferenceInput.idx(path: input, metadata: meta)
            }
            let d = meta.featureCount
            let mine = Self.shard(rows.count, batch: batchSize, rank: comm.rank, size: comm.size)
            let result = try model.predict(rawRows: Array(rows.values[(mine.lowerBound * d)..<(mine.upperBound * d)]), count: mine.count,
                                           topK: topK, batchSize: batchSize)
            for (j, i) in mine.enumerated() { lines += writer.row(i, result, j) }
            Log.main("cohort predict: \(rows.count) rows of \(meta.inputShape) from \(input), \(meta.modelKind) \(meta.task.rawValue), \(comm.size) rank(s)")
        }
        try write(try Self.gather(Array(lines.utf8), comm), header: writer.header, comm)
    }

    /// Rank 0 writes `header` and the gathered lines to `--output` (or standard output).
    func write(_ all: [UInt8], header: String, _ comm: any Communicator) throws {
        guard comm.rank == 0 else { return }
        let bytes = Array(header.utf8) + all
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else {
                throw CohortError.badFlag(flag: "--output", "cannot write \(output)")
            }
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
    }

    /// The rows rank `rank` of `size` predicts: a contiguous run of whole batches of `batch` rows.
    static func shard(_ count: Int, batch: Int, rank: Int, size: Int) -> Range<Int> {
        let batches = (count + batch - 1) / batch
        let lo = rank * batches / size, hi = (rank + 1) * batches / size
        return min(lo * batch, count)..<min(hi * batch, count)
    }

    /// Every rank's bytes concatenated in rank order (on every rank).
    static func gather(_ mine: [UInt8], _ comm: any Communicator) throws -> [UInt8] {
        guard comm.size > 1 else { return mine }
        return try comm.allgatherBytes(mine).flatMap { $0 }
    }
}
