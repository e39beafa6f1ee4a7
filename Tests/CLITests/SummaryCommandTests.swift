// `cohort summary`: for every built-in model the totals equal the parameters `cohort train`
// builds (its --summary-json) and the rows add up; W1's MLP FLOPs equal the hand count; the
// memory per rank follows the optimizer; the table, --json, --config and errors; and the
// short form `cohort train` prints at start.
import Foundation
import Testing

@Suite struct SummaryCommandTests {
    /// `n` with thousands separators, as the summary prints counts.
    func grouped(_ n: Int) -> String {
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.groupingSeparator = ","
        f.usesGroupingSeparator = true
        return f.string(from: NSNumber(value: n)) ?? "\(n)"
    }

    func summaryJSON(_ args: [String]) throws -> [String: Any] {
        let r = try CLI.run(["summary", "--json"] + args)
        #expect(r.status == 0, "\(args): \(r.output)")
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
    }

    @Test(arguments: [
        ["--model", "mlp"],
        ["--model", "cnn", "--data", CLI.mnist],
        ["--model", "resnet", "--data", CLI.mnist],
        ["--model", "lstm", "--hidden", "32", "--embedding", "8", "--layers", "2"],
        ["--model", "gpt", "--layers", "2", "--d-model", "32", "--heads", "2"],
        // The forecasters (their own models, not ModelZoo's): rows per part, not one opaque layer of 0 FLOPs.
        ["--task", "forecast", "--data", ForecastCLITests.co2, "--column", "co2_ppm", "--context", "26", "--model", "lstm", "--layers", "2"],
        ["--task", "forecast", "--data", ForecastCLITests.co2, "--column", "co2_ppm", "--context", "26", "--model", "gpt",
         "--layers", "2", "--d-model", "32", "--heads", "2"],
    ])
    func everyBuiltInModelAddsUpToTheParametersTrainBuilds(_ model: [String]) throws {
        let s = try summaryJSON(model + ["--global-batch", "8"])
        let parameters = s["parameters"] as? Int ?? -1
        let layers = s["layers"] as? [[String: Any]] ?? []
        let leaves = layers.filter { ($0["group"] as? Bool) == false }
        #expect(!leaves.isEmpty && leaves.reduce(0) { $0 + ($1["parameters"] as? Int ?? 0) } == parameters, "\(model)")
        #expect(s["trainable_parameters"] as? Int == parameters && s["frozen_parameters"] as? Int == 0, "\(model)")
        let flops = s["flops_per_sample"] as? Double ?? 0
        #expect(flops > 0 && Double(leaves.reduce(0) { $0 + ($1["flops"] as? Int ?? 0) }) == flops, "\(model)")
        // Adam (the default): weights (and buffers), gradients, two state copies, 4 bytes each.
        let memory = s["memory_bytes"] as? [String: Double] ?? [:]
        let buffers = s["buffer_elements"] as? Int ?? 0
        #expect(memory["weights"] == Double(4 * (parameters + buffers)) && memory["gradients"] == Double(4 * parameters), "\(model): \(memory)")
        #expect(memory["optimizer_state"] == Double(8 * parameters) && (memory["activations_estimate"] ?? 0) > 0, "\(model): \(memory)")
        #expect(s["batch_per_rank"] as? Int == 8)

        // `cohort train` builds the same model: its parameterCount, and the short form at start.
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("run.json").path
        let r = try CLI.run(["train"] + model + ["--steps", "1", "--global-batch", "8", "--log-every", "100", "--summary-json", path])
        #expect(r.status == 0, "\(model): \(r.output)")
        #expect(try CLI.readJSON(path)["parameters"] as? Int == parameters, "\(model)")
        #expect(r.stderr.contains("summary: \(grouped(parameters)) parameters (\(grouped(parameters)) trainable, 0 frozen), "), "\(model): \(r.stderr)")
        #expect(r.stderr.contains("FLOPs forward per sample, memory per rank ≈ ") && r.stderr.contains("for a batch of 8)"), "\(model): \(r.stderr)")
    }

    /// W1 (784-1024-1024-10 on MNIST): 2·(784·1024 + 1024·1024 + 1024·10) + (1024 + 1024 + 10)
    /// = 3,725,322 FLOPs per sample. SGD with momentum keeps one state copy; 256 over 2 ranks is
    /// 128 samples per rank, each keeping 4 × 1024 + 10 floats (three Linear outputs, two ReLU outputs).
    @Test func w1FlopsEqualTheHandCountAndMemoryFollowsTheOptimizer() throws {
        let s = try summaryJSON(["--data", CLI.mnist, "--hidden", "1024,1024", "--optimizer", "sgd", "--global-batch", "256", "--np", "2"])
        #expect(s["flops_per_sample"] as? Double == Double(2 * (784 * 1024 + 1024 * 1024 + 1024 * 10) + (1024 + 1024 + 10)))
        #expect(s["flops_per_sample"] as? Double == 3_725_322)
        let parameters = 784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10
        #expect(s["parameters"] as? Int == parameters)
        #expect(s["batch_per_rank"] as? Int == 128 && s["input_shape"] as? [Int] == [1, 784] && s["output_shape"] as? [Int] == [1, 10])
        let memory = s["memory_bytes"] as? [String: Double] ?? [:]
        #expect(memory["optimizer_state"] == Double(4 * parameters), "\(memory)")
        #expect(memory["activations_estimate"] == Double(4 * 128 * (4 * 1024 + 10)), "\(memory)")
        #expect(memory["total"] == Double(4 * 3 * parameters + 4 * 128 * (4 * 1024 + 10)), "\(memory)")
        let plain = try summaryJSON(["--data", CLI.mnist, "--hidden", "1024,1024", "--optimizer", "sgd", "--momentum", "0"])
        #expect((plain["memory_bytes"] as? [String: Double])?["optimizer_state"] == 0)
    }

