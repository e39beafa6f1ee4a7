// The Open Inference Protocol's JSON infer request, read and checked against the model's signature:
// every fault is a ServeError.badRequest naming the field, the shape, datatype or count at fault.
import CohortCore
import Foundation

/// A decoded, validated infer request: `count` rows laid out contiguously in `rows`.
public struct InferenceRequest: Sendable {
    /// The client's request id, echoed in the response.
    public var id: String?
    /// `count × input.elementsPerRow` values (INT64 token ids as exact floats).
    public var rows: [Float]
    /// The batch dimension of the input tensor.
    public var count: Int

    /// Decodes `body` (`{"inputs":[{"name","shape","datatype","data"}], "outputs":[{"name"}]?, "id"?}`) for a model
    /// with `input`/`output` signatures, allowing at most `maxRows` rows.
    /// - Throws: `ServeError.badRequest` naming the field at fault; `.tooLarge` above `maxRows`.
    public init(json body: [UInt8], input: TensorSignature, output: TensorSignature, maxRows: Int) throws {
        let (root, requestID) = try Self.envelope(body)
        id = requestID
        guard case .array(let inputs)? = root["inputs"] else { throw ServeError.badRequest("'inputs' is missing or not an array") }
        guard inputs.count == 1, case .object = inputs[0] else {
            throw ServeError.badRequest("'inputs' must hold exactly one tensor object ('\(input.name)'), got \(inputs.count) entries")
        }
        let tensor = inputs[0]
        guard case .string(let name)? = tensor["name"] else { throw ServeError.badRequest("inputs[0].name is missing or not a string") }
        guard name == input.name else { throw ServeError.badRequest("inputs[0].name is '\(name)'; this model's input is '\(input.name)'") }
        guard case .string(let datatype)? = tensor["datatype"] else { throw ServeError.badRequest("inputs[0].datatype is missing or not a string") }
        guard datatype == input.datatype.rawValue else {
            throw ServeError.badRequest("inputs[0].datatype is \(datatype); input '\(input.name)' takes \(input.datatype.rawValue)")
        }
        guard case .array(let shapeValues)? = tensor["shape"], let shape = Self.integers(shapeValues), !shape.isEmpty else {
            throw ServeError.badRequest("inputs[0].shape must be a non-empty array of integers")
        }
        let perRow = Array(shape.dropFirst())
        guard perRow == input.shape || perRow == [input.elementsPerRow] else {
            throw ServeError.badRequest("inputs[0].shape is \(shape); input '\(input.name)' takes [N, \(input.shape.map(String.init).joined(separator: ", "))]")
        }
        guard shape[0] >= 1 else { throw ServeError.badRequest("inputs[0].shape \(shape) has batch dimension \(shape[0]); at least 1 row is needed") }
        guard shape[0] <= maxRows else {
            throw ServeError.tooLarge("inputs[0].shape \(shape) has \(shape[0]) rows; at most \(maxRows) per request (--max-rows)")
        }
        count = shape[0]
        guard case .array(let data)? = tensor["data"] else { throw ServeError.badRequest("inputs[0].data is missing or not an array") }
        var values = [Float]()
        values.reserveCapacity(count * input.elementsPerRow)
        try Self.flatten(data, into: &values, integral: input.datatype == .int64)
        guard values.count == count * input.elementsPerRow else {
            throw ServeError.badRequest("inputs[0].data holds \(values.count) values; shape \(shape) needs \(count * input.elementsPerRow)")
        }
        rows = values
        if let outputs = root["outputs"] {
            guard case .array(let list) = outputs else { throw ServeError.badRequest("'outputs' must be an array") }
            for (i, o) in list.enumerated() {
                guard case .string(let n)? = o["name"] else { throw ServeError.badRequest("outputs[\(i)] must be an object with a string 'name'") }
                guard n == output.name else { throw ServeError.badRequest("outputs[\(i)].name is '\(n)'; this model's output is '\(output.name)'") }
            }
        }
    }

    /// The body's JSON object and its optional string `id` — what every infer request starts with.
    /// - Throws: `ServeError.badRequest` for invalid JSON, a non-object body or a non-string id.
    static func envelope(_ body: [UInt8]) throws -> (root: JSONValue, id: String?) {
        let root: JSONValue
        do { root = try JSONReader.parse(body) } catch {
            throw ServeError.badRequest("request body is not valid JSON (\(body.count) bytes): \(error)")
        }
        guard case .object = root else { throw ServeError.badRequest("request body must be a JSON object, got \(root.kind)") }
        guard let id = root["id"] else { return (root, nil) }
        guard case .string(let s) = id else { throw ServeError.badRequest("'id' must be a string, got \(id.kind)") }
        return (root, s)
    }

    private static func integers(_ values: [JSONValue]) -> [Int]? {
        var out: [Int] = []
        for v in values {
            guard case .number(let n) = v, n == n.rounded(), abs(n) < 1e15 else { return nil }
            out.append(Int(n))
        }
        return out
    }

    private static func flatten(_ data: [JSONValue], into values: inout [Float], integral: Bool) throws {
        for v in data {
            switch v {
            case .number(let d):
                guard d.isFinite, abs(d) <= Double(Float.greatestFiniteMagnitude) else {
                    throw ServeError.badRequest("inputs[0].data[\(values.count)] is \(d), outside FP32's finite range")
                }
                if integral && d != d.rounded() {
                    throw ServeError.badRequest("inputs[0].data[\(values.count)] is \(d); INT64 data must be integers")
                }
                values.append(Float(d))
            case .array(let nested):
                try flatten(nested, into: &values, integral: integral)
            default:
                throw ServeError.badRequest("inputs[0].data[\(values.count)] is \(v.kind), not a number")
            }
        }
    }
}

/// Encodes infer responses and errors as the protocol's JSON.
public enum InferenceResponse {
    /// `{"model_name","model_version","id"?,"outputs":[{"name","datatype":"FP32","shape":[count, …],"data":[…]}]}`.
    public static func json(model: any ServableModel, id: String?, outputs: [Float], count: Int) -> String {
        var s = String()
        s.reserveCapacity(64 + outputs.count * 12)
        s += "{\"model_name\":"; s += jsonStringLiteral(model.name)
        s += ",\"model_version\":"; s += jsonStringLiteral(model.version)
        if let id { s += ",\"id\":"; s += jsonStringLiteral(id) }
        s += ",\"outputs\":[{\"name\":"; s += jsonStringLiteral(model.output.name)
        s += ",\"datatype\":\"FP32\",\"shape\":["
        s += ([count] + model.output.shape).map(String.init).joined(separator: ",")
        s += "],\"data\":["
        for (i, v) in outputs.enumerated() {
            if i > 0 { s += "," }
            s += v.isFinite ? v.description : "null"
        }
        s += "]}]}"
        return s
    }

    /// `{"error": message}`.
    public static func error(_ message: String) -> String { "{\"error\":\(jsonStringLiteral(message))}" }

}
