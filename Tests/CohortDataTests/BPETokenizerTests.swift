// Byte-level BPE: merges worked out by hand, the pre-split's chunks, byte-exact round
// trips of random bytes (invalid UTF-8 included), the serialized form and each way it can
// be malformed, determinism, and compression on tiny Shakespeare.
import CohortCore
import CohortData
import CohortTensor
import Foundation
import Testing

@Suite struct BPETokenizerTests {
    static let shakespeare = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/data/tiny-shakespeare/input.txt").path

    /// The error text `body` throws ("" when it does not throw).
    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    @Test func mergesOfATinyCorpusAsWorkedOutByHand() throws {
        // "aaabdaaabac" is one chunk. Pairs: aa 4, ab 2, others 1 → merge (a,a) = 256:
        // [256 a b d 256 a b a c]; now (256,a) and (a,b) both occur twice, the tie goes to the
        // smaller pair (97,98) = 257: [256 257 d 256 257 a c]; then (256,257) twice = 258:
        // [258 d 258 a c], where every pair occurs once, so training stops at 259 tokens.
        let t = try BPETokenizer.train(corpus: Array("aaabdaaabac".utf8), vocabularySize: 300)
        #expect(t.merges == [.init(97, 97), .init(97, 98), .init(256, 257)])
        #expect(t.count == 259)
        #expect(t.encode("aaabdaaabac") == [258, 100, 258, 97, 99])
        #expect(t.bytes(of: 258) == Array("aaab".utf8))
        // A smaller target stops earlier.
        #expect(try BPETokenizer.train(corpus: Array("aaabdaaabac".utf8), vocabularySize: 257).merges == [.init(97, 97)])
    }

    @Test func mergesNeverCrossChunks() throws {
        // Chunks "ab", " ab", " ab": (a,b) 3 → 256, then (space,256) 2 → 257. Without the
        // pre-split (b,space) would occur twice too; here it is never a pair.
        let t = try BPETokenizer.train(corpus: Array("ab ab ab".utf8), vocabularySize: 1000)
        #expect(t.merges == [.init(97, 98), .init(32, 256)])
        #expect(t.encode("ab ab") == [256, 257])
    }

