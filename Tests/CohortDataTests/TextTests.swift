// Text for language models: the tokenizer round-trips and survives
// serialisation, windows line inputs up with next-token targets, the real tiny
// Shakespeare corpus has its documented 65 characters, and the addition corpus
// holds out problems, reverses sums and masks everything but the answer.
import CohortCore
import CohortData
import CohortTensor
import Foundation
import Testing

@Suite struct TextTests {
    @Test func tokenizerRoundTripsAndSerializes() throws {
        let t = CharTokenizer(corpus: Array("hello, world\n".utf8))
        #expect(t.count == 10)
        let ids = try t.encode("world, hello\n")
        #expect(try t.decode(ids) == "world, hello\n")
        #expect(try CharTokenizer(serialized: t.serialized) == t)
        #expect(throws: CohortError.self) { try t.encode("hello!") }
        #expect(throws: CohortError.self) { try t.decode([99]) }
        #expect(throws: CohortError.self) { try CharTokenizer(serialized: "zz") }
        #expect(throws: CohortError.self) { try CharTokenizer(vocabulary: [1, 2, 1]) }
    }

    @Test func windowsPairInputsWithNextTokens() throws {
        let w = try TokenWindows(name: "toy", tokens: (0..<20).map { Int32($0) }, context: 4, stride: 3, vocabularySize: 20)
        #expect(w.count == 6)     // starts 0, 3, 6, 9, 12, 15 (15 + 5 = 20 tokens)
        let (x, y) = w.makeBatch(indices: [1, 5])
        #expect(x.shape == [2, 4])
        #expect(x.scalars == [3, 4, 5, 6, 15, 16, 17, 18])
        #expect(y == [4, 5, 6, 7, 16, 17, 18, 19])
        #expect(throws: CohortError.self) { try TokenWindows(name: "short", tokens: [1, 2], context: 4, vocabularySize: 3) }
    }

    @Test func tinyShakespeareHas65Characters() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data/tiny-shakespeare/input.txt").path
        guard FileManager.default.fileExists(atPath: path) else { return }
        let bytes = try TextCorpus.load(path: path)
        #expect(bytes.count == 1_115_394)
        #expect(CharTokenizer(corpus: bytes).count == 65)
        #expect(throws: CohortError.self) { try TextCorpus.load(path: path + ".missing") }
    }

    @Test func additionHoldsOutProblemsAndMasksAllButTheAnswer() throws {
        let (train, test) = try AdditionProblems.make(digits: 3, train: 5000, test: 500, seed: 7)
        #expect(train.count == 5000 && test.count == 500)
        let held = Set(test.pairs.map { $0.0 * 1000 + $0.1 })
        #expect(!train.pairs.contains { held.contains($0.0 * 1000 + $0.1) })
        // Sums are written least-significant digit first, zero-padded.
        for i in 0..<50 {
            let (a, b) = train.pairs[i]
            let (prompt, answer) = train.prompt(i)
            #expect(prompt.count == 8 && prompt.hasSuffix("="))
            #expect(Int(String(answer.reversed())) == a + b, "\(train.text(i))")
            #expect(train.text(i).count == train.length)
        }
        let (x, y) = train.makeBatch(indices: [0, 1])
        #expect(x.shape == [2, 12])
        let ids = try AdditionProblems.tokenizer.encode(train.text(1))
        // Targets: -100 until the model has read '=' (position 7), then the answer and the newline.
        #expect(Array(y[12..<19]) == Array(repeating: -100, count: 7))
        #expect(Array(y[19..<24]) == ids[8..<13].map { Int($0) })
        #expect(throws: CohortError.self) { try AdditionProblems.make(digits: 1, train: 90, test: 20, seed: 0) }
    }
}
