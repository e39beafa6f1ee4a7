// The pre-split of byte-level BPE: text is cut into chunks by byte classes, GPT-2's
// pattern without its regular expression, and merges never cross a chunk boundary, so
// "the" is one token wherever it stands and a merge never glues a word to punctuation.

/// Cuts bytes into the chunks BPE merges within. Classes: letters (`A–Z`, `a–z` and every byte
/// ≥ 0x80, so a multi-byte UTF-8 character stays inside a word), digits, whitespace (space, `\t`,
/// `\n`, `\v`, `\f`, `\r`) and punctuation (everything else). A chunk is a run of one class,
/// where a letter, digit or punctuation run takes one space before it (`" the"`, `" 42"`, `" --"`);
/// a whitespace run before such a run leaves it its last space, as GPT-2's `\s+(?!\S)` does.
/// A run longer than `maxChunkBytes` is cut into pieces of at most that many bytes (not inside a
/// UTF-8 character), which bounds the work of encoding text without spaces (a long token, CJK).
public enum BPEPreSplit {
    /// Longest chunk, in bytes.
    public static let maxChunkBytes = 256

    enum ByteClass: UInt8 { case letter, digit, space, punctuation }

    /// byte → class.
    static let classes: [ByteClass] = (0..<256).map { b in
        switch b {
        case 0x41...0x5A, 0x61...0x7A, 0x80...0xFF: return .letter
        case 0x30...0x39: return .digit
        case 0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D: return .space
        default: return .punctuation
        }
    }

    /// Calls `body` with each chunk's range of `bytes`, in order; the ranges cover `bytes` exactly.
    public static func forEachChunk(_ bytes: [UInt8], _ body: (Range<Int>) -> Void) {
        let n = bytes.count
        classes.withUnsafeBufferPointer { cls in
            bytes.withUnsafeBufferPointer { b in
                /// The end of the run of `c` that starts at or after `i`.
                func runEnd(from i: Int, _ c: ByteClass) -> Int {
                    var j = i
                    while j < n && cls[Int(b[j])] == c { j += 1 }
                    return j
                }
                /// `end`, or the cut of a chunk from `i` that is too long: before the start of a UTF-8 character.
                func capped(_ i: Int, _ end: Int) -> Int {
                    guard end - i > maxChunkBytes else { return end }
                    var cut = i + maxChunkBytes
                    while cut > i + maxChunkBytes - 3 && b[cut] & 0xC0 == 0x80 { cut -= 1 }
                    return cut
                }
                var i = 0
                while i < n {
                    let c = cls[Int(b[i])]
                    var end: Int
                    if b[i] == 0x20, i + 1 < n, cls[Int(b[i + 1])] != .space {
                        end = runEnd(from: i + 1, cls[Int(b[i + 1])])
                    } else if c == .space {
                        end = runEnd(from: i, .space)
                        // Leave the last space to the word that follows (" the"), unless it is the whole run.
                        if end < n, end - 1 > i, b[end - 1] == 0x20 { end -= 1 }
                    } else {
                        end = runEnd(from: i, c)
                    }
                    end = capped(i, end)
                    body(i..<end)
                    i = end
                }
            }
        }
    }

    /// The chunks of `bytes` as slices (for tests and inspection).
    public static func chunks(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        forEachChunk(bytes) { out.append(bytes[$0]) }
        return out
    }
}
