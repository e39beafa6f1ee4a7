// HMAC-SHA256 (RFC 2104) on CohortCore's SHA256, and a tag comparison whose
// time does not depend on where the tags differ (so a forger cannot learn a
// valid tag byte by byte from response timing).
import CohortCore

/// HMAC-SHA256 as specified by RFC 2104 with SHA-256 (block 64 bytes, output 32).
public enum HMACSHA256 {
    /// Length of a tag in bytes.
    public static let tagLength = 32
    private static let blockLength = 64

    /// Keys longer than a block are hashed first, shorter ones zero-padded (RFC 2104 §2).
    private static func paddedKey(_ key: [UInt8]) -> [UInt8] {
        var k = key
        if k.count > blockLength {
            var h = SHA256()
            h.update(k)
            k = h.finalize()
        }
        k.append(contentsOf: repeatElement(0, count: blockLength - k.count))
        return k
    }

    /// The 32-byte tag of `message` under `key`.
    public static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        authenticate(message[...], key: key)
    }

    /// The 32-byte tag of `message` under `key`, for a slice of a larger buffer.
    public static func authenticate(_ message: ArraySlice<UInt8>, key: [UInt8]) -> [UInt8] {
        let k = paddedKey(key)
        var inner = SHA256()
        inner.update(k.map { $0 ^ 0x36 })
        message.withUnsafeBytes { inner.update($0) }
        var outer = SHA256()
        outer.update(k.map { $0 ^ 0x5c })
        outer.update(inner.finalize())
        return outer.finalize()
    }

    /// True when the tags are equal; the time taken depends only on their lengths.
    public static func constantTimeEqual<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
