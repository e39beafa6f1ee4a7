// Renders a sweep's folder: report.md (plan, machine, throughput with intervals,
// speedup and efficiency, time breakdown, failed runs), results.csv and three
// SVG plots (throughput vs ranks with the ideal line, efficiency with interval
// bars, stacked time per step). Pure function of plan.json, machine.json and
// results.jsonl, so `cohort scale report DIR` re-renders at any time.
import CohortStats
import Foundation

public enum ScaleReport {
    /// Writes report.md, results.csv and plots/*.svg into the store's folder; returns report.md's path.
    @discardableResult
    public static func render(_ store: ScaleStore) throws -> String {
        let plan = try store.loadPlan()
        let runs = try store.loadRuns()
        let summaries = ScaleAnalysis.summarize(plan, runs)
        try store.writeCSV(runs, plan: plan)
        try FileManager.default.createDirectory(atPath: store.directory + "/plots", withIntermediateDirectories: true)
        let plots = self.plots(plan, summaries)
        for (name, svg) in plots { try store.write(Data(svg.utf8), to: store.directory + "/plots/\(name).svg") }
        let machine = (FileManager.default.contents(atPath: store.machinePath))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        let md = markdown(plan, runs, summaries, machine: machine, plots: plots.map(\.0))
        let path = store.directory + "/report.md"
        try store.write(Data(md.utf8), to: path)
        return path
    }

    static func markdown(_ plan: ScalePlan, _ runs: [ScaleRun], _ s: [ConfigurationSummary], machine: [String: Any], plots: [String]) -> String {
        var md = "# Scaling sweep\n\n"
        md += "- Mode: **\(plan.mode.rawValue)** scaling (" + (plan.mode == .strong ? "global batch \(plan.batch) at every world size" : "\(plan.batch) samples per rank") + ")\n"
        md += "- World sizes: \(plan.ranks.map(String.init).joined(separator: ", ")); \(plan.steps) timed steps after \(plan.warmup) warm-up steps; \(plan.repeats) rounds, interleaved\n"
        if !plan.vary.isEmpty { md += "- Varied: " + plan.vary.map { "`\($0.knob.rawValue)` = \($0.values.joined(separator: ", "))" }.joined(separator: "; ") + "\n" }
        md += "- Train arguments: `\(plan.trainArguments.joined(separator: " "))`\n"
        let keys = ["host", "cores", "blas_kernel", "mpi", "cohort_version", "started"]
        let m = keys.compactMap { k in machine[k].map { "\(k) \($0)" } }
        if !m.isEmpty { md += "- Machine: " + m.joined(separator: ", ") + "\n" }
        let ok = runs.filter(\.ok).count
        md += "- Runs: \(ok) succeeded, \(runs.count - ok) failed\n\n"
        md += "## Throughput\n\n"
        md += "Samples/s over the timed steps of each run. Mean ± 95 % t-interval over rounds; median with its 95 % bootstrap interval. "
        md += "Efficiency = throughput ÷ (ranks × 1-rank throughput), computed per round against the same round's 1-rank run. "
        md += "**noisy**: the rounds' coefficient of variation exceeds 5 %.\n\n"
        md += "| configuration | rounds | median samples/s | 95 % CI (median) | mean, 95 % CI (t) | CV | speedup | efficiency | 95 % CI | |\n|---|---|---|---|---|---|---|---|---|---|\n"
        for x in s {
            let rounds = "\(x.throughput.count)" + (x.failed > 0 ? " (+\(x.failed) failed)" : "")
            md += "| \(x.configuration.label) | \(rounds) | \(num(x.median)) | \(ci(x.medianInterval)) | "
            md += (x.meanInterval.map { "\(num($0.estimate)) [\(num($0.lower)), \(num($0.upper))]" } ?? "–") + " | "
            md += (x.variation.map { String(format: "%.1f %%", $0 * 100) } ?? "–") + " | "
            md += (x.speedup.map { String(format: "%.2f×", $0) } ?? "–") + " | " + (x.efficiency.map { String(format: "%.3f", $0) } ?? "–") + " | "
            md += (x.efficiencyInterval.map { String(format: "[%.3f, %.3f]", $0.lower, $0.upper) } ?? "–") + " | " + (x.noisy ? "noisy" : "") + " |\n"
        }
        if s.contains(where: { $0.tokensPerSecond != nil }) {
            md += "\nTokens/s (medians): " + s.compactMap { x in x.tokensPerSecond.map { "\(x.configuration.label) \(num($0))" } }.joined(separator: "; ") + "\n"
        }
        md += "\n## Where the time goes\n\nMilliseconds per step (medians over rounds of the mean over ranks and timed steps). "
        md += "`comm_wait` is communication the step waited for (not overlapped with backward); `compute` is forward, backward and the gradient hooks.\n\n"
        md += "| configuration | data | compute | comm_wait | optimizer | total | comm share | gradient MB all-reduced/step | transport |\n|---|---|---|---|---|---|---|---|---|\n"
        for x in s {
            let p = ScaleStore.phaseNames.map { x.phases[$0].map { String(format: "%.2f", $0 * 1000) } ?? "–" }
            let share = (x.phases["comm_wait"] ?? 0) / max(x.phases["total"] ?? 1, 1e-12)
            md += "| \(x.configuration.label) | " + p.joined(separator: " | ") + String(format: " | %.1f %%", share * 100)
            md += " | " + (x.configuration.ranks > 1 ? String(format: "%.2f", Double(x.gradientBytes) / 1e6) : "0") + " | \(x.transport) |\n"
        }
        let failed = runs.filter { !$0.ok }
        if !failed.isEmpty {
            md += "\n## Failed runs\n\n"
            for r in failed { md += "- round \(r.round + 1), \(r.configuration.label): \(r.error ?? "unknown error")\n" }
        }
        md += "\n## Plots\n\n" + plots.map { "![\($0)](plots/\($0).svg)\n" }.joined(separator: "\n")
        return md
    }

