// Text renderings of classification counts: scikit-learn's classification_report
// layout, and a labelled confusion matrix.
import CohortCore
import Foundation

/// Renders `ClassificationCounts` as text for logs and the console.
public enum MetricReport {
    /// A report in the layout of scikit-learn's `classification_report`: a row per class present in
    /// the labels or predictions (precision, recall, f1-score, support), then accuracy, macro avg and
    /// weighted avg, each value with `digits` decimals. `classNames` (one per class, in class order)
    /// replace the class numbers.
    /// - Throws: `invalidArgument` with no samples, `digits` outside 0...15 or the wrong number of names.
    public static func classificationReport(_ counts: ClassificationCounts, classNames: [String]? = nil, digits: Int = 2) throws -> String {
        guard (0...15).contains(digits) else { throw CohortError.invalidArgument("classificationReport: digits must be in 0...15, got \(digits)") }
        let names = try resolveNames(classNames, counts.classes, "classificationReport")
        let perClass = try counts.perClassMetrics()
        let present = counts.presentClasses
        let heading = "weighted avg"
        let width = max(present.map { names[$0].count }.max() ?? 0, heading.count, digits)
        func number(_ x: Double) -> String { pad(String(format: "%.\(digits)f", x), 9) }
        func row(_ name: String, _ m: ClassMetrics) -> String {
            pad(name, width) + " " + [m.precision, m.recall, m.f1].map { " " + number($0) }.joined() + " " + pad("\(m.support)", 9) + "\n"
        }
        var out = pad("", width) + " " + ["precision", "recall", "f1-score", "support"].map { " " + pad($0, 9) }.joined() + "\n\n"
        for c in present { out += row(names[c], perClass[c]) }
        out += "\n"
        out += pad("accuracy", width) + " " + " " + pad("", 9) + " " + pad("", 9) + " " + number(try counts.accuracy()) + " " + pad("\(counts.count)", 9) + "\n"
        out += row("macro avg", try counts.averaged(.macro))
        out += row(heading, try counts.averaged(.weighted))
        return out
    }

    /// The confusion matrix as a table: a row per true class, a column per predicted class, headed
    /// `true\pred`, columns right-aligned and separated by two spaces. `classNames` label rows and columns.
    /// - Throws: `invalidArgument` for the wrong number of names.
    public static func confusionMatrix(_ counts: ClassificationCounts, classNames: [String]? = nil) throws -> String {
        let names = try resolveNames(classNames, counts.classes, "confusionMatrix")
        let matrix = counts.confusionMatrix
        let corner = "true\\pred"
        let firstWidth = max(corner.count, names.map(\.count).max() ?? 0)
        let widths = (0..<counts.classes).map { j in max(names[j].count, matrix.map { "\($0[j])".count }.max() ?? 0) }
        func line(_ head: String, _ cells: [String]) -> String {
            pad(head, firstWidth) + zip(cells, widths).map { "  " + pad($0, $1) }.joined() + "\n"
        }
        return line(corner, names) + (0..<counts.classes).map { line(names[$0], matrix[$0].map { "\($0)" }) }.joined()
    }

    private static func resolveNames(_ names: [String]?, _ classes: Int, _ op: String) throws -> [String] {
        guard let names else { return (0..<classes).map(String.init) }
        guard names.count == classes else {
            throw CohortError.invalidArgument("\(op): \(names.count) class names for \(classes) classes")
        }
        return names
    }

    /// `s` right-aligned in `width` characters (longer strings are kept whole).
    private static func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }
}
