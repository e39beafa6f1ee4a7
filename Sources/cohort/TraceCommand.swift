// `cohort trace merge`: the per-rank timelines of `cohort train --trace FILE` joined into
// one Chrome trace with a process per rank (docs/trace.md). The work is CohortRunLog's
// `TraceMerge`; this file turns flags into its arguments and reports what it did.
import ArgumentParser
import CohortCore
import CohortRunLog
import Foundation

/// `cohort trace …`: timeline tools.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Timeline tools for `cohort train --trace` files (docs/trace.md).",
        subcommands: [Merge.self])

    /// `cohort trace merge rank0.json rank1.json … --out merged.json`.
    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join ranks' trace files into one Chrome trace, one process per rank (open it in ui.perfetto.dev or chrome://tracing).")

        @Argument(help: "Rank files, a glob (\"trace.rank*.json\"), or the --trace path itself (trace.json stands for trace.rank0.json, trace.rank1.json, …).") var inputs: [String]
        @Option(name: .customLong("out"), help: "The merged file to write.") var output: String
        @Option(help: "How ranks' clocks are aligned: clock (each rank's wall clock, µs since the Unix epoch; right when hosts are NTP/PTP-synchronized) or barrier (shift ranks so their exit from the start barrier coincides).") var align = "clock"

        func validate() throws {
            guard !inputs.isEmpty else { throw ValidationError("give the rank files (or the --trace path) to merge") }
            guard TraceMerge.Alignment(rawValue: align) != nil else { throw ValidationError("--align must be clock or barrier, got '\(align)'") }
        }

        func run() throws { try exitingOnErrors(merge) }

        private func merge() throws {
            let files = try TraceMerge.inputs(inputs)
            let report = try TraceMerge.merge(files, alignment: TraceMerge.Alignment(rawValue: align)!, into: output)
            var line = "merged \(files.count) file(s), ranks \(report.ranks.map(String.init).joined(separator: ", ")) of \(report.worldSize), \(report.events) events → \(output)"
            if let spread = report.barrierSpreadMicroseconds { line += "; ranks' wall clocks at the start barrier differ by up to \(spread) µs" }
            print(line)
            if !report.missingRanks.isEmpty {
                FileHandle.standardError.write(Data("warning: no file for rank(s) \(report.missingRanks.map(String.init).joined(separator: ", ")) of \(report.worldSize)\n".utf8))
            }
        }
    }
}
