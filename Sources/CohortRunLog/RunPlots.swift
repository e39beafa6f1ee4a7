// What `cohort plot` draws from a run directory: metrics.jsonl grouped into
// chart families (losses together, accuracy-like metrics together, the learning
// rate alone, anything else one chart each) and confusion.json as a heat map.
import CohortCore
import Foundation

/// One chart's worth of metrics.
public struct MetricFamily: Sendable, Equatable {
    /// File name stem (`loss` → `loss.svg`).
    public var name: String
    public var title: String
    public var yLabel: String
    /// Metric names in the order they first appear in the log.
    public var metrics: [String]
}

/// Turns a run directory into SVG charts.
public enum RunPlots {
    /// Metric names whose chart is the accuracy family (lower-cased substrings).
    static let accuracyWords = ["acc", "precision", "recall", "f1", "exact_match", "top1", "top5", "top_"]

    /// Groups the metric names of `records` into families, in a fixed order: loss, accuracy, lr, then the rest by first appearance.
    public static func families(_ records: [MetricRecord]) -> [MetricFamily] {
        var names: [String] = []
        for r in records { for m in r.metrics where !names.contains(m.name) { names.append(m.name) } }
        let lower = { (n: String) in n.lowercased() }
        let isLoss = { (n: String) in lower(n).contains("loss") }
        let isLR = { (n: String) in let l = lower(n); return l == "lr" || l.hasSuffix("_lr") || l.hasSuffix("/lr") || l.hasPrefix("lr_") || l == "learning_rate" }
        let isAccuracy = { (n: String) in !isLoss(n) && !isLR(n) && accuracyWords.contains { lower(n).contains($0) } }
        var out: [MetricFamily] = []
        let losses = names.filter(isLoss), accuracies = names.filter(isAccuracy), lrs = names.filter(isLR)
        if !losses.isEmpty { out.append(MetricFamily(name: "loss", title: "Loss", yLabel: "loss", metrics: losses)) }
        if !accuracies.isEmpty { out.append(MetricFamily(name: "accuracy", title: "Accuracy", yLabel: "fraction", metrics: accuracies)) }
        if !lrs.isEmpty { out.append(MetricFamily(name: "lr", title: "Learning rate", yLabel: "learning rate", metrics: lrs)) }
        for n in names where !isLoss(n) && !isAccuracy(n) && !isLR(n) {
            out.append(MetricFamily(name: fileStem(n), title: n, yLabel: n, metrics: [n]))
        }
        return out
    }

    /// The chart of one family: one series per metric, x = step.
    public static func chart(_ family: MetricFamily, _ records: [MetricRecord]) -> String {
        let series = family.metrics.map { name in
            ChartSeries(name: name, points: records.compactMap { r in r[name].map { ChartPoint(x: Double(r.step), y: $0) } })
        }
        return LineChart.svg(title: family.title, xLabel: "step", yLabel: family.yLabel, series: series)
    }

    /// Writes `<family>.svg` for every family and `confusion.svg` when `confusion.json` exists; returns the paths written.
    /// - Throws: `CohortError.badFile` for a missing, empty or malformed `metrics.jsonl` or `confusion.json`,
    ///   or an output directory that cannot be written.
    public static func render(runDirectory: String, outDirectory: String) throws -> [String] {
        let logPath = (runDirectory as NSString).appendingPathComponent(MetricsLog.fileName)
        guard FileManager.default.fileExists(atPath: logPath) else {
            throw CohortError.badFile(path: logPath, "no metrics log (train with --log-dir \(runDirectory) to write one)")
        }
        let records = try MetricsLog.read(logPath)
        guard !records.isEmpty else { throw CohortError.badFile(path: logPath, "the metrics log is empty: nothing to plot") }
        let families = families(records)
        guard !families.isEmpty else { throw CohortError.badFile(path: logPath, "the metrics log has steps but no metric values: nothing to plot") }
        do {
            try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true)
        } catch {
            throw CohortError.badFile(path: outDirectory, "cannot create the output directory: \(error.localizedDescription)")
        }
        var written: [String] = []
        func save(_ svg: String, _ name: String) throws {
            let path = (outDirectory as NSString).appendingPathComponent(name)
            do { try Data(svg.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
                throw CohortError.badFile(path: path, "cannot write: \(error.localizedDescription)")
            }
            written.append(path)
        }
        for f in families { try save(chart(f, records), f.name + ".svg") }
        let confusionPath = (runDirectory as NSString).appendingPathComponent(ConfusionMatrixFile.fileName)
        if FileManager.default.fileExists(atPath: confusionPath) {
            try save(ConfusionHeatMap.svg(try ConfusionMatrixFile.read(confusionPath)), "confusion.svg")
        }
        return written
    }

    /// A metric name as a file name: letters, digits, `-`, `_`, `.`; others become `_`.
    /// Names taken by the fixed charts get a `-metric` suffix.
    static func fileStem(_ name: String) -> String {
        let stem = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return ["loss", "accuracy", "lr", "confusion"].contains(stem) ? stem + "-metric" : stem
    }
}
