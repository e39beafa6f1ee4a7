// The training controls of `cohort train` as the task module applies them: label
// smoothing of the training loss (held-out metrics stay unsmoothed), checked against
// a hand computation of PyTorch's formula.
import CohortData
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
