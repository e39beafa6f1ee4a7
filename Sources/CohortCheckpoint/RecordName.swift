// The names of a training checkpoint's records, spelled in one place: every parameter and module
// buffer is `model/<name>` (as in a PyTorch state_dict), every optimizer buffer of a parameter
// `optimizer/<buffer>/<name>`.

/// Record names of a training checkpoint.
public enum RecordName {
    /// The prefix of the model's records.
    public static let modelPrefix = "model/"
    /// The prefix of the optimizer's records.
    public static let optimizerPrefix = "optimizer/"

    /// The record of parameter or module buffer `name`.
    public static func model(_ name: String) -> String { modelPrefix + name }

    /// The record of optimizer buffer `buffer` (e.g. `exp_avg`) for parameter `name`.
    public static func optimizer(_ buffer: String, _ name: String) -> String { optimizerPrefix + buffer + "/" + name }

    /// The parameter or module buffer a `model/` record holds; nil for other records.
    public static func modelTensor(of record: String) -> String? {
        record.hasPrefix(modelPrefix) ? String(record.dropFirst(modelPrefix.count)) : nil
    }

    /// Whether `record` is an optimizer buffer.
    public static func isOptimizer(_ record: String) -> Bool { record.hasPrefix(optimizerPrefix) }
}
