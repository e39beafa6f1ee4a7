// `TrialRunner`: trials as child processes of a stand-in `cohort` (a shell script),
// their output appended to train.log, summaries read back, failures reported with
// the exit code and the run's error line.
import Foundation
import Testing
@testable import CohortTune

@Suite struct TrialRunnerTests {
    /// A fake `cohort train`: writes a summary with `--lr` as its score, or fails on `--lr bad`.
    func fakeCohort(_ dir: String) throws -> String {
        let path = dir + "/fake-cohort"
        try """
            #!/bin/sh
            echo "started $*"
            lr=""; out=""
            while [ $# -gt 0 ]; do
              [ "$1" = --lr ] && lr="$2"
              [ "$1" = --summary-json ] && out="$2"
              shift
            done
            if [ "$lr" = bad ]; then echo "Error: lr: not a number" >&2; exit 2; fi
            echo "{\\"val_accuracy\\": $lr, \\"steps\\": 3}" > "$out"

            """.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test func runsTrialsAndReadsSummaries() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-trials-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let runner = TrialRunner(program: try fakeCohort(dir), out: dir, base: ["--model", "mlp"], parallel: 2)
        let trials = [TrialRecord(id: 1, params: [("lr", "0.25")]), TrialRecord(id: 2, params: [("lr", "bad")]),
                      TrialRecord(id: 3, params: [("lr", "0.75")])]
        let done = try runner.run(trials, haltAt: nil, staged: false)
        #expect(done[0].summary?["val_accuracy"] as? Double == 0.25 && done[0].failed == nil)
        #expect(done[1].summary == nil && done[1].failed == "exit 2: Error: lr: not a number")
        #expect(done[2].summary?["steps"] as? Int == 3)
        let log = try String(contentsOfFile: runner.directory(1) + "/train.log", encoding: .utf8)
        #expect(log.hasPrefix("started train --model mlp --lr 0.25 --summary-json \(dir)/trial-001/summary.json --progress lines"))
    }
}
