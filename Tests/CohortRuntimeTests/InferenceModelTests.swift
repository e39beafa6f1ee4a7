// InferenceModel on checkpoints `cohort train` writes: raw rows normalized as training
// did give the same classes and probabilities as the model's own forward pass on the
// training pipeline's standardized rows (iris); raw MNIST test images give exactly
// `cohort eval`'s accuracy; a regression model's raw held-out rows give `cohort eval`'s
// MAE; `.npy` rows equal CSV rows; bad inputs are errors naming the file and the counts.
import CohortCheckpoint
import CohortCore
import CohortData
import CohortNN
import CohortRuntime
import CohortTensor
import Foundation
import Testing

@Suite(.serialized) struct InferenceModelTests {
    typealias RT = TorchRoundTripTests
    static let data = RT.repo.deletingLastPathComponent().appendingPathComponent("shared/data").path
    static let iris = data + "/iris/iris.csv"
    static let diabetes = data + "/diabetes/diabetes.csv"

    /// Trains with `cohort train args…` into `dir/run` and returns the run directory.
    static func train(_ dir: String, _ args: [String]) throws -> String {
        let r = try RT.run([RT.binary, "train", "--threads", "1", "--log-every", "100000", "--checkpoint-dir", dir + "/run"] + args)
        #expect(r.status == 0, "\(r.output)")
        return dir + "/run"
    }

