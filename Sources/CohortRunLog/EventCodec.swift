// The one file that touches the C target: TensorBoard `Event` messages ⇄
// protobuf bytes through the protobuf-c code generated from
// proto/tensorboard_event.proto, and the (masked) CRC32C of TFRecord framing.
import CTensorBoardProto
import Foundation

/// What an event record holds (the subset Cohort writes).
public enum EventPayload: Sendable, Equatable {
    /// The first record of a file: `"brain.Event:2"`.
    case fileVersion(String)
    /// Scalar summary values, one per tag, in order.
    case scalars([ScalarValue])
    /// A message of a kind this reader does not decode (or neither field set).
    case other
}

/// One `Summary.Value{tag, simple_value}`.
public struct ScalarValue: Sendable, Equatable {
    public var tag: String
    public var value: Float
    public init(tag: String, value: Float) { self.tag = tag; self.value = value }
}

/// A decoded `Event`.
public struct TensorBoardEvent: Sendable, Equatable {
    public var wallTime: Double
    public var step: Int64
    public var payload: EventPayload
    public init(wallTime: Double, step: Int64, payload: EventPayload) {
        self.wallTime = wallTime; self.step = step; self.payload = payload
    }
}

/// `TensorBoardEvent` ⇄ protobuf wire bytes.
enum EventCodec {
    /// Serialises an event. Strings are copied into C memory owned by this call.
    static func encode(_ event: TensorBoardEvent) -> [UInt8] {
        var msg = Cohort__Tensorboard__Event()
        cohort__tensorboard__event__init(&msg)
        msg.wall_time = event.wallTime
        msg.step = event.step
        var owned: [UnsafeMutableRawPointer?] = []
        defer { for p in owned { free(p) } }
        func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
            let p = strdup(s)!
            owned.append(UnsafeMutableRawPointer(p))
            return p
        }
        // Value and Summary structs stay alive in these arrays until packing ends.
        var values: [Cohort__Tensorboard__Summary__Value] = []
        var summary = Cohort__Tensorboard__Summary()
        cohort__tensorboard__summary__init(&summary)
        switch event.payload {
        case .fileVersion(let v):
            msg.what_case = COHORT__TENSORBOARD__EVENT__WHAT_FILE_VERSION
            msg.file_version = cString(v)
        case .scalars(let scalars):
            values = scalars.map { s in
                var v = Cohort__Tensorboard__Summary__Value()
                cohort__tensorboard__summary__value__init(&v)
                v.tag = cString(s.tag)
                v.value_case = COHORT__TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE
                v.simple_value = s.value
                return v
            }
        case .other: break
        }
        return values.withUnsafeMutableBufferPointer { vbuf in
            var pointers: [UnsafeMutablePointer<Cohort__Tensorboard__Summary__Value>?] = (0..<vbuf.count).map { vbuf.baseAddress! + $0 }
            return pointers.withUnsafeMutableBufferPointer { pbuf in
                withUnsafeMutablePointer(to: &summary) { sp in
                    if case .scalars = event.payload {
                        sp.pointee.n_value = pbuf.count
                        sp.pointee.value = pbuf.baseAddress
                        msg.what_case = COHORT__TENSORBOARD__EVENT__WHAT_SUMMARY
                        msg.summary = sp
                    }
                    let size = cohort__tensorboard__event__get_packed_size(&msg)
                    var out = [UInt8](repeating: 0, count: size)
                    let written = out.withUnsafeMutableBufferPointer { cohort__tensorboard__event__pack(&msg, $0.baseAddress) }
                    precondition(written == size, "protobuf-c packed \(written) of \(size) bytes")
                    return out
                }
            }
        }
    }

    /// Parses an event; nil when the bytes are not a valid `Event` message.
    static func decode(_ bytes: [UInt8]) -> TensorBoardEvent? {
        guard let msg = bytes.withUnsafeBufferPointer({ cohort__tensorboard__event__unpack(nil, $0.count, $0.baseAddress) }) else { return nil }
        defer { cohort__tensorboard__event__free_unpacked(msg, nil) }
        let m = msg.pointee
        var payload = EventPayload.other
        switch m.what_case {
        case COHORT__TENSORBOARD__EVENT__WHAT_FILE_VERSION:
            payload = .fileVersion(m.file_version.map { String(cString: $0) } ?? "")
        case COHORT__TENSORBOARD__EVENT__WHAT_SUMMARY:
            guard let s = m.summary?.pointee else { break }
            payload = .scalars((0..<s.n_value).compactMap { i in
                guard let v = s.value?[i]?.pointee, v.value_case == COHORT__TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE else { return nil }
                return ScalarValue(tag: String(cString: v.tag), value: v.simple_value)
            })
        default: break
        }
        return TensorBoardEvent(wallTime: m.wall_time, step: m.step, payload: payload)
    }

    /// CRC32C (Castagnoli) of `bytes`.
    static func crc32c(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        cohort_tfrecord_crc32c(bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, bytes.count)
    }

    /// TFRecord's masked CRC32C of `bytes`.
    static func maskedCRC32C(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        cohort_tfrecord_masked_crc32c(bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, bytes.count)
    }
}
