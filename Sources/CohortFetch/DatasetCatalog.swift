// The datasets `cohort data download` knows: where each file lives upstream, its
// size and its SHA-256. The digests are those of the canonical files (the copies
// in ../shared/data are byte-identical; their READMEs give the provenance).
import Foundation

/// One file of a dataset, checked by size and SHA-256 after download.
public struct RemoteFile: Sendable, Equatable {
    /// File name, kept as is on disk (`train-images-idx3-ubyte.gz`, `input.txt`).
    public var name: String
    /// Size in bytes of the canonical file.
    public var size: Int64
    /// Lower-case hexadecimal SHA-256 of the canonical file.
    public var sha256: String

    /// A file of `size` bytes whose SHA-256 is `sha256` (lower-case hex).
    public init(name: String, size: Int64, sha256: String) {
        self.name = name
        self.size = size
        self.sha256 = sha256
    }
}

/// A downloadable dataset: a name, the base URL its files are fetched from, and its files.
public struct DatasetSource: Sendable, Equatable {
    /// Name on the command line and directory name under a mirror (`mnist`).
    public var name: String
    /// Upstream base URL; a file is fetched from `baseURL/<file name>`.
    public var baseURL: String
    /// The files, in download order (smallest first, so a broken mirror fails fast).
    public var files: [RemoteFile]

    /// The URL of `file`: `baseURL/<name>`, or `mirror/<dataset>/<name>` when a mirror is given.
    public func url(of file: RemoteFile, mirror: String? = nil) -> String {
        if let mirror {
            return Self.trimmingSlashes(mirror) + "/" + name + "/" + file.name
        }
        return Self.trimmingSlashes(baseURL) + "/" + file.name
    }

    private static func trimmingSlashes(_ s: String) -> String {
        var s = Substring(s)
        while s.hasSuffix("/") { s = s.dropLast() }
        return String(s)
    }
}

/// The built-in table of datasets (`DatasetCatalog.all`).
public enum DatasetCatalog {
    /// Every known dataset, in the order `cohort data download --help` lists them.
    public static let all: [DatasetSource] = [mnist, fashionMNIST, tinyShakespeare]

    /// Names of the known datasets, for error messages.
    public static var names: [String] { all.map(\.name) }

    /// The dataset called `name` (exact, lower-case), or nil.
    public static func dataset(named name: String) -> DatasetSource? {
        all.first { $0.name == name }
    }

    /// MNIST from the S3 mirror torchvision uses (yann.lecun.com no longer serves it reliably).
    public static let mnist = DatasetSource(
        name: "mnist",
        baseURL: "https://ossci-datasets.s3.amazonaws.com/mnist",
        files: [
            RemoteFile(name: "t10k-labels-idx1-ubyte.gz", size: 4_542,
                       sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
            RemoteFile(name: "train-labels-idx1-ubyte.gz", size: 28_881,
                       sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
            RemoteFile(name: "t10k-images-idx3-ubyte.gz", size: 1_648_877,
                       sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
            RemoteFile(name: "train-images-idx3-ubyte.gz", size: 9_912_422,
                       sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
        ])

    /// Fashion-MNIST from Zalando's S3 website bucket (plain HTTP upstream; the digest guards it).
    public static let fashionMNIST = DatasetSource(
        name: "fashion-mnist",
        baseURL: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
        files: [
            RemoteFile(name: "t10k-labels-idx1-ubyte.gz", size: 5_148,
                       sha256: "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
            RemoteFile(name: "train-labels-idx1-ubyte.gz", size: 29_515,
                       sha256: "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
            RemoteFile(name: "t10k-images-idx3-ubyte.gz", size: 4_422_102,
                       sha256: "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
            RemoteFile(name: "train-images-idx3-ubyte.gz", size: 26_421_880,
                       sha256: "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
        ])

    /// Karpathy's tiny Shakespeare from the char-rnn repository.
    public static let tinyShakespeare = DatasetSource(
        name: "tiny-shakespeare",
        baseURL: "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare",
        files: [
            RemoteFile(name: "input.txt", size: 1_115_394,
                       sha256: "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),
        ])
}
