// The errors of ONNX export: each names the layer (type and dotted path) or the
// file at fault, so a user can see which part of their network stopped the export.

/// Why an export failed.
public enum ONNXExportError: Error, CustomStringConvertible, Equatable {
    /// A layer type with no ONNX mapping: its Swift type name and its path in the module tree.
    case unsupportedLayer(type: String, path: String)
    /// A layer whose input cannot be expressed (wrong rank, a dynamic size the mapping needs fixed).
    case unsupportedInput(type: String, path: String, String)
    /// A bad export option (input shape, normalization record).
    case invalidOption(String)
    /// Writing the file failed.
    case io(path: String, String)

    public var description: String {
        switch self {
        case let .unsupportedLayer(type, path):
            return "ONNX export: layer \(type) at '\(path.isEmpty ? "<root>" : path)' has no ONNX mapping "
                + "(supported: \(ONNXExporter.supportedLayerNames.joined(separator: ", ")); conform it to ONNXExportable to add one)"
        case let .unsupportedInput(type, path, why):
            return "ONNX export: layer \(type) at '\(path.isEmpty ? "<root>" : path)': \(why)"
        case .invalidOption(let why):
            return "ONNX export: \(why)"
        case let .io(path, why):
            return "ONNX export: cannot write \(path): \(why)"
        }
    }
}
