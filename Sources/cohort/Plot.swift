// `cohort plot RUN_DIR [--out DIR]`: SVG charts of a run's metrics.jsonl (losses,
// accuracy-like metrics, learning rate, anything else one chart each; x = step)
// and, when the run wrote confusion.json, the confusion-matrix heat map.
import ArgumentParser
import CohortCore
import CohortRunLog
import Foundation

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw SVG charts of a run's metrics.jsonl (and confusion.json) (docs/run-logs.md).")

    @Argument(help: "Run directory (the --log-dir of cohort train).") var runDirectory: String
    @Option(help: "Where the SVG files go (default: RUN_DIR/plots).") var out: String?

    func run() throws {
        try exitingOnErrors {
            let written = try RunPlots.render(runDirectory: runDirectory, outDirectory: out ?? (runDirectory as NSString).appendingPathComponent("plots"))
            for path in written { print(path) }
        }
    }
}
