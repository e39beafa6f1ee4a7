// The Trainer's side of the checkpoint directory: it holds the directory's lock for
// the whole fit (and releases it after), records what the training data is, refuses
// a resume on other data naming both, and resumes a checkpoint that predates data
// fingerprints with a warning.
import CohortCheckpoint
import CohortData
import CohortNN
import CohortOptim
import CohortTensor
@testable import CohortTrainer
import Foundation
import Testing

/// `TinyClassifier` with a data identity (nil: none), counting how often it is asked.
final class IdentifiedClassifier: TrainingModule {
    let inner: TinyClassifier
    let identity: DataIdentity?
    private(set) var identityRequests = 0

    init(_ identity: DataIdentity?) throws {
        inner = try TinyClassifier()
        self.identity = identity
    }

    var network: any Module { inner.network }
    var trainingSamples: Int { inner.trainingSamples }
    var dataIdentity: DataIdentity? {
        identityRequests += 1
        return identity
    }
    func trainingBatch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, labels: [Int], step: Int) {
        try inner.trainingBatch(indices, step: step)
    }
    func trainingStep(_ batch: (inputs: Tensor, labels: [Int], step: Int)) throws -> Tensor { try inner.trainingStep(batch) }
    func configureOptimizers(_ parameters: ParameterArena, totalSteps: Int) -> (optimizer: any Optimizer, schedule: any LRSchedule) {
        inner.configureOptimizers(parameters, totalSteps: totalSteps)
    }
}

@Suite struct TrainerCheckpointStoreTests {
    let a = DataIdentity(name: "set-a", sha256: String(repeating: "a", count: 64))
    let b = DataIdentity(name: "set-b", sha256: String(repeating: "b", count: 64))

    @Test func theLockIsHeldForTheWholeFitAndReleasedAfter() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        final class TryLock: Callback {
            let dir: String
            var refusal: String?
            init(_ dir: String) { self.dir = dir }
            func onTrainStepEnd(_ trainer: Trainer, _ report: StepReport) throws {
                guard report.step == 3 else { return }
                do { _ = try TrainCheckpointing.lock(dir, job: nil) } catch { refusal = "\(error)" }
            }
        }
        let probe = TryLock(dir)
        try Trainer(options(steps: 6) { $0.checkpointDirectory = dir; $0.checkpointEvery = 2 }, callbacks: [probe]).fit(try TinyClassifier())
        #expect(probe.refusal?.contains("checkpoint directory \(dir) is in use by PID \(getpid())") ?? false, "\(String(describing: probe.refusal))")
        let after = try TrainCheckpointing.lock(dir, job: nil)
        #expect(after.previousHolder == nil)   // released cleanly, not left stale
        after.release()
    }

    @Test func theDataIsRecordedAndAResumeOnOtherDataIsRefused() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try IdentifiedClassifier(a)
        try Trainer(options(steps: 10) { $0.checkpointDirectory = dir; $0.checkpointEvery = 2 }, callbacks: []).fit(first)
        #expect(first.identityRequests == 1)   // computed once, however many saves
        let saved = try #require(CheckpointStore(directory: dir).latestValid()).manifest.data
        #expect(saved.dataName == "set-a" && saved.dataSHA256 == a.sha256)

        let resumeAt12 = options(steps: 12) { $0.checkpointDirectory = dir; $0.resume = "auto" }
        do {
            try Trainer(resumeAt12, callbacks: []).fit(try IdentifiedClassifier(b))
            Issue.record("a resume on other data was accepted")
        } catch let e as ResumeError {
            #expect("\(e)".contains("step-00000010 does not match this run: it was trained on set-a (sha256 aaaaaaaaaaaa…) "
                                    + "but this run's data is set-b (sha256 bbbbbbbbbbbb…)"), "\(e)")
        }
        let same = try Trainer(resumeAt12, callbacks: []).fit(try IdentifiedClassifier(a))
        #expect(same.startStep == 10 && same.steps == 12)
    }

    @Test func aCheckpointWithoutAFingerprintResumesWithAWarning() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Trainer(options(steps: 4) { $0.checkpointDirectory = dir }, callbacks: []).fit(try IdentifiedClassifier(nil))
        #expect(try #require(CheckpointStore(directory: dir).latestValid()).manifest.data.dataSHA256.isEmpty)
        let resumed = try Trainer(options(steps: 6) { $0.checkpointDirectory = dir; $0.resume = "auto" }, callbacks: []).fit(try IdentifiedClassifier(a))
        #expect(resumed.startStep == 4 && resumed.steps == 6)
        // An older checkpoint's dataset setting may differ in name only (every IDX set was `mnist-train`).
        #expect(TrainCheckpointing.sameSampleCount("mnist-train (60000 samples)", "fashion-mnist-train (60000 samples)"))
        #expect(!TrainCheckpointing.sameSampleCount("mnist-train (60000 samples)", "iris-train (120 samples)"))
    }

    @Test func aSettingOlderCheckpointsLackMeansItsDefaultAndAChangeNamesItsFlag() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Saved before the setting existed: a run with the value it meant ("bytes") resumes.
        try Trainer(options(steps: 4) { $0.checkpointDirectory = dir }, callbacks: []).fit(try TinyClassifier())
        let withBytes = options(steps: 6) { $0.checkpointDirectory = dir; $0.resume = "auto"; $0.config += [KeyValue("tokenizer", "bytes")] }
        #expect(try Trainer(withBytes, callbacks: []).fit(try TinyClassifier()).startStep == 4)
        let withBPE = options(steps: 8) {
            $0.checkpointDirectory = dir; $0.resume = "auto"; $0.config += [KeyValue("tokenizer", "bpe:512")]
            $0.configFlags = ["tokenizer": "--tokenizer"]
        }
        do {
            try Trainer(withBPE, callbacks: []).fit(try TinyClassifier())
            Issue.record("a resume with another tokenizer was accepted")
        } catch let e as ResumeError {
            #expect("\(e)".contains("it was saved with tokenizer bytes, this run has bpe:512 (set by --tokenizer)"), "\(e)")
        }
    }
}
