// The lines `cohort predict` writes: one JSON object or one CSV record per input
// row (0-based `row` first), numbers in Swift's shortest round-trip form, so the
// same predictions always give the same bytes.
import CohortCore
import CohortRuntime
import Foundation

/// Formats predictions as JSON lines or CSV.
struct PredictionFormat {
    let metadata: InferenceMetadata
    let csv: Bool
    /// Classes reported per row (already capped at the class count).
    let topK: Int

    /// The CSV header line (empty for JSON lines).
    var header: String {
        guard csv else { return "" }
        switch metadata.task {
        case .classification:
            return (["row", "class", "label", "probability"]
                + (topK > 1 ? (2...topK).flatMap { ["class_\($0)", "label_\($0)", "probability_\($0)"] } : [])).joined(separator: ",") + "\n"
        case .regression: return "row," + Self.field(metadata.targetName ?? "value") + "\n"
        case .text: return "row,prompt,continuation\n"
        }
    }

    /// Row `row` of the input: element `j` of `result`.
    func row(_ row: Int, _ result: InferenceResult, _ j: Int) -> String {
        if metadata.task == .regression {
            let v = Self.number(result.values[j])
            return csv ? "\(row),\(v)\n" : "{\"row\":\(row),\"value\":\(v)}\n"
        }
        let top = result.topK[j]
        let name = { (c: Int) in c < metadata.classNames.count ? metadata.classNames[c] : String(c) }
        if csv {
            return "\(row)," + top.map { "\($0.class),\(Self.field(name($0.class))),\(Self.number($0.probability))" }.joined(separator: ",") + "\n"
        }
        let list = top.map { "{\"class\":\($0.class),\"label\":\(jsonStringLiteral(name($0.class))),\"probability\":\(Self.number($0.probability))}" }
        return "{\"row\":\(row),\"class\":\(result.classes[j]),\"label\":\(jsonStringLiteral(name(result.classes[j]))),"
            + "\"probability\":\(Self.number(top[0].probability)),\"top_k\":[\(list.joined(separator: ","))]}\n"
    }

    /// A text model's greedy continuation of prompt `row`.
    func text(row: Int, prompt: String, continuation: String) -> String {
        csv ? "\(row),\(Self.field(prompt)),\(Self.field(continuation))\n"
            : "{\"row\":\(row),\"prompt\":\(jsonStringLiteral(prompt)),\"continuation\":\(jsonStringLiteral(continuation))}\n"
    }

    /// Shortest round-trip decimal; `null` for a non-finite value (JSON has none).
    static func number(_ v: Float) -> String { v.isFinite ? "\(v)" : "null" }

    /// A CSV field, quoted when it holds a comma, quote or line break.
    static func field(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
