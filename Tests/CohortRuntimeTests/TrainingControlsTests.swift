// The training controls of `cohort train` as the task module applies them: label
// smoothing of the training loss (held-out metrics stay unsmoothed), checked against
// a hand computation of PyTorch's formula.
import CohortData
import CohortNN
import CohortRuntime
import CohortTensor
import Foundation
import Testing

@Suite struct TrainingControlsTests {
    /// A two-sample, three-class task (its data is only there to build the task).
    func task() throws -> ClassificationTask {
        let d = try ClassificationDataset(name: "tiny", features: [0, 1, 2, 3], labels: [2, 0], featureShape: [2], numClasses: 3)
        return ClassificationTask(train: d, validation: nil, test: d)
    }

    @Test func labelSmoothingMatchesTheHandComputation() throws {
        let rows: [[Double]] = [[1, 2, 3], [0.5, -1, 0]], targets = [2, 0]
        let logits = try Tensor(rows.flatMap { $0.map(Float.init) }, shape: [2, 3])
        // PyTorch: (1 − ε)·(−log p_target) + ε·mean_c(−log p_c), averaged over the rows.
        func expected(_ eps: Double) -> Double {
            zip(rows, targets).map { row, t in
                let lse = log(row.map { exp($0) }.reduce(0, +))
                let nll = lse - row[t], uniform = row.map { lse - $0 }.reduce(0, +) / Double(row.count)
                return (1 - eps) * nll + eps * uniform
            }.reduce(0, +) / Double(rows.count)
        }
        let task = try task()
        for eps in [0.0, 0.1, 0.3] {
            let loss = try task.loss(logits, .classes(targets), labelSmoothing: Float(eps)).item()
            #expect(abs(Double(loss) - expected(eps)) < 1e-5, "ε \(eps): \(loss) vs \(expected(eps))")
        }
        // ε = 0 is the plain cross-entropy, bit for bit.
        let plain = try task.loss(logits, .classes(targets)).item()
        #expect(try task.loss(logits, .classes(targets), labelSmoothing: 0).item().bitPattern == plain.bitPattern)
    }
}

/// `--dropout` in the built-in models: no effect on the initialisation, off in evaluation.
@Suite struct ModelDropoutTests {
    func build(_ name: String, dropout: Float, features: Int = 784) throws -> any Module {
        var spec = ModelSpec(name: name, hidden: [32, 16], layers: 1, heads: 1, dModel: 8, embedding: 8)
        spec.dropout = dropout
        var generator = RandomGenerator(seed: 7)
        return try ModelZoo.build(spec, shape: ModelShape(inputs: features, outputs: 10, sequence: false), generator: &generator)
    }

    @Test(arguments: ["mlp", "cnn"])
    func dropoutKeepsTheInitialisationAndIsOffInEvaluation(_ name: String) throws {
        let plain = try build(name, dropout: 0), dropped = try build(name, dropout: 0.5)
        let a = plain.parameters().map(\.scalars), b = dropped.parameters().map(\.scalars)
        #expect(a == b, "the same initial weights with and without dropout")
        #expect(plain.namedRandomStates().isEmpty, "P = 0: no Dropout layer at all")
        #expect(!dropped.namedRandomStates().isEmpty)
        var g = RandomGenerator(seed: 3)
        let x = Tensor.randn([4, 784], generator: &g)
        plain.eval(); dropped.eval()
        let evalPlain = try plain(x).scalars, evalDropped = try dropped(x).scalars
        #expect(zip(evalPlain, evalDropped).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($0)) }, "evaluation: identity")
        dropped.train()
        #expect(try dropped(x).scalars != evalDropped, "training: units dropped")
    }

    @Test func dropoutIsRefusedWhereItDoesNotApply() throws {
        #expect(throws: (any Error).self) { try build("resnet", dropout: 0.1) }
        #expect(throws: (any Error).self) { try build("mlp", dropout: 1) }
    }
}
