// Input normalization inside the exported graph (`--normalize-in-graph`): the
// `inference.normalization` record training wrote — `pixels` (x / divide − mean) / std,
// or `standardize` (x − mean[j]) / std[j] per feature — as Div/Sub nodes before the model.
import Foundation

enum ONNXNormalization {
    /// Emits the normalization described by `json` on the raw input `x`.
    /// - Throws: `ONNXExportError.invalidOption` for a record it does not know or that does not fit `x`.
    static func emit(_ json: String, on x: ONNXValue, graph g: inout ONNXGraphBuilder) throws -> ONNXValue {
        guard x.type == .float else { throw ONNXExportError.invalidOption("normalization applies to float inputs, the input is \(x.type)") }
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any], let kind = obj["kind"] as? String else {
            throw ONNXExportError.invalidOption("the normalization record is not a JSON object with a \"kind\": \(json.prefix(80))")
        }
        func number(_ key: String) throws -> Float {
            guard let n = obj[key] as? NSNumber else { throw ONNXExportError.invalidOption("normalization '\(kind)' has no number \"\(key)\"") }
            return n.floatValue
        }
        func vector(_ key: String) throws -> [Float] {
            guard let a = obj[key] as? [NSNumber] else { throw ONNXExportError.invalidOption("normalization '\(kind)' has no list \"\(key)\"") }
            return a.map(\.floatValue)
        }
        switch kind {
        case "pixels":
            let scaled = g.binary("Div", x, g.scalar(try number("divide"), name: "norm_divide"), name: "input_scaled")
            let centred = g.binary("Sub", scaled, g.scalar(try number("mean"), name: "norm_mean"), name: "input_centred")
            return g.binary("Div", centred, g.scalar(try number("std"), name: "norm_std"), name: "input_normalized")
        case "standardize":
            let (mean, std) = (try vector("mean"), try vector("std"))
            guard x.rank == 2, x.shape[1].size == mean.count, std.count == mean.count else {
                throw ONNXExportError.invalidOption("standardize record of \(mean.count) features does not fit the input \(x.shape)")
            }
            let centred = g.binary("Sub", x, g.constant(floats: mean, shape: [mean.count], name: "norm_mean"), name: "input_centred")
            return g.binary("Div", centred, g.constant(floats: std, shape: [std.count], name: "norm_std"), name: "input_normalized")
        default:
            throw ONNXExportError.invalidOption("unknown normalization kind '\(kind)' (known: pixels, standardize)")
        }
    }
}
