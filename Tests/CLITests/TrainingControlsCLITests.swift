// `cohort train`'s training controls from the command line: --label-smoothing's range
// and the tasks it applies to, each mistake a one-line error naming the flag.
import Foundation
import Testing

@Suite struct TrainingControlsCLITests {
    @Test func labelSmoothingOutOfRangeOrOnRegressionIsRefusedByName() throws {
        for value in ["-0.1", "1", "1.5"] {
            let r = try CLI.run(["train", "--label-smoothing", value, "--steps", "1"])
            #expect(r.status == 2 && r.stderr.contains("--label-smoothing must be in [0, 1)"), "\(value): \(r.output)")
        }
        let regression = try CLI.run(["train", "--task", "regression", "--data", "x.csv", "--label-smoothing", "0.1", "--steps", "1"])
        #expect(regression.status == 2 && regression.stderr.contains("--label-smoothing smooths class targets"), "\(regression.output)")
    }

    @Test func labelSmoothingTrainsClassificationAndText() throws {
        for args in [["--hidden", "32"], ["--model", "gpt", "--data", "addition", "--layers", "1", "--d-model", "32", "--global-batch", "16"]] {
            let r = try CLI.run(["train", "--label-smoothing", "0.1", "--steps", "3", "--log-every", "100"] + args)
            #expect(r.status == 0 && r.stderr.contains("done: train loss"), "\(args): \(r.output)")
        }
    }
}
