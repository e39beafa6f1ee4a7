// The new layers against PyTorch on fixed inputs and weights: Tests/Support/torch_layers.py
// runs in the reference venv and prints torch's outputs for ConvTranspose2d (several
// configurations), Upsample (nearest, bilinear), Conv1d and the activations with each
// case's parameters; Cohort's modules, given the same weights, must agree within 1e-4.
// A missing venv or torch is a failure, not a skip.
import CohortCore
import CohortNN
import CohortProcess
import CohortProcessTestSupport
import CohortTensor
import CohortTestSupport
import Foundation
import Testing

@Suite struct TorchLayerTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = repo.appendingPathComponent("Tests/Support/torch_layers.py").path

    /// Element i of a tensor with `seed`: float32(scale·sin(0.731·i + 1.37·seed)), as the script computes it.
    static func fixed(_ spec: Any?) throws -> Tensor? {
        guard let s = spec as? [Any], let shape = s[0] as? [Int], let seed = s[1] as? Int, let scale = s[2] as? Double else { return nil }
        let n = shape.reduce(1, *)
        return try Tensor((0..<n).map { Float(scale * Foundation.sin(0.731 * Double($0) + 1.37 * Double(seed))) }, shape: shape)
    }

    static func pair(_ v: Any?) -> IntOrPair {
        let a = v as? [Int] ?? [1, 1]
        return IntOrPair(a[0], a[1])
    }

    /// Cohort's module for one case, its parameters set to the case's weights.
    static func module(_ c: [String: Any], input x: Tensor) throws -> any Module {
        let p = c["params"] as? [String: Any] ?? [:]
        let w = try fixed(c["weight"]), b = try fixed(c["bias"])
        var gen = RandomGenerator(seed: 1)
        func float(_ k: String, _ d: Float) -> Float { (p[k] as? Double).map(Float.init) ?? d }
        switch c["op"] as? String ?? "" {
        case "convTranspose2d":
            let w = w!, groups = p["groups"] as! Int
            let m = try ConvTranspose2d(w.shape[0], w.shape[1] * groups, kernelSize: IntOrPair(w.shape[2], w.shape[3]),
                                        stride: pair(p["stride"]), padding: pair(p["padding"]), outputPadding: pair(p["output_padding"]),
                                        groups: groups, bias: b != nil, dilation: pair(p["dilation"]), generator: &gen)
            try m.weight.assign(w)
            if let b { try m.bias!.assign(b) }
            return m
        case "conv1d":
            let w = w!, groups = p["groups"] as! Int
            let m = try Conv1d(w.shape[1] * groups, w.shape[0], kernelSize: w.shape[2], stride: p["stride"] as! Int,
                               padding: p["padding"] as! Int, dilation: p["dilation"] as! Int, groups: groups, bias: b != nil, generator: &gen)
            try m.weight.assign(w)
            if let b { try m.bias!.assign(b) }
            return m
        case "upsample":
            let size = (p["size"] as? [Int]).map { IntOrPair($0[0], $0[1]) }
            return try Upsample(size: size, scaleFactor: (p["scale_factor"] as? Double).map(Float.init),
                                mode: UpsampleMode(rawValue: p["mode"] as! String)!)
        case "LeakyReLU": return LeakyReLU(negativeSlope: float("negative_slope", 0.01))
        case "ELU": return ELU(alpha: float("alpha", 1))
        case "SiLU": return SiLU()
        case "Softplus": return Softplus(beta: float("beta", 1), threshold: float("threshold", 20))
        case "Mish": return Mish()
        case "PReLU":
            let m = try PReLU(numParameters: w!.count)
            try m.weight.assign(w!)
            return m
        default: throw CohortError.invalidArgument("torch_layers.py: unknown op \(c["op"] ?? "nil")")
        }
    }

    @Test func matchesPyTorch() throws {
        #expect(FileManager.default.isExecutableFile(atPath: ReferenceVenv.python),
                "reference venv missing: \(ReferenceVenv.python) (run `make deps`)")
        let r = try runChild([ReferenceVenv.python, Self.script], stdout: .capture, stderr: .capture)
        let out = String(decoding: r.stdout, as: UTF8.self), err = String(decoding: r.stderr, as: UTF8.self)
        guard r.status.succeeded, let json = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
              let cases = json["cases"] as? [[String: Any]] else {
            Issue.record("torch_layers.py failed (\(r.status)): \(out.prefix(500))\n\(err)")
            return
        }
        #expect(cases.count == 26)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let x = try Self.fixed(c["input"])!
            let y = try Self.module(c, input: x).forward(x)
            #expect(y.shape == c["shape"] as? [Int], "\(name)")
            let expected = (c["output"] as? [Double] ?? []).map(Float.init)
            guard y.count == expected.count else { continue }
            assertClose(y.scalars, expected, atol: 1e-4, rtol: 1e-5, name)
        }
    }
}
