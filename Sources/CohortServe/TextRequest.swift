// A text model's infer request and response: prompts as a BYTES tensor in, their greedy
// continuations as a BYTES tensor out; `parameters.max_tokens` sets how many tokens to add.
import CohortCore

/// A decoded, validated text infer request.
public struct TextInferenceRequest: Sendable {
    /// The client's request id, echoed in the response.
    public var id: String?
    /// The prompts, in request order.
    public var prompts: [String]
    /// Tokens to add to each prompt.
    public var maxTokens: Int

    /// Decodes `body` (`{"inputs":[{"name","shape":[N] or [N,1],"datatype":"BYTES","data":["…",…]}],
    /// "parameters":{"max_tokens":K}?, "outputs"?, "id"?}`) for a text model with `input`/`output`
    /// signatures; at most `maxRows` prompts, `defaultTokens` when no `max_tokens` is given, at most `tokenLimit`.
    /// - Throws: `ServeError.badRequest` naming the field at fault; `.tooLarge` above `maxRows` or `tokenLimit`.
    public init(json body: [UInt8], input: TensorSignature, output: TensorSignature, maxRows: Int,
                defaultTokens: Int, tokenLimit: Int) throws {
        let (root, requestID) = try InferenceRequest.envelope(body)
        id = requestID
        guard case .array(let inputs)? = root["inputs"], inputs.count == 1, case .object = inputs[0] else {
            throw ServeError.badRequest("'inputs' must be an array holding exactly one tensor object ('\(input.name)')")
        }
        let tensor = inputs[0]
        guard case .string(let name)? = tensor["name"], name == input.name else {
            throw ServeError.badRequest("inputs[0].name must be '\(input.name)', this model's input")
        }
        guard case .string(let datatype)? = tensor["datatype"], datatype == ServeDatatype.bytes.rawValue else {
            throw ServeError.badRequest("inputs[0].datatype must be BYTES: '\(input.name)' takes text prompts")
        }
        guard case .array(let shapeValues)? = tensor["shape"], let first = shapeValues.first, case .number(let n) = first,
              n == n.rounded(), n >= 1, shapeValues.dropFirst().allSatisfy({ $0 == .number(1) }), shapeValues.count <= 2 else {
            throw ServeError.badRequest("inputs[0].shape must be [N] or [N, 1] with N ≥ 1 prompts")
        }
        guard n <= Double(maxRows) else {
            throw ServeError.tooLarge("inputs[0].shape has \(Int(min(n, 1e15))) prompts; at most \(maxRows) per request (--max-rows)")
        }
        guard case .array(let data)? = tensor["data"] else { throw ServeError.badRequest("inputs[0].data is missing or not an array") }
        var prompts: [String] = []
        func collect(_ values: [JSONValue]) throws {
            for v in values {
                switch v {
                case .string(let s): prompts.append(s)
                case .array(let nested): try collect(nested)
                default: throw ServeError.badRequest("inputs[0].data[\(prompts.count)] is \(v.kind), not a string")
                }
            }
        }
        try collect(data)
        guard prompts.count == Int(n) else {
            throw ServeError.badRequest("inputs[0].data holds \(prompts.count) strings; shape [\(Int(n))] needs \(Int(n))")
        }
        self.prompts = prompts
        maxTokens = defaultTokens
        if let parameters = root["parameters"] {
            guard case .object = parameters else { throw ServeError.badRequest("'parameters' must be an object") }
            if let k = parameters["max_tokens"] {
                guard case .number(let t) = k, t == t.rounded(), t >= 0 else {
                    throw ServeError.badRequest("parameters.max_tokens must be an integer ≥ 0")
                }
                guard t <= Double(tokenLimit) else {
                    throw ServeError.tooLarge("parameters.max_tokens is \(Int(min(t, 1e15))); at most \(tokenLimit) (--max-tokens)")
                }
                maxTokens = Int(t)
            }
        }
        if let outputs = root["outputs"] {
            guard case .array(let list) = outputs, list.allSatisfy({ $0["name"] == .string(output.name) }) else {
                throw ServeError.badRequest("'outputs' must be an array of objects named '\(output.name)', this model's output")
            }
        }
    }
}

extension InferenceResponse {
    /// `{"model_name","model_version","id"?,"outputs":[{"name","datatype":"BYTES","shape":[N],"data":["…",…]}]}`.
    public static func text(model: any ServableModel, id: String?, texts: [String]) -> String {
        var s = "{\"model_name\":" + jsonStringLiteral(model.name) + ",\"model_version\":" + jsonStringLiteral(model.version)
        if let id { s += ",\"id\":" + jsonStringLiteral(id) }
        s += ",\"outputs\":[{\"name\":" + jsonStringLiteral(model.output.name) + ",\"datatype\":\"BYTES\",\"shape\":[\(texts.count)],\"data\":["
        s += texts.map(jsonStringLiteral).joined(separator: ",")
        return s + "]}]}"
    }
}
