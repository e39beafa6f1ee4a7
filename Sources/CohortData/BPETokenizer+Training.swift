// Training a byte-level BPE tokenizer on a corpus: count each distinct chunk of the
// pre-split once, then merge over the distinct chunks weighted by their counts, with
// pair counts updated only for the chunks a merge touches. Deterministic: the most
// frequent pair wins and a tie goes to the smallest pair (left id, then right id).
import CohortCore

extension BPETokenizer {
    /// The tokenizer of `corpus` with `vocabularySize` tokens (256 bytes + merges), or fewer when
    /// training runs out of pairs: it stops when no pair of adjacent tokens occurs twice.
    ///
    /// Each step merges the pair of adjacent tokens that occurs most often in the corpus (counted
    /// within chunks, `BPEPreSplit`), ties broken by the smallest pair, so the same corpus and size
    /// give the same merges on every rank and every run. Tiny Shakespeare (1.1 MB) to 2,048 tokens
    /// takes about 0.1 s in a release build (docs/cli.md, `--tokenizer`).
    /// - Throws: `CohortError.invalidArgument` when `vocabularySize` is not in 257…`maxVocabularySize`.
    public static func train(corpus: [UInt8], vocabularySize: Int) throws -> BPETokenizer {
        guard vocabularySize > 256, vocabularySize <= maxVocabularySize else {
            throw CohortError.invalidArgument("tokenizer: a BPE vocabulary needs 257…\(maxVocabularySize) tokens (256 bytes + merges), got \(vocabularySize)")
        }
        var words = Self.distinctChunks(corpus)
        var pairs = PairCounts()
        for w in words.ids.indices { pairs.add(words.ids[w], count: words.counts[w], word: Int32(w)) }

        var merges: [Merge] = []
        var seen = [Int](repeating: -1, count: words.ids.count)   // last merge that visited each word
        while 256 + merges.count < vocabularySize {
            guard let (pair, count) = pairs.mostFrequent(), count >= 2 else { break }
            let id = Int32(256 + merges.count)
            let m = Merge(Int32(truncatingIfNeeded: pair >> 32), Int32(truncatingIfNeeded: pair & 0xFFFF_FFFF))
            merges.append(m)
            for w in pairs.words(containing: pair) where seen[Int(w)] != merges.count {
                seen[Int(w)] = merges.count
                var ids = words.ids[Int(w)]
                guard apply(m, as: id, to: &ids) else { continue }   // a stale entry: the pair is gone from it
                pairs.remove(words.ids[Int(w)], count: words.counts[Int(w)])
                pairs.add(ids, count: words.counts[Int(w)], word: w)
                words.ids[Int(w)] = ids
            }
            pairs.forget(pair)
        }
        return try BPETokenizer(merges: merges)
    }

    /// The distinct chunks of `corpus` as byte ids, in order of first occurrence, with their counts.
    static func distinctChunks(_ corpus: [UInt8]) -> (ids: [[Int32]], counts: [Int]) {
        var index: [ArraySlice<UInt8>: Int] = [:]
        var ids: [[Int32]] = [], counts: [Int] = []
        BPEPreSplit.forEachChunk(corpus) { range in
            let chunk = corpus[range]
            if let i = index[chunk] {
                counts[i] += 1
            } else {
                index[chunk] = ids.count
                ids.append(chunk.map { Int32($0) })
                counts.append(1)
            }
        }
        return (ids, counts)
    }
}

/// Weighted counts of adjacent token pairs over the distinct chunks, and which chunks hold each
/// pair (a chunk may stay listed after a merge removed the pair: readers check).
struct PairCounts {
    private var counts: [UInt64: Int] = [:]
    private var holders: [UInt64: [Int32]] = [:]

    /// Adds the pairs of `ids` (a chunk occurring `count` times, chunk number `word`).
    mutating func add(_ ids: [Int32], count: Int, word: Int32) {
        guard ids.count > 1 else { return }
        for i in 0..<(ids.count - 1) {
            let key = BPETokenizer.Merge(ids[i], ids[i + 1]).key
            counts[key, default: 0] += count
            if holders[key]?.last != word { holders[key, default: []].append(word) }
        }
    }

    /// Subtracts the pairs of `ids` (a chunk occurring `count` times); a pair counted 0 is dropped.
    mutating func remove(_ ids: [Int32], count: Int) {
        guard ids.count > 1 else { return }
        for i in 0..<(ids.count - 1) {
            let key = BPETokenizer.Merge(ids[i], ids[i + 1]).key
            let left = counts[key, default: 0] - count
            counts[key] = left > 0 ? left : nil
        }
    }

    /// The chunks that held `pair` when it was counted (some may no longer hold it).
    func words(containing pair: UInt64) -> [Int32] { holders[pair] ?? [] }

    /// Drops a merged pair's list of chunks (its count is already 0).
    mutating func forget(_ pair: UInt64) { holders[pair] = nil; counts[pair] = nil }

    /// The most frequent pair and its count; a tie goes to the smallest key (left id, then right id),
    /// so the dictionary's order never matters.
    func mostFrequent() -> (UInt64, Int)? {
        var best: (UInt64, Int)?
        for (key, count) in counts {
            if let b = best, count < b.1 || (count == b.1 && key > b.0) { continue }
            best = (key, count)
        }
        return best
    }
}
