// Compressed gradient exchange (`--grad-comm bf16|fp16`, as Horovod's and PyTorch
// DDP's fp16/bf16 compression hooks): each rank encodes its float32 gradients into
// 16-bit words, the words are summed across ranks (MPI: a user sum operator
// rounding after each addition; shared memory: summed in float32, rounded once),
// and the mean is decoded back into the float32 gradient arena — half the bytes,
// float32 master weights, optimizer state and accumulation. binary16 carries a
// dynamic power-of-two scale (GradScaler's idea): a bucket whose reduced words
// overflowed is averaged again in float32 and the scale halves; after
// `growthInterval` clean steps it doubles. Every rank sees the same reduced words,
// so every rank takes the same decision without a message. Optional error feedback
// keeps what rounding dropped and adds it to the next step's gradient.
import CohortCollectives
import CohortKernels
import CohortTensor

/// How DDP's gradients travel between ranks.
public enum GradientWire: String, Sendable, CaseIterable {
    /// float32: exact sums (the default).
    case fp32
    /// bfloat16 words: float32's range, 8 significant bits; no scaling needed.
    case bf16
    /// IEEE binary16 words with a dynamic scale; 11 significant bits, range ±65504 after scaling.
    case fp16

    var format: HalfFormat? {
        switch self { case .fp32: return nil; case .bf16: return .bf16; case .fp16: return .fp16 }
    }
}

/// The 16-bit side of one DataParallel: staging words, the scale, error-feedback residuals.
final class GradientCompressor {
    let format: HalfFormat
    /// The power of two gradients are multiplied by before encoding (1 for bfloat16).
    private(set) var scale: Float
    /// Buckets averaged again in float32 because their words overflowed, since the start.
    private(set) var overflows = 0
    private var cleanSteps = 0
    static let initialFP16Scale: Float = 1024
    static let growthInterval = 1000
    static let scaleRange: ClosedRange<Float> = 0x1p-24...0x1p24
    /// Words for the MPI path (one per arena element); the shared-memory path encodes into its window.
    let staging: Storage
    private let residual: Storage?

    init(format: HalfFormat, count: Int, errorFeedback: Bool) {
        self.format = format
        scale = format == .fp16 ? GradientCompressor.initialFP16Scale : 1
        staging = Storage(count: (count + 1) / 2)       // 2 words per float slot
        residual = errorFeedback ? Storage(zeros: count) : nil
    }

    /// This rank's staging words (MPI path).
    var words: UnsafeMutablePointer<UInt16> { UnsafeMutableRawPointer(staging.pointer).assumingMemoryBound(to: UInt16.self) }

    /// Encodes `grads[range]` into `words[range]` (scaled; with error feedback, plus the residual).
    func encode(_ grads: UnsafeMutablePointer<Float>, _ range: Range<Int>, into words: UnsafeMutablePointer<UInt16>) {
        let o = range.lowerBound
        if let residual {
            HalfPrecision.encode(format, grads + o, residual: residual.pointer + o, words + o, count: range.count, scale: scale)
        } else {
            HalfPrecision.encode(format, grads + o, words + o, count: range.count, scale: scale)
        }
    }

    /// Decodes the reduced `words[range]` into `grads[range]`, times `factor` / scale. Returns false,
    /// writing nothing, when a word is infinite or NaN (the caller averages the bucket in float32).
    func decode(_ words: UnsafeMutablePointer<UInt16>, _ range: Range<Int>, into grads: UnsafeMutablePointer<Float>, factor: Float) -> Bool {
        let o = range.lowerBound
        guard HalfPrecision.countNonFinite(format, words + o, count: range.count) == 0 else { return false }
        HalfPrecision.decode(format, words + o, grads + o, count: range.count, scale: factor / scale)
        return true
    }

    /// After a bucket fell back to float32: its residuals are dropped (the float32 gradient went out instead).
    func dropResidual(_ range: Range<Int>) {
        residual.map { ($0.pointer + range.lowerBound).update(repeating: 0, count: range.count) }
    }

    /// Ends a step: halves the scale after an overflow, doubles it after enough clean steps (binary16 only).
    func endStep(overflowed: Bool) {
        guard format == .fp16 else { return }
        if overflowed {
            overflows += 1
            cleanSteps = 0
            scale = max(scale / 2, GradientCompressor.scaleRange.lowerBound)
        } else {
            cleanSteps += 1
            if cleanSteps >= GradientCompressor.growthInterval {
                cleanSteps = 0
                scale = min(scale * 2, GradientCompressor.scaleRange.upperBound)
            }
        }
    }
}
