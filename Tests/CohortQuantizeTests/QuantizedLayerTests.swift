// Quantized layers against their fp32 originals on random inputs (the error a
// per-channel int8 weight and per-sample int8 activation may make), static
// calibration, half-precision rounding, and the .cq file: a written model reads
// back to bitwise the same outputs; a file that does not fit is a clear error.
import CohortCore
import CohortData
import CohortNN
import CohortQuantize
import CohortTensor
import Foundation
import Testing

@Suite struct QuantizedLayerTests {
    /// max |a − b| / max |b|.
    static func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        let (x, y) = (a.contiguous().scalars, b.contiguous().scalars)
        precondition(x.count == y.count)
        let scale = y.map(abs).max() ?? 1
        return zip(x, y).map { abs($0 - $1) }.max()! / max(scale, 1e-12)
    }

    @Test func linearIsCloseToFP32() throws {
        var g = RandomGenerator(seed: 3)
        let layer = Linear(97, 33, generator: &g)
        let x = Tensor.randn([5, 97], generator: &g)
        let q = QuantizedLinear(layer)
        let err = Self.relativeError(try q(x), try layer(x))
        #expect(err < 0.02, "relative error \(err)")
        #expect(try q(x).shape == [5, 33])
        // A sample's result does not depend on the rest of the batch (per-sample scales).
        let alone = try q(try Tensor(Array(x.scalars[97..<194]), shape: [1, 97]))
        #expect(alone.scalars == Array(try q(x).scalars[33..<66]))
        #expect(throws: CohortError.self) { _ = try q(Tensor.zeros([2, 96])) }
    }

    @Test(arguments: [(stride: 1, padding: 0, dilation: 1, relu: false, pool: nil as Int?), (2, 1, 1, false, nil), (1, 2, 2, true, nil), (1, 1, 1, true, 2)])
    func convIsCloseToFP32(_ c: (stride: Int, padding: Int, dilation: Int, relu: Bool, pool: Int?)) throws {
        var g = RandomGenerator(seed: 5)
        let conv = try Conv2d(3, 8, kernelSize: IntOrPair(3, 2), stride: IntOrPair(c.stride), padding: IntOrPair(c.padding),
                              dilation: IntOrPair(c.dilation), fuseReLU: c.relu, fuseMaxPool: c.pool, generator: &g)
        let x = Tensor.randn([2, 3, 11, 9], generator: &g)
        let want = try conv(x)
        let dynamic = try QuantizedConv2d(conv)
        let got = try dynamic(x)
        #expect(got.shape == want.shape)
        let err = Self.relativeError(got, want)
        #expect(err < 0.03, "dynamic: relative error \(err) for \(c)")
        let maxAbs = x.scalars.map(abs).max()!
        let fixed = try QuantizedConv2d(conv, inputScale: maxAbs / 127)
        #expect(Self.relativeError(try fixed(x), want) < 0.03)
        // A bad input shape names the layer.
        #expect(throws: CohortError.self) { _ = try dynamic(Tensor.zeros([2, 4, 11, 9])) }
    }

    @Test func staticCalibrationFixesEachConvolutionsScale() throws {
        var g = RandomGenerator(seed: 9)
        let model = ConvModels.leNet(classes: 10, generator: &g)
        model.eval()
        let batches = [Tensor.rand([4, 784], generator: &g), Tensor.rand([4, 784], low: 0, high: 2, generator: &g)]
        let q = try Quantizer.quantize(model, mode: .static, calibration: batches)
        let convs = QuantizedFile.quantizedLayers(q).compactMap { $0.layer as? QuantizedConv2d }
        #expect(convs.count == 2)
        let first = try #require(convs.first?.inputScale)
        #expect(abs(first - batches[1].scalars.max()! / 127) < 1e-6)
        #expect(convs[1].inputScale != nil)
        #expect(Self.relativeError(try q(batches[0]), try model(batches[0])) < 0.05)
        #expect(throws: CohortError.self) { _ = try Quantizer.quantize(model, mode: .static, calibration: []) }
    }

    @Test func fileRoundTripIsExact() throws {
        var g = RandomGenerator(seed: 11)
        let model = ConvModels.leNet(classes: 10, generator: &g)
        model.eval()
        let x = Tensor.rand([3, 784], generator: &g)
        let q = try Quantizer.quantize(model, mode: .static, calibration: [x])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cq-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.cq"
        try QuantizedFile.write(q, dtype: .int8, mode: .static, metadata: [("model", "cnn")], to: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata["quantization.layers"] == "1:conv2d,2:conv2d,4:linear,6:linear")
        #expect(file.entries.first { $0.name == "1.weight" }?.dtype == "I8")
        var g2 = RandomGenerator(seed: 99)
        let loaded = try QuantizedFile.restore(ConvModels.leNet(classes: 10, generator: &g2), from: file)
        #expect(try loaded(x).scalars == (try q(x)).scalars)

        // A model of other sizes does not fit: the error names the file and the tensor.
        do {
            _ = try QuantizedFile.restore(ConvModels.leNet(classes: 7, generator: &g2), from: file)
            Issue.record("a 7-class model loaded a 10-class file")
        } catch let e as CohortError {
            #expect("\(e)".contains(path) && "\(e)".contains("'6.weight'"), "\(e)")
        }
    }

    @Test func resNetKeepsItsBlocksAndBuffersThroughTheFile() throws {
        var g = RandomGenerator(seed: 12)
        let model = try ConvModels.resNet(classes: 10, generator: &g)
        model.eval()
        let x = Tensor.rand([2, 784], generator: &g)
        let q = try Quantizer.quantize(model)
        // The stem convolution and the head are int8; residual blocks stay fp32 (not entered).
        #expect(QuantizedFile.quantizedLayers(q).count == 2)
        let err = Self.relativeError(try q(x), try model(x))
        #expect(err < 0.05, "relative error \(err)")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("resnet-\(getpid()).cq").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try QuantizedFile.write(q, dtype: .int8, mode: .dynamic, metadata: [], to: path)
        var g2 = RandomGenerator(seed: 77)
        let loaded = try QuantizedFile.restore(try ConvModels.resNet(classes: 10, generator: &g2), from: try SafetensorsFile(path: path))
        #expect(try loaded(x).scalars == (try q(x)).scalars)
        #expect(throws: CohortError.self) { _ = try QuantizedFile.restore(ZooFree.mlp(&g2), from: try SafetensorsFile(path: path)) }
    }

    @Test(arguments: [QuantizedDType.bf16, .fp16]) func halfWeightsRoundAndReload(_ dtype: QuantizedDType) throws {
        var g = RandomGenerator(seed: 13)
        let model = ZooFree.mlp(&g)
        let x = Tensor.randn([4, 20], generator: &g)
        let before = try model(x)
        try Quantizer.roundParameters(model, to: dtype)
        let after = try model(x)
        let err = Self.relativeError(after, before)
        #expect(err > 0 && err < (dtype == .bf16 ? 0.03 : 0.003), "\(dtype): relative error \(err)")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("half-\(getpid())-\(dtype).cq").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = try QuantizedFile.write(model, dtype: dtype, mode: .dynamic, metadata: [], to: path)
        let file = try SafetensorsFile(path: path)
        #expect(file.entries.allSatisfy { $0.dtype == (dtype == .bf16 ? "BF16" : "F16") })
        #expect(file.entries.reduce(0) { $0 + $1.byteRange.count } == 2 * model.parameterCount && bytes > 2 * model.parameterCount)
        var g2 = RandomGenerator(seed: 1)
        let loaded = try QuantizedFile.restore(ZooFree.mlp(&g2), from: file)
        #expect(try loaded(x).scalars == after.scalars)
    }
}

/// A small MLP built without the model zoo.
enum ZooFree {
    static func mlp(_ g: inout RandomGenerator) -> Sequential {
        Sequential([Linear(20, 16, generator: &g), ReLU(), Linear(16, 3, generator: &g)])
    }
}
