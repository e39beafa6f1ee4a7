// MNIST from a directory holding the four standard IDX files (gzip-compressed
// or raw, original or dotted names): finds them, checks that images and labels
// agree, and turns pixels into floats in [0, 1], optionally normalised.
import CohortCore

/// Loader for the MNIST handwritten digits (28×28 grayscale images, labels 0…9).
public enum MNIST {
    /// Which half of MNIST to load: 60,000 training or 10,000 test (`t10k-`) samples.
    public enum Split: String, Sendable, CaseIterable {
        case train, test
        /// The file-name prefix: `train` or `t10k`.
        public var filePrefix: String { self == .train ? "train" : "t10k" }
    }

    /// Mean of the training pixels after scaling to [0, 1] (the usual normalisation constant).
    public static let mean: Float = 0.1307
    /// Standard deviation of the training pixels after scaling to [0, 1].
    public static let std: Float = 0.3081
    /// Number of classes (digits 0…9).
    public static let numClasses = 10

    /// Image file names tried for `split`, in order, e.g. `train-images-idx3-ubyte.gz`, then the raw name.
    public static func imageFileNames(_ split: Split) -> [String] { candidates(split.filePrefix + "-images", "idx3") }
    /// Label file names tried for `split`, in order, e.g. `train-labels-idx1-ubyte.gz`, then the raw name.
    public static func labelFileNames(_ split: Split) -> [String] { candidates(split.filePrefix + "-labels", "idx1") }

    /// Reads `split`'s image file (`[n, rows, cols]`) and label file (`[n]`) from `directory`.
    /// - Throws: `CohortError.badFile` if the directory or a file is missing (listing the names looked
    ///   for), a file is malformed, has the wrong number of dimensions, a label is above 9, or the
    ///   image and label counts differ (naming both files and both counts).
    public static func readFiles(directory: String, split: Split) throws -> (images: IDXArray, labels: IDXArray) {
        guard FileBytes.isDirectory(directory) else {
            let all = Split.allCases.flatMap { [imageFileNames($0)[0], labelFileNames($0)[0]] }
            throw CohortError.badFile(path: directory, "MNIST directory not found (it should hold "
                + all.map { $0.replacingGzSuffix }.joined(separator: ", ") + ")")
        }
        let imagesPath = try find(imageFileNames(split), in: directory, what: "\(split) images")
        let labelsPath = try find(labelFileNames(split), in: directory, what: "\(split) labels")
        let images = try IDX.read(path: imagesPath, dimensions: 3)
        let labels = try IDX.read(path: labelsPath, dimensions: 1)
        guard images.shape.count == 3 else {
            throw CohortError.badFile(path: imagesPath, "expected 3-D MNIST images [n, rows, cols], "
                + "found \(images.shape.count)-D data of shape \(describeShape(images.shape))")
        }
        guard labels.shape.count == 1 else {
            throw CohortError.badFile(path: labelsPath, "expected 1-D MNIST labels [n], "
                + "found \(labels.shape.count)-D data of shape \(describeShape(labels.shape))")
        }
        guard images.count == labels.count else {
            throw CohortError.badFile(path: imagesPath, "image/label count mismatch: \(imagesPath) has \(images.count) "
                + "images but \(labelsPath) has \(labels.count) labels")
        }
        if let i = labels.bytes.firstIndex(where: { Int($0) >= numClasses }) {
            throw CohortError.badFile(path: labelsPath, "label \(labels.bytes[i]) of sample \(i) is outside 0…9")
        }
        return (images, labels)
    }

    /// Loads `split` from `directory` as a dataset named `mnist-train`/`mnist-test` with feature
    /// shape `[1, rows, cols]` (use `reshaped(featureShape: [784])` for an MLP). Pixels are scaled
    /// to [0, 1]; with `normalize`, then mapped to `(x − 0.1307) / 0.3081`.
    /// - Throws: `CohortError.badFile` as `readFiles(directory:split:)` does.
    public static func load(directory: String, split: Split, normalize: Bool = false) throws -> ClassificationDataset {
        let (images, labels) = try readFiles(directory: directory, split: split)
        // A 256-entry table makes the conversion exact and identical on every run.
        let table: [Float] = (0..<256).map { v in
            let x = Float(v) / 255
            return normalize ? (x - mean) / std : x
        }
        var features = [Float](repeating: 0, count: images.bytes.count)
        features.withUnsafeMutableBufferPointer { dst in
            images.bytes.withUnsafeBufferPointer { src in
                table.withUnsafeBufferPointer { t in
                    for i in 0..<src.count { dst[i] = t[Int(src[i])] }
                }
            }
        }
        return ClassificationDataset(unchecked: "mnist-\(split.rawValue)", features, labels.bytes.map { Int32($0) },
                                     [1] + images.itemShape, numClasses)
    }

    private static func candidates(_ stem: String, _ kind: String) -> [String] {
        let original = "\(stem)-\(kind)-ubyte", dotted = "\(stem).\(kind)-ubyte"
        return [original + ".gz", original, dotted + ".gz", dotted]
    }

    private static func find(_ names: [String], in directory: String, what: String) throws -> String {
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        if let name = names.first(where: { FileBytes.isFile(base + $0) }) { return base + name }
        throw CohortError.badFile(path: directory, "MNIST \(what) file not found: looked for "
            + names.joined(separator: ", "))
    }
}

private extension String {
    /// `x-ubyte.gz` → `x-ubyte(.gz)`, to list a file that may be compressed or not.
    var replacingGzSuffix: String { hasSuffix(".gz") ? String(dropLast(3)) + "(.gz)" : self }
}