    @Test func preSplitFollowsGPT2Classes() {
        let text = "Hello, world!  42 times\n\nok é--x"
        let chunks = BPEPreSplit.chunks(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
        #expect(chunks == ["Hello", ",", " world", "!", " ", " 42", " times", "\n\n", "ok", " é", "--", "x"])
        #expect(BPEPreSplit.chunks([]).isEmpty)
        // A run longer than 256 bytes is cut, never inside a UTF-8 character: "é" (2 bytes) would
        // straddle byte 256 here, so the first piece ends before it.
        let long = Array((String(repeating: "a", count: 255) + String(repeating: "é", count: 300)).utf8)
        let pieces = BPEPreSplit.chunks(long)
        #expect(pieces.map(\.count) == [255, 256, 256, 88])
        #expect(pieces.allSatisfy { String(validating: Array($0), as: UTF8.self) != nil })
    }

    @Test func textWithoutSpacesEncodesQuickly() throws {
        // One 200 kB "word": without the cut, each merge would rescan all of it.
        let t = try BPETokenizer.train(corpus: Array(String(repeating: "abcab", count: 400).utf8), vocabularySize: 300)
        let word = Array(String(repeating: "abcabcab", count: 25_000).utf8)
        let start = Date()
        #expect(try t.decodeBytes(t.encode(word)) == word)
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func randomBytesRoundTripExactly() throws {
        let corpus = Array("the cat sat on the mat; the rat ate the cat's hat. 1234 5678\n".utf8)
        let t = try BPETokenizer.train(corpus: corpus + corpus + corpus, vocabularySize: 320)
        var g = SplitMix64(seed: 42)
        for length in [0, 1, 2, 7, 100, 1000] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: g.next()) }
            #expect(try t.decodeBytes(t.encode(bytes)) == bytes, "length \(length)")
        }
        // Invalid UTF-8 (a lone continuation byte, a cut-off sequence, 0xFF) and bytes the corpus lacks.
        let odd: [UInt8] = [0x80, 0x74, 0x68, 0x65, 0xC3, 0x20, 0xFF, 0xFE, 0x00, 0x63, 0x61, 0x74, 0xE2, 0x82]
        #expect(try t.decodeBytes(t.encode(odd)) == odd)
        let text = "the cat — naïve 🐈 sat"
        #expect(try t.decode(t.encode(text)) == text)
        #expect(throws: CohortError.self) { try t.decode([Int32(t.count)]) }
    }

    @Test func serializedFormRoundTripsAndMalformedFormsAreClearErrors() throws {
        let t = try BPETokenizer.train(corpus: Array("aaabdaaabac".utf8), vocabularySize: 300)
        #expect(t.serialized == "bpe1:259:" + "00610061" + "00610062" + "01000101")
        #expect(try BPETokenizer(serialized: t.serialized) == t)
        #expect(try TextTokenizer(serialized: t.serialized) == .bpe(t))
        let bytes = CharTokenizer(corpus: Array("hello".utf8))
        #expect(try TextTokenizer(serialized: bytes.serialized) == .bytes(bytes))   // the hex form of older checkpoints

        #expect(message { _ = try TextTokenizer(serialized: "bpe2:259:00610061") }.contains("unknown form 'bpe2:'"))
        #expect(message { _ = try BPETokenizer(serialized: "6162") }.contains("does not start with bpe1:"))
        #expect(message { _ = try BPETokenizer(serialized: "bpe1:00610061") }.contains("token count"))
        #expect(message { _ = try BPETokenizer(serialized: "bpe1:255:") }.contains("token count"))
        #expect(message { _ = try BPETokenizer(serialized: String(t.serialized.dropLast(3))) }.contains("truncated"))
        #expect(message { _ = try BPETokenizer(serialized: String(t.serialized.dropLast(8))) }.contains("truncated"))   // a whole merge short
        #expect(message { _ = try BPETokenizer(serialized: t.serialized + "00") }.contains("truncated"))
        #expect(message { _ = try BPETokenizer(serialized: "bpe1:257:0061006g") }.contains("not a lower-case hex digit"))
        // Merge 0 (token 256) may only use the bytes 0…255.
        #expect(message { _ = try BPETokenizer(serialized: "bpe1:257:01000061") }.contains("references id 256"))
        #expect(message { _ = try BPETokenizer(serialized: "bpe1:258:0061006200610062") }.contains("repeats the pair"))
        #expect(throws: CohortError.self) { try BPETokenizer.train(corpus: [1, 2], vocabularySize: 256) }
    }

    @Test func choiceParsesTheFlag() throws {
        #expect(try TokenizerChoice(parsing: "bytes") == .bytes)
        #expect(try TokenizerChoice(parsing: "bpe:512") == .bpe(vocabularySize: 512))
        for bad in ["bpe", "bpe:256", "bpe:x", "bpe:70000", "chars"] {
            #expect(message { _ = try TokenizerChoice(parsing: bad) }.contains("--tokenizer"), "\(bad)")
        }
    }

    @Test func trainingIsDeterministicAndCompressesShakespeare() throws {
        guard FileManager.default.fileExists(atPath: Self.shakespeare) else { return }
        let corpus = try TextCorpus.load(path: Self.shakespeare)
        let a = try BPETokenizer.train(corpus: corpus, vocabularySize: 512)
        let b = try BPETokenizer.train(corpus: corpus, vocabularySize: 512)
        #expect(a.count == 512 && a == b && a.serialized == b.serialized)
        // Measured: 1,115,394 bytes → 571,080 tokens at 512 (1.95 bytes per token; 2.88 at 2,048).
        // The bound fails if compression drops by 3 % (bytes alone: 1.0 per token).
        let ids = a.encode(corpus)
        #expect(Double(ids.count) < Double(corpus.count) / 1.9, "\(ids.count) tokens for \(corpus.count) bytes")
        #expect(try a.decodeBytes(ids) == corpus)
        // The first merges are the corpus's most frequent pairs: " t", then "he".
        #expect(a.bytes(of: 256) == Array(" t".utf8) && a.bytes(of: 257) == Array("he".utf8))
    }
}
