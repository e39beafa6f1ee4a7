// HMAC-SHA256 against the RFC 4231 test vectors (keys shorter than, equal to
// and longer than the 64-byte block, and the truncated-output case), and the
// constant-time comparison.
import Foundation
import Testing
@testable import CohortControl

@Suite struct HMACTests {
    private static func bytes(_ hex: String) -> [UInt8] {
        var out = [UInt8]()
        var it = hex.makeIterator()
        while let hi = it.next(), let lo = it.next() { out.append(UInt8(String([hi, lo]), radix: 16)!) }
        return out
    }
    private static func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

    // (key, data, expected HMAC-SHA-256) from RFC 4231 §4.2–4.8.
    static let vectors: [(String, [UInt8], String)] = [
        (String(repeating: "0b", count: 20), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        ("4a656665", Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (String(repeating: "aa", count: 20), [UInt8](repeating: 0xdd, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        ("0102030405060708090a0b0c0d0e0f10111213141516171819", [UInt8](repeating: 0xcd, count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (String(repeating: "aa", count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (String(repeating: "aa", count: 131),
         Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    @Test(arguments: 0..<6) func rfc4231(_ index: Int) {
        let (key, data, expected) = Self.vectors[index]
        #expect(Self.hex(HMACSHA256.authenticate(data, key: Self.bytes(key))) == expected)
    }

    // RFC 4231 §4.6: output truncated to 128 bits.
    @Test func rfc4231Truncated() {
        let tag = HMACSHA256.authenticate(Array("Test With Truncation".utf8), key: [UInt8](repeating: 0x0c, count: 20))
        #expect(Self.hex(Array(tag.prefix(16))) == "a3b6167473100ee06e0c796c2955552b")
    }

    @Test func sliceMatchesArray() {
        let buffer = [UInt8](0..<200)
        #expect(HMACSHA256.authenticate(buffer[10..<150], key: [1, 2, 3])
            == HMACSHA256.authenticate(Array(buffer[10..<150]), key: [1, 2, 3]))
    }

    @Test func constantTimeEqual() {
        let a: [UInt8] = [1, 2, 3, 4]
        #expect(HMACSHA256.constantTimeEqual(a, [1, 2, 3, 4]))
        #expect(!HMACSHA256.constantTimeEqual(a, [1, 2, 3, 5]))
        #expect(!HMACSHA256.constantTimeEqual(a, [0, 2, 3, 4]))
        #expect(!HMACSHA256.constantTimeEqual(a, [1, 2, 3]))
        #expect(HMACSHA256.constantTimeEqual([UInt8](), [UInt8]()))
    }
}

