// `cohort plot`'s library side: metric families, nice ticks, SVG that parses as
// XML (Foundation's XMLParser) and holds the series, the confusion heat map and
// its file format, and the errors for a missing or empty log.
import CohortCore
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import CohortRunLog

/// Parses SVG with XMLParser, collecting element names, text and polyline point lists.
final class SVGCollector: NSObject, XMLParserDelegate {
    var elements: [String] = [], texts: [String] = [], polylines: [String] = [], titles: [String] = []
    private var text = "", inTitle = false
    func parser(_ p: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append(name)
        if name == "polyline", let pts = attributes["points"] { polylines.append(pts) }
        text = ""
        inTitle = name == "title"
    }
    func parser(_ p: XMLParser, foundCharacters s: String) { text += s }
    func parser(_ p: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { texts.append(text) }
        if name == "title" { titles.append(text) }
        text = ""
    }

    /// Parses `svg`; fails the test when it is not well-formed.
    static func parse(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) -> SVGCollector {
        let c = SVGCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = c
        #expect(parser.parse(), "not well-formed: \(String(describing: parser.parserError))", sourceLocation: sourceLocation)
        #expect(c.elements.first == "svg", sourceLocation: sourceLocation)
        #expect(!svg.contains("nan") && !svg.contains("inf"), sourceLocation: sourceLocation)
        return c
    }
}

func sampleRecords() -> [MetricRecord] {
    (1...20).map { i in
        var m: [MetricRecord.Metric] = [.init(name: "train_loss", value: 2.3 * exp(-Double(i) / 6)), .init(name: "lr", value: 1e-3 * Double(21 - i) / 20)]
        if i % 5 == 0 { m += [.init(name: "val_loss", value: 2.5 * exp(-Double(i) / 7)), .init(name: "val_accuracy", value: 0.5 + Double(i) / 50)] }
        if i == 20 { m.append(.init(name: "samples_per_sec", value: 1234)) }
        return MetricRecord(step: i * 50, wallTime: 1_700_000_000 + Double(i), metrics: m)
    }
}

@Suite struct PlotTests {
    @Test func familiesGroupLossesAccuracyAndLR() {
        let f = RunPlots.families(sampleRecords())
        #expect(f.map(\.name) == ["loss", "accuracy", "lr", "samples_per_sec"])
        #expect(f[0].metrics == ["train_loss", "val_loss"] && f[1].metrics == ["val_accuracy"] && f[2].metrics == ["lr"])
        #expect(RunPlots.fileStem("val/top-5 err") == "val_top-5_err" && RunPlots.fileStem("confusion") == "confusion-metric")
    }

    @Test func ticksAreNiceAndLabelsDistinct() {
        let x = AxisTicks(low: 50, high: 1000, count: 6)
        #expect(x.lower == 0 && x.upper == 1000 && x.step == 200)
        let y = AxisTicks(low: 0.31, high: 2.07, count: 5)
        #expect(y.step == 0.5 && y.lower == 0 && y.upper == 2.5)
        #expect(y.values.map(y.label) == ["0", "0.5", "1.0", "1.5", "2.0", "2.5"])
        let lr = AxisTicks(low: 5e-5, high: 1e-3, count: 5)
        #expect(lr.values.map(lr.label) == ["0", "0.0002", "0.0004", "0.0006", "0.0008", "0.0010"])
        let small = AxisTicks(low: 1e-5, high: 3e-4, count: 5)
        #expect(small.values.map(small.label) == ["0", "1e-4", "2e-4", "3e-4"])
        let big = AxisTicks(low: 0, high: 120_000, count: 6)
        #expect(big.values.map(big.label).last == "120k")
        let flat = AxisTicks(low: 3, high: 3)
        #expect(flat.lower < 3 && flat.upper > 3)
    }

