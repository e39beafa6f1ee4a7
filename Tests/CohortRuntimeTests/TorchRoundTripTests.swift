// Round trips between Cohort's built-in models and their PyTorch reference definitions
// (the benchmark peers' layouts, in Tests/Support/torch_round_trip.py), in the reference
// venv: (a) a model `cohort train` saved, exported with `ckpt export --names torch`, loads
// with `load_state_dict(strict=True)` and gives Cohort's logits on 64 inputs within 1e-5;
// (b) a PyTorch random init saved with safetensors loads through the built-in name map
// (library for every model, `cohort train --init-from … --name-map torch` for two) and
// gives PyTorch's logits within 1e-5. A missing torch or safetensors is a failure.
import CohortCheckpoint
import CohortData
import CohortNN
import CohortProcess
import CohortProcessTestSupport
import CohortRuntime
import CohortTensor
import Foundation
import Testing

@Suite(.serialized) struct TorchRoundTripTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = repo.appendingPathComponent("Tests/Support/torch_round_trip.py").path
    static let mnist = repo.deletingLastPathComponent().appendingPathComponent("shared/data/mnist").path
    static var binary: String {
        ProcessInfo.processInfo.environment["COHORT_BIN"].flatMap { $0.isEmpty ? nil : $0 } ?? repo.appendingPathComponent(".build/release/cohort").path
    }

    /// A model at small sizes: its `cohort train` flags, the script's sizes, spec and shape.
    struct Case {
        var model: String
        var flags: [String]
        var sizes: String
        var spec: ModelSpec
        var shape: ModelShape
    }

    static var cases: [String: Case] { [
        "mlp": Case(model: "mlp", flags: ["--hidden", "32,32"], sizes: #"{"in": 64, "hidden": [32, 32], "classes": 10}"#,
                    spec: ModelSpec(name: "mlp", hidden: [32, 32], layers: 4, heads: 4, dModel: 256, embedding: 64),
                    shape: ModelShape(inputs: 64, outputs: 10, sequence: false)),
        "cnn": Case(model: "cnn", flags: ["--data", mnist], sizes: "{}",
                    spec: ModelSpec(name: "cnn", hidden: [512, 256], layers: 4, heads: 4, dModel: 256, embedding: 64),
                    shape: ModelShape(inputs: 784, outputs: 10, sequence: false)),
        "gpt": Case(model: "gpt", flags: ["--layers", "2", "--heads", "2", "--d-model", "32"],
                    sizes: #"{"vocab": 13, "ctx": 12, "layers": 2, "heads": 2, "d": 32}"#,
                    spec: ModelSpec(name: "gpt", hidden: [512, 256], layers: 2, heads: 2, dModel: 32, embedding: 64),
                    shape: ModelShape(inputs: 12, outputs: 13, sequence: true)),
        "lstm": Case(model: "lstm", flags: ["--layers", "1", "--hidden", "32", "--embedding", "16"],
                     sizes: #"{"vocab": 13, "ctx": 12, "emb": 16, "hidden": [32]}"#,
                     spec: ModelSpec(name: "lstm", hidden: [32], layers: 1, heads: 4, dModel: 256, embedding: 16),
                     shape: ModelShape(inputs: 12, outputs: 13, sequence: true)),
    ] }

    static func run(_ argv: [String]) throws -> (status: Int32, output: String) {
        let r = try runWithTimeout(argv: argv, timeout: 600)
        return (r.status.processStatus, r.stdout + r.stderr)
    }

    static func python(_ args: [String]) throws -> (status: Int32, output: String) {
        try run([ReferenceVenv.python, script] + args)
    }

    static func scratch(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("torch-rt-\(name)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Cohort's logits for `dir/inputs.npy`, written to `dir/cohort_logits.npy`.
    static func writeLogits(_ net: any Module, _ dir: String) throws {
        let x = try NPY.read(path: dir + "/inputs.npy")
        let y = try net.forward(try Tensor(x.values, shape: x.shape))
        try Data(try NPY.encode(y.scalars, shape: y.shape)).write(to: URL(fileURLWithPath: dir + "/cohort_logits.npy"))
    }

    /// The model a checkpoint holds, built through the zoo from its settings and loaded strictly.
    static func model(fromCheckpoint path: String) throws -> any Module {
        let c = try Checkpoint(path: path)
        let settings = Dictionary(c.manifest.model.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let spec = ModelSpec(name: c.manifest.model.name, settings: settings)
        let shape = ModelShape(inputs: Int(settings["inputs"]!)!, outputs: Int(settings["classes"]!)!,
                               sequence: ModelZoo.sequenceModels.contains(spec.name))
        var g = RandomGenerator(seed: 99)
        let net = try ModelZoo.build(spec, shape: shape, generator: &g)
        try net.load(try PretrainedWeights.read(path).arrays, strict: true, source: path)
        return net
    }

    @Test(arguments: ["mlp", "cnn", "gpt", "lstm"])
    func cohortExportLoadsStrictlyIntoTorch(_ name: String) throws {
        let c = Self.cases[name]!, dir = try Self.scratch("a-" + name)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let train = try Self.run([Self.binary, "train", "--model", name, "--steps", "1", "--global-batch", "16", "--threads", "1",
                                  "--checkpoint-dir", dir + "/run"] + c.flags)
        #expect(train.status == 0, "\(train.output)")
        let step = dir + "/run/step-00000001"
        #expect(try Self.python(["init", name, dir, c.sizes]).status == 0)   // the 64 inputs
        try Self.writeLogits(try Self.model(fromCheckpoint: step), dir)
        for format in ["safetensors", "npz"] {
            let out = dir + "/export." + format
            let export = try Self.run([Self.binary, "ckpt", "export", step, "--format", format, "--names", "torch", "--out", out])
            #expect(export.status == 0, "\(export.output)")
            guard format == "safetensors" else { continue }
            let check = try Self.python(["check", name, dir, c.sizes, out])
            print("\(name) (a) cohort → ckpt export --names torch → torch: \(check.output.trimmingCharacters(in: .whitespacesAndNewlines))")
            #expect(check.status == 0, "\(check.output)")
        }
    }

    @Test(arguments: ["mlp", "cnn", "gpt", "lstm"])
    func torchInitLoadsThroughTheNameMap(_ name: String) throws {
        let c = Self.cases[name]!, dir = try Self.scratch("b-" + name)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let initialised = try Self.python(["init", name, dir, c.sizes])
        #expect(initialised.status == 0, "\(initialised.output)")
        var g = RandomGenerator(seed: 3)
        let net = try ModelZoo.build(c.spec, shape: c.shape, generator: &g)
        let report = try InitialWeights(source: dir + "/torch.safetensors", strict: true, nameMap: "torch").load(into: net, spec: c.spec)
        #expect(report.isExact)
        try Self.writeLogits(net, dir)
        let compared = try Self.python(["compare", dir])
        print("\(name) (b) torch init → safetensors → name map torch (library): \(compared.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(compared.status == 0, "\(compared.output)")
    }

    /// `cohort train --init-from … --name-map torch`: one step at a learning rate of 1e-30 leaves
    /// the imported weights as they were, so the checkpoint's logits are PyTorch's.
    @Test(arguments: ["mlp", "gpt"])
    func trainInitFromTorchThroughTheCLI(_ name: String) throws {
        let c = Self.cases[name]!, dir = try Self.scratch("cli-" + name)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try Self.python(["init", name, dir, c.sizes]).status == 0)
        let train = try Self.run([Self.binary, "train", "--model", name, "--steps", "1", "--global-batch", "16", "--threads", "1",
                                  "--optimizer", "sgd", "--momentum", "0", "--lr", "1e-30", "--lr-schedule", "constant",
                                  "--init-from", dir + "/torch.safetensors", "--name-map", "torch", "--checkpoint-dir", dir + "/run"] + c.flags)
        #expect(train.status == 0, "\(train.output)")
        #expect(train.output.contains("(name map torch): loaded"), "\(train.output)")
        try Self.writeLogits(try Self.model(fromCheckpoint: dir + "/run/step-00000001"), dir)
        let compared = try Self.python(["compare", dir])
        print("\(name) (b) torch init → cohort train --init-from --name-map torch: \(compared.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(compared.status == 0, "\(compared.output)")
    }
}
