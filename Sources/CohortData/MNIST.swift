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

    /// Loads `split` from `directory` as a dataset named `<kind>-train`/`<kind>-test` (`kind`:
    /// `datasetName(directory:labels:)`, e.g. `mnist`, `fashion-mnist`) with feature shape
    /// `[1, rows, cols]` (use `reshaped(featureShape: [784])` for an MLP). Pixels are scaled
    /// to [0, 1]; with `normalize`, then mapped to `(x − 0.1307) / 0.3081`.
    /// - Throws: `CohortError.badFile` as `readFiles(directory:split:)` does.
    public static func load(directory: String, split: Split, normalize: Bool = false) throws -> ClassificationDataset {
        let (images, labels) = try readFiles(directory: directory, split: split)
        let kind = datasetName(directory: directory, labels: labels)
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
        var out = ClassificationDataset(unchecked: "\(kind)-\(split.rawValue)", features, labels.bytes.map { Int32($0) },
                                        [1] + images.itemShape, numClasses)
        // Raw pixels p in 0…255 become p / 255, then (that − mean) / std.
        out.preparation["normalization"] = #"{"kind":"pixels","divide":255,"mean":"# + (normalize ? "\(mean),\"std\":\(std)}" : "0,\"std\":1}")
        return out
    }

    /// SHA-256 of the (decompressed) label files of the datasets that share the MNIST format,
    /// training and test split: recognising the labels (60 KB) names the data cheaply.
    static let knownLabelDigests: [String: String] = [
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5": "mnist",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2": "mnist",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9": "fashion-mnist",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34": "fashion-mnist",
    ]

    /// What an MNIST-format directory holds: `mnist` or `fashion-mnist` when `labels` are those
    /// of the canonical files, else the directory's own name (`idx` if it has none).
    public static func datasetName(directory: String, labels: IDXArray) -> String {
        if let known = knownLabelDigests[SHA256.hex(IDX.encode(labels))] { return known }
        let base = directory.split(separator: "/").last.map(String.init) ?? ""
        return base.isEmpty || base == "." || base == ".." ? "idx" : base
    }

    /// The identity of the training split in `directory`: its name (`datasetName`) and the
    /// SHA-256 of the decompressed training image file followed by the training label file
    /// (`zcat train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz | sha256sum`).
    /// - Throws: `CohortError.badFile` as `readFiles(directory:split:)` does.
    public static func identity(directory: String) throws -> DataIdentity {
        let (images, labels) = try readFiles(directory: directory, split: .train)
        var hasher = SHA256()
        hasher.update(IDX.header(images.shape))
        images.bytes.withUnsafeBytes { hasher.update($0) }
        hasher.update(IDX.encode(labels))
        return DataIdentity(name: datasetName(directory: directory, labels: labels), sha256: hexString(hasher.finalize()))
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
