// `cohort train --task detect --model detector --data DIR`: the flags a detection run
// takes, checked before MPI starts, and its task (the splits `cohort data
// make-detection` wrote) and network (DetectorModels.centerNet).
import ArgumentParser
import CohortCore
import CohortNN
import CohortRuntime
import CohortTensor
import Foundation

extension Train {
    /// `--task detect` and `--model detector` go together; a detection run refuses what does not apply to it.
    func validateDetection() throws {
        guard taskKind == "detect" else {
            if model == "detector" { throw ValidationError("--model detector needs --task detect (and --data DIR from cohort data make-detection)") }
            return
        }
        guard model == "detector" else { throw ValidationError("--task detect takes --model detector (a CenterNet-style detector; docs/detection.md), got --model \(model)") }
        guard let data else { throw ValidationError("--task detect needs --data DIR: a data set cohort data make-detection wrote (DIR/train, DIR/val, DIR/test)") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--data \(data): --task detect needs a directory cohort data make-detection wrote (DIR/train, DIR/val, DIR/test)")
        }
        guard valSplit == 0 else { throw ValidationError("--val-split does not apply to --task detect: its validation part is \(data)/val") }
        if labelSmoothing > 0 { throw ValidationError("--label-smoothing smooths class targets; --task detect trains heatmaps (focal loss)") }
        if cvFold != nil || cvParallelFolds != nil { throw ValidationError("--task detect has fixed splits (train, val, test); cohort cv does not apply") }
        if trainSamples != nil { throw ValidationError("--train-samples applies to classification data; make a smaller data set with cohort data make-detection --train N") }
    }

    /// Whether a detection run has a validation part (periodic validation, early stopping, best checkpoints).
    var detectionValidation: Bool {
        guard taskKind == "detect", let data else { return false }
        return FileManager.default.fileExists(atPath: data + "/val/annotations.json")
    }

    /// The detector for `task`'s images and classes, base width `--hidden`.
    func detector(for task: DetectionTask, _ spec: ModelSpec, generator: inout RandomGenerator) throws -> any Module {
        guard spec.hidden.count == 1 else { throw CohortError.badFlag(flag: "--hidden", "the detector takes one base width (e.g. --hidden 32), got \(hiddenText)") }
        do {
            return try DetectorModels.centerNet(side: task.train.canvas, classes: task.train.classes, width: spec.hidden[0], generator: &generator)
        } catch CohortError.invalidArgument(let why) { throw CohortError.badFlag(flag: "--hidden", why) }
    }
}