    @Test func lossChartIsWellFormedAndHoldsBothSeries() throws {
        let records = sampleRecords()
        let svg = RunPlots.chart(RunPlots.families(records)[0], records)
        let c = SVGCollector.parse(svg)
        #expect(c.titles == ["train_loss", "val_loss"])
        #expect(c.polylines.count == 2)
        #expect(c.polylines[0].split(separator: " ").count == 20 && c.polylines[1].split(separator: " ").count == 4)
        #expect(c.texts.contains("Loss") && c.texts.contains("step") && c.texts.contains("1000") && c.texts.contains("train_loss"))
    }

    @Test func nanBreaksTheLine() {
        let s = ChartSeries(name: "l", points: [1, 2, .nan, 4, 5].enumerated().map { ChartPoint(x: Double($0.offset), y: $0.element) })
        let c = SVGCollector.parse(LineChart.svg(title: "t", xLabel: "step", yLabel: "y", series: [s]))
        #expect(c.polylines.count == 2)
        _ = SVGCollector.parse(LineChart.svg(title: "empty", xLabel: "step", yLabel: "y", series: [ChartSeries(name: "none", points: [])]))
    }

    @Test func confusionFileAndHeatMap() throws {
        let dir = try temporaryDirectory()
        let m = try ConfusionMatrixFile(labels: ["cat", "dog", "<bird>"], matrix: [[50, 3, 0], [4, 40, 6], [0, 0, 0]])
        try m.write(runDirectory: dir)
        let path = dir + "/confusion.json"
        #expect(try ConfusionMatrixFile.read(path) == m)
        let c = SVGCollector.parse(ConfusionHeatMap.svg(m))
        #expect(c.elements.filter { $0 == "rect" }.count == 1 + 9 + 20)
        #expect(c.texts.contains("<bird>") && c.texts.contains("50") && c.texts.contains("predicted") && c.texts.contains("true"))
        #expect(c.titles.contains("true dog, predicted cat: 4 (8.0% of row)"))
        #expect(ConfusionHeatMap.color(0) == "#ffffff" && ConfusionHeatMap.color(1) == "#08306b")

        #expect(throws: CohortError.invalidArgument("confusion matrix: \"matrix\" row 1 has 1 columns for 2 labels")) {
            try ConfusionMatrixFile(labels: ["a", "b"], matrix: [[1, 2], [3]])
        }
        try Data("{\"labels\": [\"a\"], \"matrix\": [[1.5]]}".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try ConfusionMatrixFile.read(path) } throws: { "\($0)" == path + ": \"matrix\"[0][0] is not a whole number (1.5)" }
        try Data("{\"labels\": [\"a\", \"b\"], \"matrix\": [[1, 0], [0, -2]]}".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CohortError.badFile(path: path, "\"matrix\"[1][1] is negative (-2)")) { try ConfusionMatrixFile.read(path) }
        try Data("{\"labels\": [\"a\"]}".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CohortError.badFile(path: path, "no \"matrix\" field")) { try ConfusionMatrixFile.read(path) }
    }

    @Test func renderWritesChartsAndConfusionAndNamesProblems() throws {
        let dir = try temporaryDirectory()
        #expect(throws: CohortError.badFile(path: dir + "/metrics.jsonl", "no metrics log (train with --log-dir \(dir) to write one)")) {
            try RunPlots.render(runDirectory: dir, outDirectory: dir + "/plots")
        }
        _ = FileManager.default.createFile(atPath: dir + "/metrics.jsonl", contents: Data())
        #expect(throws: CohortError.badFile(path: dir + "/metrics.jsonl", "the metrics log is empty: nothing to plot")) {
            try RunPlots.render(runDirectory: dir, outDirectory: dir + "/plots")
        }
        let log = try MetricsLog(runDirectory: dir)
        for r in sampleRecords() { try log.append(r) }
        try ConfusionMatrixFile(labels: ["0", "1"], matrix: [[9, 1], [2, 8]]).write(runDirectory: dir)
        let written = try RunPlots.render(runDirectory: dir, outDirectory: dir + "/plots")
        #expect(written.map { ($0 as NSString).lastPathComponent } == ["loss.svg", "accuracy.svg", "lr.svg", "samples_per_sec.svg", "confusion.svg"])
        for path in written { _ = SVGCollector.parse(try String(contentsOfFile: path, encoding: .utf8)) }
    }
}
