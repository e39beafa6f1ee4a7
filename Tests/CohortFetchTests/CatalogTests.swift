// The dataset table (names, URLs, mirror layout) and the progress text.
import CohortFetch
import Foundation
import Testing

@Suite struct CatalogTests {
    @Test func knownDatasets() {
        #expect(DatasetCatalog.names == ["mnist", "fashion-mnist", "tiny-shakespeare"])
        #expect(DatasetCatalog.dataset(named: "cifar10") == nil)
        #expect(DatasetCatalog.mnist.files.map(\.name).sorted() ==
                ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"])
        for d in DatasetCatalog.all {
            for f in d.files { #expect(f.sha256.count == 64 && f.sha256 == f.sha256.lowercased()) }
        }
    }

    @Test func upstreamAndMirrorURLs() {
        let m = DatasetCatalog.mnist, f = m.files[0]
        #expect(m.url(of: f) == "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz")
        #expect(m.url(of: f, mirror: "http://host:8000/data/") == "http://host:8000/data/mnist/t10k-labels-idx1-ubyte.gz")
        let t = DatasetCatalog.tinyShakespeare
        #expect(t.url(of: t.files[0]) == "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt")
        let fm = DatasetCatalog.fashionMNIST
        #expect(fm.url(of: fm.files[3]) == "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz")
    }

    /// The table agrees with the shared copies in size (the download tests check digests).
    @Test func sizesMatchSharedCopies() throws {
        for d in DatasetCatalog.all {
            for f in d.files {
                let path = TestServer.sharedData + "/" + d.name + "/" + f.name
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                #expect(Int64(data.count) == f.size, "\(path)")
            }
        }
    }

    @Test func progressText() {
        #expect(ProgressText.bytes(512) == "512 B")
        #expect(ProgressText.bytes(9_912_422) == "9.5 MiB")
        #expect(ProgressText.rate(2 * 1_048_576, seconds: 2) == "1.0 MiB/s")
        #expect(ProgressText.bar(name: "x", received: 50, total: 100, bytesPerSecond: 1024, width: 10)
                == "x  [#####.....]  50%  50 B / 100 B  1.0 KiB/s")
        #expect(ProgressText.bar(name: "x", received: 50, total: nil, bytesPerSecond: 0) == "x  50 B  -")
    }
}
