// The int8 LSTM and GRU against the fp32 ones on random inputs and through a .cq round trip;
// and on real text: a char-LSTM `cohort train` trains on tiny Shakespeare, its
// next-character loss on the held-out tail of the file (the last 10 %, which training
// leaves for its test split), fp32 against int8 — at most 1 % higher — and the .cq file
// (int8 table, LSTM and head) at most 0.27 × the fp32 export. 300 steps leave the
// model weak (loss ≈ 3.16, uniform is 4.17): the CI budget, not a limit of the int8 path.
import CohortCheckpoint
import CohortCore
import CohortData
import CohortNN
import CohortQuantize
import CohortRuntime
import CohortTensor
import Foundation
import Testing

@Suite(.serialized) struct QuantizedLSTMTests {
    @Test func lstmIsCloseToFP32() throws {
        var g = RandomGenerator(seed: 21)
        let lstm = try LSTM(inputSize: 13, hiddenSize: 24, layers: 2, generator: &g)
        let x = Tensor.randn([3, 7, 13], generator: &g)
        let want = try lstm(x)
        let got = try QuantizedLSTM(lstm)(x)
        #expect(got.shape == want.shape)
        let err = zip(got.scalars, want.scalars).map { abs($0 - $1) }.max()!
        #expect(err < 0.02, "max |int8 − fp32| \(err)")
        #expect(throws: CohortError.self) { _ = try QuantizedLSTM(lstm)(Tensor.zeros([3, 7, 12])) }
    }

    @Test func gruIsCloseToFP32AndRoundTrips() throws {
        var g = RandomGenerator(seed: 24)
        let model = Sequential([try GRU(inputSize: 9, hiddenSize: 20, layers: 2, generator: &g), Linear(20, 4, generator: &g)])
        model.eval()
        let x = Tensor.randn([3, 6, 9], generator: &g)
        let q = try Quantizer.quantize(model)
        #expect(QuantizedFile.quantizedLayers(q).map(\.path) == ["0", "1"])
        #expect((q as? Sequential)?.layers.first is QuantizedGRU)
        let (got, want) = (try q(x), try model(x))
        #expect(got.shape == want.shape)
        let err = zip(got.scalars, want.scalars).map { abs($0 - $1) }.max()!
        #expect(err < 0.02, "max |int8 − fp32| \(err)")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gru-\(getpid()).cq").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try QuantizedFile.write(q, dtype: .int8, mode: .dynamic, metadata: [], to: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata["quantization.layers"] == "0:gru,1:linear")
        var g2 = RandomGenerator(seed: 6)
        let skeleton = Sequential([try GRU(inputSize: 9, hiddenSize: 20, layers: 2, generator: &g2), Linear(20, 4, generator: &g2)])
        let loaded = try QuantizedFile.restore(skeleton, from: file)
        let again = try loaded(x)
        #expect(again.scalars == got.scalars)
        #expect(throws: CohortError.self) { _ = try q(Tensor.zeros([3, 6, 8])) }
    }

    @Test func charLSTMRoundTrip() throws {
        var g = RandomGenerator(seed: 22)
        let model = try CharLSTM(vocabularySize: 11, embeddingDim: 6, hidden: 10, layers: 2, generator: &g)
        model.eval()
        let q = try Quantizer.quantize(model)
        #expect(QuantizedFile.quantizedLayers(q).map(\.path) == ["embedding", "lstm", "head"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lstm-\(getpid()).cq").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try QuantizedFile.write(q, dtype: .int8, mode: .dynamic, metadata: [], to: path)
        var g2 = RandomGenerator(seed: 5)
        let loaded = try QuantizedFile.restore(try CharLSTM(vocabularySize: 11, embeddingDim: 6, hidden: 10, layers: 2, generator: &g2),
                                               from: try SafetensorsFile(path: path))
        let tokens = try Tensor((0..<12).map { Float($0 % 11) }, shape: [2, 6])
        #expect(try loaded(tokens).scalars == (try q(tokens)).scalars)
        let err = zip(try q(tokens).scalars, try model(tokens).scalars).map { abs($0 - $1) }.max()!
        #expect(err < 0.05, "max logit difference \(err)")
    }

