// The wire format: [length: 4 bytes big-endian][payload: length bytes of JSON]
// [tag: 32 bytes HMAC-SHA256(secret, payload)]. A length of 0 or above 64 KiB,
// or a tag that does not verify, is fatal for the connection.

/// Frame layout constants and encoding.
public enum ControlFrame {
    /// Largest payload a frame may carry: 64 KiB.
    public static let maxPayloadLength = 65536
    /// Bytes of the big-endian length prefix.
    public static let headerLength = 4
    /// Largest whole frame: header, payload and tag.
    public static let maxFrameLength = headerLength + maxPayloadLength + HMACSHA256.tagLength

    /// Frames `payload` (1…64 KiB) with its tag; throws `ControlError.encoding` for other sizes.
    public static func encode(payload: [UInt8], secret: ControlSecret) throws -> [UInt8] {
        guard (1...maxPayloadLength).contains(payload.count) else {
            throw ControlError.encoding("payload of \(payload.count) bytes (must be 1…\(maxPayloadLength))")
        }
        let n = UInt32(payload.count)
        var frame: [UInt8] = [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
        frame.reserveCapacity(headerLength + payload.count + HMACSHA256.tagLength)
        frame.append(contentsOf: payload)
        frame.append(contentsOf: HMACSHA256.authenticate(payload, key: secret.bytes))
        return frame
    }

    /// Encodes `message` as JSON and frames it; throws `ControlError.encoding`.
    public static func encode(_ message: ControlMessage, secret: ControlSecret) throws -> [UInt8] {
        try encode(payload: message.encoded(), secret: secret)
    }
}

/// Splits an incoming byte stream into verified payloads. Holds at most one
/// incomplete frame plus whatever was appended since the last `next()`.
public struct ControlFrameDecoder: Sendable {
    private let key: [UInt8]
    private var buffer: [UInt8] = []
    private var start = 0

    /// A decoder verifying tags with `secret`.
    public init(secret: ControlSecret) { key = secret.bytes }

    /// Bytes received but not yet returned as a frame.
    public var bufferedCount: Int { buffer.count - start }

    /// Adds received bytes.
    public mutating func append(_ bytes: ArraySlice<UInt8>) {
        if start > 0 && (start >= 65536 || start * 2 >= buffer.count) {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: [UInt8]) { append(bytes[...]) }

    /// The next complete, verified payload; nil if more bytes are needed.
    /// Throws `ControlError.badFrameLength` as soon as the length prefix is 0 or above 64 KiB,
    /// `.badFrameTag` when a complete frame's tag does not verify.
    public mutating func next() throws(ControlError) -> [UInt8]? {
        guard bufferedCount >= ControlFrame.headerLength else { return nil }
        let n = UInt32(buffer[start]) << 24 | UInt32(buffer[start + 1]) << 16
            | UInt32(buffer[start + 2]) << 8 | UInt32(buffer[start + 3])
        guard n >= 1, n <= UInt32(ControlFrame.maxPayloadLength) else { throw .badFrameLength(n) }
        let total = ControlFrame.headerLength + Int(n) + HMACSHA256.tagLength
        guard bufferedCount >= total else { return nil }
        let payloadStart = start + ControlFrame.headerLength
        let payload = buffer[payloadStart..<payloadStart + Int(n)]
        let tag = buffer[payloadStart + Int(n)..<start + total]
        guard HMACSHA256.constantTimeEqual(HMACSHA256.authenticate(payload, key: key), tag) else { throw .badFrameTag }
        start += total
        return Array(payload)
    }
}
