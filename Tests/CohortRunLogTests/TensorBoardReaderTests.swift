// TensorBoard's own reader on our event files: the reference venv that `make deps`
// creates (checks/support/reference-venv.sh; ${COHORT_VENV:-~/.cache/cohort-venv})
// must load the tags, steps and values we wrote with its EventAccumulator. A missing
// venv fails the test: a skip would hide a broken install step.
import CohortProcess
import CohortProcessTestSupport
import Foundation
import Testing
@testable import CohortRunLog

enum TensorBoardVenv {
    static var python: String { ReferenceVenv.python }

    /// Whether the venv's python can import tensorboard.
    static let available: Bool = {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        return (try? run(["-c", "import tensorboard"]).status) == 0
    }()

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let r = try runWithTimeout(argv: [python] + arguments, timeout: 600)
        return (r.status.processStatus, r.stdout + r.stderr)
    }
}

@Suite struct TensorBoardReaderTests {
    @Test func eventAccumulatorReadsOurScalars() throws {
        try #require(TensorBoardVenv.available, "no tensorboard in the reference venv \(TensorBoardVenv.python): run `make deps` (checks/support/reference-venv.sh)")
        let dir = try temporaryDirectory()
        let w = try TensorBoardWriter(runDirectory: dir)
        for step in stride(from: 10, through: 30, by: 10) {
            try w.add(step: step, ["train/loss": Float(3) / Float(step), "train/lr": 0])
        }
        try w.add(step: 30, ["val/accuracy": 0.875])
        let script = """
            import sys
            from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
            acc = EventAccumulator(sys.argv[1]); acc.Reload()
            for tag in sorted(acc.Tags()["scalars"]):
                print(tag, " ".join(f"{e.step}:{e.value!r}" for e in acc.Scalars(tag)))
            """
        let (status, output) = try TensorBoardVenv.run(["-c", script, dir])
        #expect(status == 0, "\(output)")
        let lines = output.split(separator: "\n").filter { !$0.hasPrefix("WARNING") && !$0.contains("TensorFlow installation not found") }
        #expect(lines == ["train/loss 10:0.30000001192092896 20:0.15000000596046448 30:0.10000000149011612",
                          "train/lr 10:0.0 20:0.0 30:0.0",
                          "val/accuracy 30:0.875"], "\(output)")
    }
}
