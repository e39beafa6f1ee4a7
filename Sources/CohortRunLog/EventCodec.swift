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
    /// Image summary values (encoded PNGs), one per tag, in order.
    case images([ImageValue])
    /// A message of a kind this reader does not decode (or neither field set).
    case other
}

/// One `Summary.Value{tag, simple_value}`.
public struct ScalarValue: Sendable, Equatable {
    public var tag: String
    public var value: Float
    public init(tag: String, value: Float) { self.tag = tag; self.value = value }
}

/// One `Summary.Value{tag, image}`: an encoded image and its size.
public struct ImageValue: Sendable, Equatable {
    public var tag: String
    public var width: Int, height: Int
    /// 1 grayscale, 2 grayscale + alpha, 3 RGB, 4 RGBA.
    public var colorspace: Int
    /// The image file's bytes (PNG).
    public var encoded: [UInt8]
    public init(tag: String, width: Int, height: Int, colorspace: Int, encoded: [UInt8]) {
        (self.tag, self.width, self.height, self.colorspace, self.encoded) = (tag, width, height, colorspace, encoded)
    }
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

extension EventPayload {
    /// Whether the payload is a `Summary` (scalars or images).
    var isSummary: Bool {
        switch self {
        case .scalars, .images: return true
        case .fileVersion, .other: return false
        }
    }

    var imageCount: Int { if case .images(let list) = self { return list.count } else { return 0 } }
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
        // Value, Image and Summary structs stay alive in these arrays until packing ends.
        var values: [Cohort__Tensorboard__Summary__Value] = []
        var images = [Cohort__Tensorboard__Summary__Image](repeating: Cohort__Tensorboard__Summary__Image(), count: event.payload.imageCount)
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
        case .images(let list):
            values = images.withUnsafeMutableBufferPointer { ibuf in
                list.enumerated().map { k, image in
                    cohort__tensorboard__summary__image__init(ibuf.baseAddress! + k)
                    ibuf[k].width = Int32(clamping: image.width)
                    ibuf[k].height = Int32(clamping: image.height)
                    ibuf[k].colorspace = Int32(clamping: image.colorspace)
                    let bytes = malloc(max(image.encoded.count, 1))!
                    owned.append(bytes)
                    image.encoded.withUnsafeBytes { if let base = $0.baseAddress { bytes.copyMemory(from: base, byteCount: $0.count) } }
                    ibuf[k].encoded_image_string = ProtobufCBinaryData(len: image.encoded.count, data: bytes.assumingMemoryBound(to: UInt8.self))
                    var v = Cohort__Tensorboard__Summary__Value()
                    cohort__tensorboard__summary__value__init(&v)
                    v.tag = cString(image.tag)
                    v.value_case = COHORT__TENSORBOARD__SUMMARY__VALUE__VALUE_IMAGE
                    v.image = ibuf.baseAddress! + k
                    return v
                }
            }
        case .other: break
        }
        return values.withUnsafeMutableBufferPointer { vbuf in
            var pointers: [UnsafeMutablePointer<Cohort__Tensorboard__Summary__Value>?] = (0..<vbuf.count).map { vbuf.baseAddress! + $0 }
            return pointers.withUnsafeMutableBufferPointer { pbuf in
                withUnsafeMutablePointer(to: &summary) { sp in
                    if event.payload.isSummary {
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
            let values = (0..<s.n_value).compactMap { s.value?[$0]?.pointee }
            let images = values.compactMap { v -> ImageValue? in
                guard v.value_case == COHORT__TENSORBOARD__SUMMARY__VALUE__VALUE_IMAGE, let i = v.image?.pointee else { return nil }
                let data = i.encoded_image_string
                return ImageValue(tag: String(cString: v.tag), width: Int(i.width), height: Int(i.height), colorspace: Int(i.colorspace),
                                  encoded: data.len > 0 ? Array(UnsafeBufferPointer(start: data.data, count: data.len)) : [])
            }
            payload = !images.isEmpty ? .images(images) : .scalars(values.compactMap { v in
                guard v.value_case == COHORT__TENSORBOARD__SUMMARY__VALUE__VALUE_SIMPLE_VALUE else { return nil }
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