    @Test func tableConfigAndErrors() throws {
        // The built-in dataset: 64 features, 10 classes; 64·32 + 32 + 32·10 + 10 = 2,410 parameters.
        let table = try CLI.run(["summary", "--hidden", "32"])
        #expect(table.status == 0, "\(table.output)")
        for text in ["layer", "output shape", "parameters", "FLOPs", "Linear", "[1, 32]", "2,410", "memory per rank", "2 FLOPs per multiply-add"] {
            #expect(table.stdout.contains(text), "\(text): \(table.stdout)")
        }
        #expect(table.stdout.split(separator: "\n").contains { $0.hasPrefix("total") && $0.contains("2,410") }, "\(table.stdout)")

        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("gpt.yaml")
        try "model: gpt\nlayers: 1\nd-model: 16\nheads: 2\n".write(to: config, atomically: true, encoding: .utf8)
        let fromFile = try summaryJSON(["--config", config.path])
        #expect(fromFile["model"] as? String == "gpt" && fromFile["type"] as? String == "GPT")
        #expect((fromFile["layers"] as? [[String: Any]] ?? []).contains { $0["name"] as? String == "h.0.attn.attention" })

        let ranks = try CLI.run(["summary", "--np", "3"])
        #expect(ranks.status == 2 && ranks.stderr.contains("--np: 3 ranks do not divide the --global-batch 128"), "\(ranks.output)")
        let cnn = try CLI.run(["summary", "--model", "cnn"])
        #expect(cnn.status == 2 && cnn.stderr.contains("--model: cnn takes 28×28"), "\(cnn.output)")
        let unknown = try CLI.run(["summary", "--model", "vgg"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown model 'vgg'"), "\(unknown.output)")
    }

    /// `--freeze` globs count as frozen in `cohort summary` and in `cohort train`'s start line:
    /// freezing `1.*` of the 64-32-10 MLP leaves 32·10 + 10 = 330 of its 2,410 parameters trainable,
    /// and the gradients and Adam's two state copies are for those 330 only.
    /// With `--checkpoint-activations` each transformer block keeps only its input ([B, T, d]) and
    /// one block's activations exist at a time: the estimate drops by exactly that.
    @Test func checkpointedBlocksKeepOnlyTheirInputs() throws {
        let gpt = ["--model", "gpt", "--layers", "3", "--d-model", "32", "--heads", "2", "--global-batch", "8"]
        let plain = try summaryJSON(gpt), checkpointed = try summaryJSON(gpt + ["--checkpoint-activations"])
        let blocks = (plain["layers"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "TransformerBlock" }
        #expect(blocks.count == 3)
        let kept = blocks.map { $0["activation_elements"] as? Int ?? 0 }
        let inputs = blocks.map { ($0["output_shape"] as? [Int] ?? []).reduce(1, *) }
        let perSample = Double(kept.reduce(0, +) - inputs.reduce(0, +) - (kept.max() ?? 0)) * 4   // bytes saved per sample
        func activations(_ s: [String: Any]) -> Double { (s["memory_bytes"] as? [String: Any])?["activations_estimate"] as? Double ?? 0 }
        #expect(perSample > 0 && abs(activations(plain) - activations(checkpointed) - perSample * 8) < 1, "\(activations(plain)) \(activations(checkpointed))")
        #expect(checkpointed["checkpoint_activations"] as? Bool == true && plain["checkpoint_activations"] as? Bool == false)
        let mlp = try CLI.run(["summary", "--checkpoint-activations"])
        #expect(mlp.status == 2 && mlp.stderr.contains("--checkpoint-activations applies to --model gpt"), "\(mlp.output)")
    }

    @Test func frozenGlobsAreCountedAsFrozen() throws {
        let s = try summaryJSON(["--hidden", "32", "--freeze", "1.*"])
        #expect(s["trainable_parameters"] as? Int == 330 && s["frozen_parameters"] as? Int == 2_080, "\(s)")
        let memory = s["memory_bytes"] as? [String: Double] ?? [:]
        #expect(memory["gradients"] == 4 * 330 && memory["optimizer_state"] == 8 * 330 && memory["weights"] == 4 * 2_410, "\(memory)")
        let r = try CLI.run(["train", "--hidden", "32", "--freeze", "1.*", "--steps", "1", "--log-every", "100"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stderr.contains("summary: 2,410 parameters (330 trainable, 2,080 frozen), "), "\(r.stderr)")
    }
}