    @Test func tiedCharLSTMUsesTheInt8Table() throws {
        var g = RandomGenerator(seed: 23)
        let model = try CharLSTM(vocabularySize: 13, embeddingDim: 12, hidden: 12, layers: 1, tieWeights: true, generator: &g)
        model.eval()
        let q = try Quantizer.quantize(model)
        #expect(QuantizedFile.quantizedLayers(q).map(\.path) == ["embedding", "lstm"])
        let tokens = try Tensor((0..<10).map { Float($0 % 13) }, shape: [2, 5])
        let (got, want) = (try q(tokens), try model(tokens))
        #expect(got.shape == want.shape)
        let err = zip(got.scalars, want.scalars).map { abs($0 - $1) }.max()!
        #expect(err < 0.05, "max logit difference \(err)")
        #expect(throws: CohortError.self) { _ = try q(try Tensor([0, 13], shape: [1, 2])) }
    }

    /// Mean next-token cross-entropy of `model` over `windows` (token ids, each context + 1 long).
    static func loss(_ model: any Module, _ windows: [[Int32]]) throws -> Double {
        let t = windows[0].count - 1
        let inputs = try Tensor(windows.flatMap { $0.dropLast().map(Float.init) }, shape: [windows.count, t])
        let logits = try withNoGrad { try model(inputs).contiguous().scalars }
        let v = logits.count / (windows.count * t)
        var total = 0.0
        for (w, window) in windows.enumerated() {
            for s in 0..<t {
                let row = logits[((w * t + s) * v)..<((w * t + s + 1) * v)]
                let m = row.max()!
                let lse = Double(m) + log(row.reduce(0.0) { $0 + exp(Double($1 - m)) })
                total += lse - Double(row[row.startIndex + Int(window[s + 1])])
            }
        }
        return total / Double(windows.count * t)
    }

    @Test func charLSTMValidationLossOnTinyShakespeare() throws {
        let dir = try QuantizedAccuracyTests.scratch("lstm")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = QuantizedAccuracyTests.data + "/tiny-shakespeare/input.txt"
        let train = try QuantizedAccuracyTests.run([QuantizedAccuracyTests.binary, "train", "--model", "lstm", "--data", text, "--steps", "300", "--lr", "0.004",
                                                    "--global-batch", "32", "--hidden", "128", "--threads", "1", "--checkpoint-dir", dir + "/run"])
        try #require(train.status == 0, "\(train.output)")
        let checkpoint = try Checkpoint(path: dir + "/run/step-00000300")
        let settings = Dictionary(checkpoint.manifest.model.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let tokenizer = try CharTokenizer(serialized: try #require(settings["tokenizer"]))
        let context = try #require(settings["inputs"].flatMap(Int.init))
        let ids = try tokenizer.encode(Array(try Data(contentsOf: URL(fileURLWithPath: text))))
        let tail = Array(ids[(ids.count - ids.count / 10)...])
        let windows = stride(from: 0, to: tail.count - context - 1, by: context + 1).prefix(48).map { Array(tail[$0...($0 + context)]) }
        let fp32 = try Self.loss(try QuantizedModelFile.model(of: checkpoint), windows)
        let summary = try QuantizedModelFile.quantize(checkpoint, to: dir + "/lstm.cq")
        #expect(summary.quantizedLayers == ["embedding", "lstm", "head"])
        let int8 = try Self.loss(try QuantizedModelFile.load(path: summary.path), windows)
        print("char-LSTM (hidden 128, 300 steps at lr 0.004) on the tail of tiny Shakespeare, \(windows.count) windows of \(context): fp32 loss \(String(format: "%.4f", fp32)), int8 \(String(format: "%.4f", int8)) (\(String(format: "%+.2f", (int8 / fp32 - 1) * 100)) %), file ratio \(String(format: "%.3f", summary.ratio))")
        #expect(int8 <= fp32 * 1.01, "fp32 \(fp32), int8 \(int8)")
        #expect(summary.ratio <= 0.27, "\(summary.path): \(summary.fileBytes) bytes, fp32 \(summary.fp32Bytes)")
        #expect(fp32 < 3.5, "the model did not learn: loss \(fp32) (uniform over 65 characters: 4.17)")
    }
}