    /// `cohort eval --json` of `run` on `data`.
    static func eval(_ run: String, _ data: String) throws -> [String: Any] {
        let r = try RT.run([RT.binary, "eval", "--checkpoint", run, "--data", data, "--json"])
        #expect(r.status == 0, "\(r.output)")
        let text = r.output[r.output.firstIndex(of: "{")!...r.output.lastIndex(of: "}")!]
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func irisRawRowsMatchTheForwardOnTrainingsStandardizedRows() throws {
        let dir = try RT.scratch("infer-iris")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Self.train(dir, ["--data", Self.iris, "--hidden", "16", "--steps", "60", "--global-batch", "24", "--lr", "1e-2"])
        let model = try InferenceModel(path: run)
        #expect(model.metadata.task == .classification && model.metadata.inputShape == [4] && model.metadata.outputs == 3)
        #expect(model.metadata.featureNames == ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"])
        let rows = try InferenceInput.csv(path: Self.iris, metadata: model.metadata)   // the label column dropped by name
        #expect(rows.count == 150)
        let result = try model.predict(rawRows: rows.values, count: rows.count, topK: 3, batchSize: 150)

        // The training pipeline's own standardization (seed 0: stratified 80/20, fitted on the training part).
        let table = try CSVDataset.classification(path: Self.iris)
        let split = try table.dataset.stratifiedSplit(testFraction: 0.2, seed: 0)
        let all = try table.dataset.standardized(Standardizer(fitting: split.train))
        let net = try RT.model(fromCheckpoint: try #require(CheckpointStore(directory: run).latestValid()).path)
        net.eval()
        let logits = try withNoGrad { try net(try Tensor(all.features, shape: [150, 4])).contiguous().scalars }
        var agree = 0
        for i in 0..<150 {
            let l = Array(logits[(i * 3)..<(i * 3 + 3)])
            let best = l.indices.max { l[$0] < l[$1] }!
            let p = exp(Double(l[best])) / l.map { exp(Double($0)) }.reduce(0, +)
            #expect(result.classes[i] == best, "row \(i)")
            #expect(abs(Double(result.topK[i][0].probability) - p) < 1e-5, "row \(i): \(result.topK[i][0].probability) vs \(p)")
            #expect(abs(result.topK[i].map(\.probability).reduce(0, +) - 1) < 1e-5)
            if best == Int(table.dataset.labels[i]) { agree += 1 }
        }
        #expect(agree > 120, "iris should be learned: \(agree)/150")

        // .npy rows of the same features give the same predictions.
        let npy = dir + "/x.npy"
        try Data(try NPY.encode(rows.values, shape: [150, 4])).write(to: URL(fileURLWithPath: npy))
        let fromNPY = try InferenceInput.npy(path: npy, metadata: model.metadata)
        #expect(try model.predict(rawRows: fromNPY.values, count: fromNPY.count, topK: 3, batchSize: 150) == result)

        // Bad inputs: a missing feature, a wrong width, a text model's entry point.
        try "a,b,c\n1,2,3\n".write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
        let e = #expect(throws: CohortError.self) { _ = try InferenceInput.csv(path: dir + "/bad.csv", metadata: model.metadata) }
        #expect("\(e!)".contains("bad.csv") && "\(e!)".contains("no column named 'sepal_length_cm'"), "\(e!)")
        try "1,2,3\n4,5,6\n".write(toFile: dir + "/narrow.csv", atomically: true, encoding: .utf8)
        let w = #expect(throws: CohortError.self) { _ = try InferenceInput.csv(path: dir + "/narrow.csv", metadata: model.metadata) }
        #expect("\(w!)".contains("narrow.csv") && "\(w!)".contains("line 1: 3 columns") && "\(w!)".contains("takes 4 features"), "\(w!)")
        try Data(try NPY.encode([Float](repeating: 1, count: 10), shape: [2, 5])).write(to: URL(fileURLWithPath: dir + "/bad.npy"))
        let n = #expect(throws: CohortError.self) { _ = try InferenceInput.npy(path: dir + "/bad.npy", metadata: model.metadata) }
        #expect("\(n!)".contains("bad.npy") && "\(n!)".contains("5 values per row") && "\(n!)".contains("takes 4"), "\(n!)")
        #expect(throws: CohortError.self) { _ = try model.predict(rawRows: [1, 2, 3], count: 1) }
        #expect(throws: CohortError.self) { _ = try model.continueText(["x"], tokens: 1) }
    }

    @Test func mnistRawTestImagesGiveEvalsAccuracy() throws {
        let dir = try RT.scratch("infer-mnist")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Self.train(dir, ["--data", RT.mnist, "--hidden", "64", "--steps", "60", "--global-batch", "64"])
        let model = try InferenceModel(path: run)
        #expect(model.metadata.inputShape == [1, 28, 28])
        #expect(model.metadata.normalization == .pixels(divide: 255, mean: 0.1307, std: 0.3081))
        let images = try InferenceInput.idx(path: RT.mnist + "/t10k-images-idx3-ubyte.gz", metadata: model.metadata)
        let labels = try IDX.read(path: RT.mnist + "/t10k-labels-idx1-ubyte.gz").bytes
        let result = try model.predict(rawRows: images.values, count: images.count, batchSize: 1000)
        let accuracy = Double(zip(result.classes, labels).filter { $0 == Int($1) }.count) / Double(labels.count)
        let evaluated = try #require(try Self.eval(run, RT.mnist)["accuracy"] as? Double)
        print("mnist mlp, 60 steps: predict accuracy \(accuracy), cohort eval \(evaluated)")
        // The same model on the same images; the test process and eval may run BLAS on different
        // thread counts, so a near-tie may fall the other way: at most 3 images of 10,000.
        #expect(images.count == 10_000 && abs(accuracy - evaluated) <= 3e-4, "predict \(accuracy), eval \(evaluated)")
        #expect(accuracy > 0.7)
    }

    @Test func regressionRawHeldOutRowsGiveEvalsMAE() throws {
        let dir = try RT.scratch("infer-reg")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try Self.train(dir, ["--data", Self.diabetes, "--task", "regression", "--hidden", "32", "--epochs", "30",
                                       "--global-batch", "32", "--lr", "3e-3"])
        let model = try InferenceModel(path: run)
        #expect(model.metadata.task == .regression && model.metadata.targetName == "target" && model.metadata.targetNormalization != nil)
        let rows = try InferenceInput.csv(path: Self.diabetes, metadata: model.metadata)
        #expect(rows.count == 442 && rows.values.count == 4420)
        // RegressionTask's held-out rows for seed 0: the first 20 % of a seeded permutation.
        var g = RandomGenerator(seed: 0)
        let held = Array(g.permutation(442)[..<88]).sorted()
        let x = held.flatMap { Array(rows.values[($0 * 10)..<($0 * 10 + 10)]) }
        let table = try CSVDataset.regression(path: Self.diabetes)
        let result = try model.predict(rawRows: x, count: held.count)
        let mae = zip(result.values, held).map { abs(Double($0) - Double(table.targets[$1])) }.reduce(0, +) / Double(held.count)
        let evaluated = try Self.eval(run, Self.diabetes)
        let evalMAE = try #require(evaluated["mae"] as? Double)
        print("diabetes regression: predict MAE \(mae), cohort eval MAE \(evalMAE), R² \(evaluated["r2"] ?? "?")")
        #expect(abs(mae - evalMAE) < 1e-4 * evalMAE, "predict \(mae), eval \(evalMAE)")
        #expect(evalMAE < 70 && (evaluated["r2"] as? Double ?? -1) > 0.1, "\(evaluated)")
    }

    /// `init(module:metadata:)` with metadata from key-values (how other model files plug in):
    /// the recorded standardizer and target scaling are applied around the module's forward.
    @Test func anyModuleWithKeyValueMetadata() throws {
        let meta = try InferenceMetadata(metadata: [
            "model": "mlp", "model.inputs": "2", "model.classes": "1", "model.hidden": "3", "config.task": "regression",
            "inference.input_shape": "[2]", "inference.normalization": #"{"kind":"standardize","mean":[1,2],"std":[2,4]}"#,
            "inference.target_normalization": #"{"kind":"standardize","mean":10,"std":5}"#, "inference.target_name": "y",
        ], source: "memory")
        #expect(meta.task == .regression && meta.featureCount == 2 && meta.targetName == "y")
        var g = RandomGenerator(seed: 3)
        let net = ModelZoo.mlp(inputs: 2, hidden: [3], classes: 1, generator: &g)
        let model = InferenceModel(module: net, metadata: meta)
        let raw: [Float] = [3, 6, -1, 2, 1, 2]
        let got = try model.predict(rawRows: raw, count: 3, batchSize: 2).values
        let z: [Float] = [1, 1, -1, 0, 0, 0]
        let want = try withNoGrad { try net(try Tensor(z, shape: [3, 2])).contiguous().scalars }.map { $0 * 5 + 10 }
        #expect(got.count == 3 && zip(got, want).allSatisfy { abs($0 - $1) < 1e-5 }, "\(got) vs \(want)")

        let noKind = #expect(throws: CohortError.self) {
            _ = try InferenceMetadata(metadata: ["model": "mlp", "model.inputs": "2", "model.classes": "3",
                                                 "inference.normalization": #"{"kind":"log"}"#], source: "m.cq")
        }
        #expect("\(noKind!)".contains("m.cq") && "\(noKind!)".contains("unknown kind 'log'"), "\(noKind!)")
        let noSizes = #expect(throws: CohortError.self) { _ = try InferenceMetadata(metadata: ["model": "mlp"], source: "m.onnx") }
        #expect("\(noSizes!)".contains("m.onnx") && "\(noSizes!)".contains("model.inputs"), "\(noSizes!)")
        let badShape = #expect(throws: CohortError.self) {
            _ = try InferenceMetadata(metadata: ["model": "mlp", "model.inputs": "4", "model.classes": "3", "inference.input_shape": "[5]"], source: "x")
        }
        #expect("\(badShape!)".contains("holds 5 values, the model takes 4"), "\(badShape!)")
    }
}
