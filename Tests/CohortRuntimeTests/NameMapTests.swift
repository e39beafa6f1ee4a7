// Name maps: built-in torch names for each model, map files (YAML and TOML) with
// transposes, ignored and tied names, and strict-load errors that name the source's
// tensors; a tied tensor that differs is refused by name.
import CohortCheckpoint
import CohortCore
import CohortNN
import CohortRuntime
import CohortTensor
import Foundation
import Testing

@Suite struct NameMapTests {
    func names(_ map: NameMap, _ cohort: [String]) -> [String] { cohort.map { map.external($0).name } }

    @Test func builtInTorchNamesMatchThePeers() throws {
        let mlp = try NameMap.torch(model: "mlp", settings: ["hidden": "1024,1024"])
        #expect(names(mlp, ["1.weight", "1.bias", "3.weight", "5.bias"]) == ["0.weight", "0.bias", "2.weight", "4.bias"])
        let cnn = try NameMap.torch(model: "cnn", settings: [:])
        #expect(names(cnn, ["1.weight", "2.bias", "4.weight", "6.bias"]) == ["0.weight", "3.bias", "7.weight", "9.bias"])
        let gpt = try NameMap.torch(model: "gpt", settings: [:])
        #expect(names(gpt, ["h.3.mlp.c_fc.weight", "h.0.mlp.c_proj.bias", "h.0.attn.c_proj.weight", "wte.weight"])
                == ["h.3.mlp.0.weight", "h.0.mlp.2.bias", "h.0.attn.c_proj.weight", "wte.weight"])
        let lstm = try NameMap.torch(model: "lstm", settings: [:])
        #expect(names(lstm, ["embedding.weight", "lstm.weight_ih_l0", "head.bias"]) == ["emb.weight", "lstm.weight_ih_l0", "head.bias"])
        #expect(try NameMap.torch(model: "resnet", settings: [:]).ignores("2.num_batches_tracked"))
        #expect(throws: CohortError.self) { try NameMap.named("keras", model: "mlp", settings: [:]) }
    }

    @Test func mapFilesInYAMLAndTOMLTransposeIgnoreAndTie() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("namemap-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = dir.appendingPathComponent("m.yaml").path, toml = dir.appendingPathComponent("m.toml").path
        try """
        first:
          match: '^(\\d+)\\.weight$'
          replace: 'layer\\1.w'
          transpose: true
        extra:
          ignore: 'mask$'
        head:
          tie: out.w
          to: 0.weight
        """.write(toFile: yaml, atomically: true, encoding: .utf8)
        try """
        [first]
        match = '^(\\d+)\\.weight$'
        replace = 'layer$1.w'
        transpose = true
        [extra]
        ignore = 'mask$'
        [head]
        tie = "out.w"
        to = "0.weight"
        """.write(toFile: toml, atomically: true, encoding: .utf8)
        for path in [yaml, toml] {
            let map = try NameMap.named(path, model: "mlp", settings: [:])
            #expect(map.external("0.weight") == ("layer0.w", true))
            #expect(map.external("0.bias") == ("0.bias", false))
            let source = [NamedArray(name: "layer0.w", shape: [3, 2], values: [1, 2, 3, 4, 5, 6]),
                          NamedArray(name: "out.w", shape: [3, 2], values: [1, 2, 3, 4, 5, 6]),
                          NamedArray(name: "attn.mask", shape: [1], values: [1])]
            let mapped = try map.importing(source, modelNames: ["0.weight"], source: "s")
            #expect(mapped.arrays == [NamedArray(name: "0.weight", shape: [2, 3], values: [1, 3, 5, 2, 4, 6])])
            #expect(mapped.notes.count == 2)
            var differing = source
            differing[1].values[0] = 9
            #expect(throws: CohortError.self) { try map.importing(differing, modelNames: ["0.weight"], source: "s") }
        }
        let bad = dir.appendingPathComponent("bad.toml").path
        try "[r]\nmatch = '('\nreplace = 'x'\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(throws: CohortError.self) { try NameMap.read(bad) }
    }

    @Test func strictErrorsNameTheSourceNames() throws {
        var g = RandomGenerator(seed: 1)
        let spec = ModelSpec(name: "lstm", hidden: [8], layers: 1, heads: 4, dModel: 256, embedding: 4)
        let net = try ModelZoo.build(spec, shape: ModelShape(inputs: 5, outputs: 7, sequence: true), generator: &g)
        let map = try NameMap.torch(model: "lstm", settings: [:])
        let source = [NamedArray(name: "embedding.weight", shape: [7, 4], values: .init(repeating: 0, count: 28)),
                      NamedArray(name: "head.bias", shape: [3], values: [0, 0, 0])]
        let mapped = try map.importing(source, modelNames: net.namedParameters().map(\.name), source: "s")
        do {
            try net.load(mapped.arrays, strict: true, source: "s", sourceNames: mapped.sourceNames)
            Issue.record("a strict load of a partial source succeeded")
        } catch let CohortError.invalidParameter(_, message) {
            #expect(message.contains("missing: the model's embedding.weight (emb.weight in the source) has no value"), "\(message)")
            #expect(message.contains("unexpected: the source's embedding.weight"), "\(message)")
            #expect(message.contains("shape mismatch: head.bias is [7] in the model, [3] in the source"), "\(message)")
            #expect(message.contains("missing: the model's lstm.weight_ih_l0 has no value"), "\(message)")
        }
    }

    @Test func anUntiedGPTHeadIsRefusedByName() throws {
        let map = try NameMap.torch(model: "gpt", settings: [:])
        let wte = NamedArray(name: "wte.weight", shape: [2, 2], values: [1, 2, 3, 4])
        var head = NamedArray(name: "lm_head.weight", shape: [2, 2], values: [1, 2, 3, 4])
        let tied = try map.importing([wte, head], modelNames: ["wte.weight"], source: "s")
        #expect(tied.arrays == [wte])
        head.values[3] = 5
        do {
            _ = try map.importing([wte, head], modelNames: ["wte.weight"], source: "s")
            Issue.record("an untied lm_head.weight was accepted")
        } catch let CohortError.invalidParameter(name, message) {
            #expect(name == "nameMap" && message.contains("lm_head.weight differs from wte.weight"), "\(message)")
        }
        // A source holding only the head's copy loads it as the embedding.
        head.values[3] = 4
        #expect(try map.importing([head], modelNames: ["wte.weight"], source: "s").arrays == [wte])
    }
}
