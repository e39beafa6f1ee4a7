// What `cohort train --data` names, for checkpoints: the dataset's name and a content
// fingerprint (`DataIdentity`), so a resume on other data is refused naming both.
// Computed on demand, on rank 0 only, when a checkpoint is saved or resumed
// (docs/checkpoint-format.md, "Data identity").
import CohortData
import CohortTrainer
import Foundation

extension TaskOptions {
    /// The identity of this run's training data: an MNIST-format directory (`MNIST.identity`), a CSV
    /// or text file (its name and bytes), a detection data set (its training annotations), the built-in synthetic set or the addition corpus (the
    /// generated training samples, named `synthetic` and `addition`).
    /// - Throws: `CohortError.badFile` if a file cannot be read.
    public func dataIdentity() throws -> DataIdentity {
        let sequenceModel = ModelZoo.sequenceModels.contains(model)
        guard let data, data != "addition" else {
            if sequenceModel || data == "addition" {
                let train = try AdditionProblems.make(digits: digits, train: 200_000, test: 2_000, seed: seed).train
                return .generated(lines: train.pairs.map { "\($0.0)+\($0.1)" }, name: "addition")
            }
            return .generated(try SyntheticDataset.make(seed: seed).train, name: "synthetic")
        }
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory)
        let name = URL(fileURLWithPath: data).lastPathComponent
        if sequenceModel { return try .file(isDirectory.boolValue ? data + "/input.txt" : data, name: name) }
        if data.lowercased().hasSuffix(".csv") { return try .file(data, name: name) }
        // A detection data set: its training split's annotations (every box, class and image file name).
        if model == "detector" { return try .file(data + "/train/" + DetectionDataset.annotationsName, name: name) }
        return try MNIST.identity(directory: data)
    }
}

extension TaskModule {
    /// `TaskOptions.dataIdentity()`; the Trainer asks once per run, on rank 0.
    public var dataIdentity: DataIdentity? { get throws { try settings.dataIdentity() } }
}
