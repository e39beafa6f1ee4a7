// What an export says about running the model elsewhere: only the model sizes that apply
// to its kind, the input shape, dtype and normalization, class names or vocabulary (the
// `inference.*` metadata `cohort train` records, and the tokenizer), and the training
// data's fingerprint. safetensors keeps it in `__metadata__`; an `.npz` in a member
// `__metadata__.npy` (the JSON object's UTF-8 bytes as a uint8 array). docs/checkpoint-format.md.
import CohortCore
import CohortData

extension CheckpointExport {
    /// The model settings that describe each built-in model (others keep every setting).
    static let modelSettings: [String: Set<String>] = [
        "mlp": ["hidden", "inputs", "classes", "dropout"],   // dropout (present when > 0) numbers the layers
        "cnn": ["inputs", "classes", "dropout"],
        "resnet": ["inputs", "classes"],
        "gpt": ["layers", "heads", "d_model", "inputs", "classes", "tokenizer"],
        "lstm": ["hidden", "layers", "embedding", "inputs", "classes", "tokenizer"],
    ]

    /// Whether model setting `key` applies to model `name`.
    static func applies(_ key: String, to name: String) -> Bool { modelSettings[name]?.contains(key) ?? true }

    /// Checkpoint metadata for inference facts (`inference.<key>`): a value longer than a
    /// checkpoint string may be (a standardizer of many features) continues in `inference.<key>#2`, `#3`, ….
    public static func inferenceRecords(_ facts: [(key: String, value: String)], limit: Int = CheckpointLimits.standard.maxStringBytes) -> [KeyValue] {
        KeyValue.inPieces(facts.map { KeyValue("inference.\($0.key)", $0.value) }, limit: limit)
    }

    /// `inference.*` keys: what training recorded (continuations joined), the vocabulary (from
    /// the tokenizer) and the data fingerprint.
    static func inference(of m: Manifest) -> [KeyValue] {
        var kv: [KeyValue] = []
        for r in m.metadata where r.key.hasPrefix("inference.") {
            if let hash = r.key.firstIndex(of: "#"), let i = kv.lastIndex(where: { $0.key == r.key[..<hash] }) {
                kv[i].value += r.value
            } else {
                kv.append(r)
            }
        }
        if let text = m.model.settings.first(where: { $0.key == "tokenizer" })?.value, let t = try? TextTokenizer(serialized: text) {
            // Token id i's text is vocabulary[i] (its bytes as UTF-8; a byte sequence that is not whole UTF-8 shows as U+FFFD;
            // `model.tokenizer` holds the exact bytes).
            kv.append(KeyValue("inference.vocabulary", jsonStringArray(t.tokenStrings)))
        }
        if !m.data.dataSHA256.isEmpty {
            kv += [KeyValue("inference.data_name", m.data.dataName), KeyValue("inference.data_sha256", m.data.dataSHA256)]
        }
        return kv
    }

    /// Whether an export of `m` carries inference metadata (checkpoints `cohort train` writes do).
    static func hasInference(_ m: Manifest) -> Bool { m.metadata.contains { $0.key.hasPrefix("inference.") } }

    /// The `__metadata__.npy` member of an `.npz`: `metadata` as a JSON object, UTF-8, uint8 array.
    static func metadataMember(_ metadata: [KeyValue]) -> [UInt8] {
        let text = Array(("{" + metadata.map { json($0.key) + ":" + json($0.value) }.joined(separator: ",") + "}").utf8)
        return NPY.header(shape: [text.count], descr: "|u1") + text
    }
}
