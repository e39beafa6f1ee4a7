// Module.load: named arrays into parameters and buffers, as PyTorch's load_state_dict —
// an exact load, a strict load that names every missing, unexpected and mismatched
// tensor and changes nothing, a non-strict load of what matches, and loads into a
// model whose parameters live in a ParameterArena (written in place).
import CohortCore
import CohortNN
import CohortTensor
import Testing

@Suite struct StateDictTests {
    /// Linear(3→2), BatchNorm1d(2), Linear(2→1): parameters 0.weight 0.bias 1.weight 1.bias 2.weight 2.bias,
    /// buffers 1.running_mean 1.running_var.
    static func model() -> Sequential {
        var g = RandomGenerator(seed: 3)
        return Sequential([Linear(3, 2, generator: &g), BatchNorm1d(2), Linear(2, 1, generator: &g)])
    }

    /// The model's own tensors as arrays, each value replaced by `value(name, index)`.
    static func arrays(of m: any Module, _ value: (String, Int) -> Float) -> [NamedArray] {
        (m.namedParameters() + m.namedBuffers()).map { n, t in
            NamedArray(name: n, shape: t.shape, values: (0..<t.count).map { value(n, $0) })
        }
    }

    @Test func exactLoadWritesEveryParameterAndBuffer() throws {
        let m = Self.model()
        let source = Self.arrays(of: m) { name, i in Float(name.count * 10 + i) }
        let report = try m.load(source, source: "weights.safetensors")
        #expect(report.isExact && report.loaded.count == 8 && report.problems.isEmpty)
        for a in source {
            let t = try #require((m.namedParameters() + m.namedBuffers()).first { $0.name == a.name }?.tensor)
            #expect(t.scalars == a.values, "\(a.name)")
        }
    }

    @Test func strictLoadNamesEveryProblemAndChangesNothing() throws {
        let m = Self.model()
        let before = m.parameters().map(\.scalars)
        var source = Self.arrays(of: m) { _, _ in 7 }.filter { $0.name != "1.running_var" }   // missing
        source.append(NamedArray(name: "3.weight", shape: [1], values: [1]))                   // unexpected
        source[0] = NamedArray(name: "0.weight", shape: [3, 2], values: Array(repeating: 1, count: 6))   // transposed
        do {
            try m.load(source, source: "w.npz")
            Issue.record("a strict load with problems succeeded")
        } catch CohortError.invalidParameter(name: "strict", let message) {
            #expect(message.hasPrefix("w.npz does not load strictly into this model (3 problems"), "\(message)")
            #expect(message.contains("missing: the model's 1.running_var has no value in the source"), "\(message)")
            #expect(message.contains("unexpected: the source's 3.weight matches no model tensor"), "\(message)")
            #expect(message.contains("shape mismatch: 0.weight is [2, 3] in the model, [3, 2] in the source"), "\(message)")
        }
        #expect(m.parameters().map(\.scalars) == before)
    }

    @Test func nonStrictLoadTakesWhatMatches() throws {
        let m = Self.model()
        let oldHead = m.namedParameters().first { $0.name == "2.weight" }!.tensor.scalars
        let source = Self.arrays(of: m) { _, _ in 0.5 }.filter { !$0.name.hasPrefix("2.") }
            + [NamedArray(name: "2.weight", shape: [5, 2], values: Array(repeating: 1, count: 10))]
        let report = try m.load(source, strict: false, source: "pretrained")
        #expect(report.loaded == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"])
        #expect(report.missing == ["2.bias"] && report.unexpected.isEmpty)
        #expect(report.mismatched == [.init(name: "2.weight", modelShape: [1, 2], sourceShape: [5, 2])])
        #expect(m.namedParameters().first { $0.name == "2.weight" }!.tensor.scalars == oldHead)
        #expect(m.namedParameters().first { $0.name == "0.bias" }!.tensor.scalars == [0.5, 0.5])
    }

    @Test func loadWritesIntoTheArenaAndRefusesDuplicates() throws {
        let m = Self.model()
        let arena = ParameterArena(m)
        let source = Self.arrays(of: m) { _, i in Float(i) + 0.25 }
        try m.load(source, source: "ckpt")
        let entry = try #require(arena.entries.first { $0.name == "0.weight" })
        #expect((0..<6).map { arena.values.pointer[entry.offset + $0] } == (0..<6).map { Float($0) + 0.25 })
        #expect(throws: CohortError.invalidArgument("twice: 0.bias is listed twice")) {
            try m.load(source + [source[1]], source: "twice")
        }
    }
}
