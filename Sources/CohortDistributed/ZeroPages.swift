// ZeRO stage 2's gradient memory. The gradient arena stays one flat buffer (autograd writes every
// parameter's gradient into it), but once a bucket is reduce-scattered this rank needs only its
// own shard of it: the whole pages of the other ranks' parts are handed back to the OS with
// madvise(MADV_DONTNEED). The kernel maps them again, zero-filled, when backward next writes
// there, so the resident gradient memory during a step is this rank's shard plus the buckets
// backward has written and the reduce-scatter has not finished yet. Zeroing the gradients for
// the next step skips the released pages (they read as zero; a memset would bring them back).
import CohortNN
import CohortTensor
import Foundation

/// The releasable gradient pages of each bucket and which were released this step.
final class ZeroPages {
    private let arena: ParameterArena
    /// Per bucket: the element ranges of whole pages outside this rank's shard.
    private let releasable: [[Range<Int>]]
    private var released: [Bool]

    init(arena: ParameterArena, buckets: [Range<Int>], shard: Range<Int>) {
        self.arena = arena
        let page = Int(sysconf(Int32(_SC_PAGESIZE))), base = UInt(bitPattern: arena.grads.pointer)
        // Element ranges [lo, hi) narrowed to whole pages of the gradient buffer.
        func wholePages(_ r: Range<Int>) -> Range<Int>? {
            let start = base + UInt(r.lowerBound * 4), end = base + UInt(r.upperBound * 4)
            let a = (start + UInt(page) - 1) / UInt(page) * UInt(page), b = end / UInt(page) * UInt(page)
            guard b > a else { return nil }
            return Int(a - base) / 4..<Int(b - base) / 4
        }
        releasable = buckets.map { bucket in
            let mine = bucket.clamped(to: shard)
            let others = mine.isEmpty ? [bucket] : [bucket.lowerBound..<mine.lowerBound, mine.upperBound..<bucket.upperBound]
            return others.compactMap { $0.isEmpty ? nil : wholePages($0) }
        }
        released = Array(repeating: false, count: buckets.count)
    }

    /// Bucket `b` is reduced: its pages outside this rank's shard go back to the OS.
    func release(bucket b: Int) {
        guard !released[b] else { return }
        released[b] = true
        for r in releasable[b] {
            _ = madvise(UnsafeMutableRawPointer(arena.grads.pointer + r.lowerBound), r.count * 4, MADV_DONTNEED)
        }
    }

    /// Zeroes every gradient element except those on pages released since the last call (zero already).
    func zeroGradients() {
        let skip = zip(releasable, released).flatMap { $1 ? $0 : [] }.sorted { $0.lowerBound < $1.lowerBound }
        let g = arena.grads.pointer
        var from = 0
        for r in skip {
            if r.lowerBound > from { (g + from).update(repeating: 0, count: r.lowerBound - from) }
            from = max(from, r.upperBound)
        }
        if arena.grads.count > from { (g + from).update(repeating: 0, count: arena.grads.count - from) }
        released = Array(repeating: false, count: released.count)
    }
}