    static func plots(_ plan: ScalePlan, _ s: [ConfigurationSummary]) -> [(String, String)] {
        let seriesNames = Array(Set(s.map(\.configuration.series))).sorted()
        var thr: [SVGSeries] = [], eff: [SVGSeries] = []
        for name in seriesNames {
            let xs = s.filter { $0.configuration.series == name }.sorted { $0.configuration.ranks < $1.configuration.ranks }
            thr.append(SVGSeries(name: name, points: xs.map { (Double($0.configuration.ranks), $0.median, $0.medianInterval.map { ($0.lower, $0.upper) }) }))
            if let base = xs.first(where: { $0.configuration.ranks == 1 }) {
                thr.append(SVGSeries(name: "ideal (\(name))", points: xs.map { (Double($0.configuration.ranks), base.median * Double($0.configuration.ranks), nil) }, dashed: true))
            }
            let e = xs.compactMap { x in x.efficiency.map { (Double(x.configuration.ranks), $0, x.efficiencyInterval.map { ($0.lower, $0.upper) }) } }
            if !e.isEmpty { eff.append(SVGSeries(name: name, points: e)) }
        }
        var out: [(String, String)] = [("throughput", SVGChart.lines(title: "Throughput (\(plan.mode.rawValue) scaling)", xLabel: "ranks", yLabel: "samples/s", series: thr))]
        if !eff.isEmpty {
            if let maxRanks = plan.ranks.max() {
                eff.append(SVGSeries(name: "ideal", points: [(Double(plan.ranks.min() ?? 1), 1, nil), (Double(maxRanks), 1, nil)], dashed: true))
            }
            out.append(("efficiency", SVGChart.lines(title: "Scaling efficiency (95 % CI)", xLabel: "ranks", yLabel: "efficiency", series: eff)))
        }
        let parts = ["data", "compute", "comm_wait", "optimizer"]
        out.append(("breakdown", SVGChart.stackedBars(title: "Time per step", unit: "ms per step", components: parts,
                                                      bars: s.map { x in (x.configuration.label, parts.map { (x.phases[$0] ?? 0) * 1000 }) })))
        return out
    }

    static func num(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : String(format: "%.3g", v) }
    static func ci(_ c: ConfidenceInterval?) -> String { c.map { "[\(num($0.lower)), \(num($0.upper))]" } ?? "–" }
}
