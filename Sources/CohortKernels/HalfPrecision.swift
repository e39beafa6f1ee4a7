// float32 ↔ 16-bit float words (bfloat16 and IEEE binary16), one value or whole
// buffers, rounded to nearest even: compressed gradient exchange (CohortDistributed)
// and half-precision weights (CohortQuantize). The one file calling CHalfKernels;
// binary16 runs on F16C where the CPU has it (COHORT_HALF_KERNEL=portable forces C).
import CHalfKernels

/// A 16-bit floating-point format.
package enum HalfFormat: Sendable {
    /// bfloat16: float32's exponent, 7 mantissa bits.
    case bf16
    /// IEEE 754 binary16: 5 exponent bits (largest finite 65504), 10 mantissa bits.
    case fp16

    var code: Int32 { self == .bf16 ? Int32(COHORT_HALF_BF16) : Int32(COHORT_HALF_FP16) }
}

package enum HalfPrecision {
    /// The 16-bit word of `x` in `format`.
    package static func word(_ x: Float, _ format: HalfFormat) -> UInt16 {
        format == .bf16 ? cohort_f32_to_bf16(x) : cohort_f32_to_f16(x)
    }

    /// The float32 value of a 16-bit word.
    package static func value(_ word: UInt16, _ format: HalfFormat) -> Float {
        format == .bf16 ? cohort_bf16_to_f32(word) : cohort_f16_to_f32(word)
    }

    /// `x` rounded to `format`'s precision.
    package static func round(_ x: Float, _ format: HalfFormat) -> Float { value(word(x, format), format) }

    /// Whether binary16 conversions run on F16C (else portable C).
    package static var usesF16C: Bool { cohort_half_uses_f16c() != 0 }

    /// `destination[i] = word(source[i] · scale)`.
    package static func encode(_ format: HalfFormat, _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<UInt16>,
                               count: Int, scale: Float = 1) {
        cohort_half_encode(format.code, source, destination, count, scale)
    }

    /// Encoding with error feedback: `v = source[i] + residual[i]`, `destination[i] = word(v · scale)`,
    /// `residual[i] = v − value(destination[i]) / scale` (0 where the word is not finite).
    package static func encode(_ format: HalfFormat, _ source: UnsafePointer<Float>, residual: UnsafeMutablePointer<Float>,
                               _ destination: UnsafeMutablePointer<UInt16>, count: Int, scale: Float = 1) {
        cohort_half_encode_feedback(format.code, source, residual, destination, count, scale)
    }

    /// `destination[i] = value(source[i]) · scale`.
    package static func decode(_ format: HalfFormat, _ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Float>,
                               count: Int, scale: Float = 1) {
        cohort_half_decode(format.code, source, destination, count, scale)
    }

    /// The portable C conversions (what runs without F16C), for tests comparing the two.
    package static func encodePortable(_ format: HalfFormat, _ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<UInt16>,
                                       count: Int, scale: Float = 1) {
        cohort_half_encode_portable(format.code, source, destination, count, scale)
    }

    /// The portable C decoding, for tests.
    package static func decodePortable(_ format: HalfFormat, _ source: UnsafePointer<UInt16>, _ destination: UnsafeMutablePointer<Float>,
                                       count: Int, scale: Float = 1) {
        cohort_half_decode_portable(format.code, source, destination, count, scale)
    }

    /// `accumulator[i] = word(value(input[i]) + value(accumulator[i]))`: one step of an allreduce sum.
    package static func sum(_ format: HalfFormat, _ input: UnsafePointer<UInt16>, into accumulator: UnsafeMutablePointer<UInt16>, count: Int) {
        cohort_half_sum(format.code, input, accumulator, count)
    }

    /// For `offset..<offset+count`: the float32 sum over `buffers` in order, times `factor`,
    /// rounded once and written into every buffer.
    package static func average(_ format: HalfFormat, _ buffers: [UnsafeMutablePointer<UInt16>], offset: Int, count: Int, factor: Float) {
        buffers.map { Optional($0) }.withUnsafeBufferPointer { b in
            cohort_half_average(format.code, b.baseAddress, Int32(b.count), offset, count, factor)
        }
    }

    /// How many of `count` words are infinite or NaN.
    package static func countNonFinite(_ format: HalfFormat, _ words: UnsafePointer<UInt16>, count: Int) -> Int {
        cohort_half_count_nonfinite(format.code, words, count)
    }
}
