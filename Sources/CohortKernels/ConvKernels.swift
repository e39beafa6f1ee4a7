// 2-D convolution as im2col + sgemm, in chunks of a few samples so the
// column buffer stays in L2 and each GEMM is large (m = out channels,
// n = samples × output pixels, k = in channels × kernel). Backward recomputes
// the columns (keeping them measured no faster). With several threads the batch
// is split into slices that run whole (im2col, GEMM, epilogues) on their own thread.
import Dispatch

/// The sizes of one 2-D convolution (per sample; the batch is passed separately).
package struct ConvGeometry: Sendable, Equatable, CustomStringConvertible {
    /// Input channels, height and width.
    package let channels: Int, height: Int, width: Int
    /// Output channels.
    package let outChannels: Int
    /// Kernel extent, stride, zero padding and dilation along height and width.
    package let kernelH: Int, kernelW: Int
    package let strideH: Int, strideW: Int
    package let padH: Int, padW: Int
    package let dilationH: Int, dilationW: Int
    /// Channel groups: input and output channels are split into `groups` independent convolutions.
    package let groups: Int

    package init(channels: Int, height: Int, width: Int, outChannels: Int, kernel: (Int, Int), stride: (Int, Int),
                padding: (Int, Int), dilation: (Int, Int), groups: Int) {
        self.channels = channels; self.height = height; self.width = width; self.outChannels = outChannels
        (kernelH, kernelW) = kernel; (strideH, strideW) = stride; (padH, padW) = padding
        (dilationH, dilationW) = dilation
        self.groups = groups
    }

    /// Output height: `(H + 2p - d(k-1) - 1) / s + 1` (may be ≤ 0 for a kernel larger than the padded input).
    package var outH: Int { outSize(height + 2 * padH - dilationH * (kernelH - 1) - 1, strideH) }
    /// Output width.
    package var outW: Int { outSize(width + 2 * padW - dilationW * (kernelW - 1) - 1, strideW) }
    /// Output pixels per channel.
    package var outPixels: Int { outH * outW }
    /// Rows of the column matrix: every input channel times every kernel tap.
    package var colRows: Int { channels * kernelH * kernelW }
    /// Input channels per group × kernel taps: the GEMM's k.
    package var groupK: Int { channels / groups * kernelH * kernelW }
    /// Output channels per group.
    package var groupOut: Int { outChannels / groups }

    package var description: String {
        "conv \(channels)→\(outChannels) on \(height)×\(width), kernel \(kernelH)×\(kernelW), stride \(strideH)×\(strideW), " +
            "padding \(padH)×\(padW), dilation \(dilationH)×\(dilationW), groups \(groups)"
    }
}

/// `span / stride + 1` rounded down, or 0 when the window does not fit (`span` < 0):
/// Swift's division truncates toward zero, which would give 1 for small negative spans.
@inline(__always)
func outSize(_ span: Int, _ stride: Int) -> Int { span < 0 ? 0 : span / stride + 1 }

/// Convolution kernels. Layouts: input `[N, C, H, W]`, weight `[O, C/groups, kh, kw]`,
/// output `[N, O, oh, ow]`, all contiguous. A chunk of `nb` samples uses a column
/// buffer `[C·kh·kw, nb·P]` and a GEMM buffer `[O, nb·P]` (P = oh·ow).
package enum Conv {
    /// Samples per chunk: enough for a wide GEMM, few enough that the column buffer and
    /// the GEMM output (about 1 MiB each) stay in L2 between the passes that touch them.
    package static func chunkSamples(_ g: ConvGeometry, batch: Int) -> Int {
        let perSample = Swift.max(g.colRows * g.outPixels, g.outChannels * g.outPixels, 1)
        return Swift.max(1, Swift.min(batch, 262_144 / perSample))
    }

    /// Scratch elements `forward` (or `backward`) needs for `batch` samples on `workers` threads:
    /// per worker a column and a GEMM buffer for one chunk (16 floats of slack each, as short
    /// rows are moved in whole vectors) and, backward, private weight and bias gradients.
    package static func scratchCount(_ g: ConvGeometry, batch: Int, workers: Int, backward: Bool) -> Int {
        let w = workerCount(g, batch: batch, requested: workers)
        return w * perWorker(g, batch: batch) + (backward ? (w - 1) * gradientsCount(g) : 0)
    }

    /// Threads `forward`/`backward` use when given `requested`: at most one per chunk.
    package static func workerCount(_ g: ConvGeometry, batch: Int, requested: Int) -> Int {
        let nb = chunkSamples(g, batch: batch)
        return Swift.max(1, Swift.min(requested, (batch + nb - 1) / nb))
    }

    static func perWorker(_ g: ConvGeometry, batch: Int) -> Int {
        let nb = chunkSamples(g, batch: batch)
        return (g.colRows + g.outChannels) * nb * g.outPixels + 32
    }

    static func gradientsCount(_ g: ConvGeometry) -> Int { g.outChannels * g.groupK + g.outChannels }

    /// Runs `body(worker, samples)` over `workers` contiguous slices of `0..<batch` (whole
    /// chunks each), on as many threads, with OpenBLAS limited to one thread per call meanwhile.
    static func forEachSlice(_ g: ConvGeometry, batch: Int, workers: Int, _ body: (Int, Range<Int>) -> Void) {
        if workers <= 1 { body(0, 0..<batch); return }
        let nb = chunkSamples(g, batch: batch)
        let chunks = (batch + nb - 1) / nb
        let bounds = (0...workers).map { Swift.min(batch, ($0 * chunks / workers) * nb) }
        BLAS.singleThreaded {
            withoutActuallyEscaping(body) { run in
                let work = UncheckedSendable(run)
                DispatchQueue.concurrentPerform(iterations: workers) { w in work.value(w, bounds[w]..<bounds[w + 1]) }
            }
        }
    }

    /// Forward pass: `out = conv(x, w) + bias`, optionally followed by max(·, 0) and by
    /// max pooling over non-overlapping `pool`×`pool` windows (`pool` > 1), in the pass that
    /// writes the output. `x`, `w`, `out` as described on `Conv` (with pooling, `out` is
    /// `[N, O, oh / pool, ow / pool]` and `argmax` receives each window's in-plane index
    /// of its maximum); `scratch` holds `scratchCount(backward: false)` elements.
    package static func forward(_ g: ConvGeometry, batch: Int, x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, relu: Bool, pool: Int = 1, argmax: UnsafeMutablePointer<Int32>? = nil,
                               out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, workers: Int = 1) {
        let P = g.outPixels, nbMax = chunkSamples(g, batch: batch)
        let inSample = g.channels * g.height * g.width
        let pooled = (g.outH / pool) * (g.outW / pool), outSample = g.outChannels * (pool > 1 ? pooled : P)
        if P <= 0 || batch == 0 { return }
        let xEnd = x + batch * inSample
        let workers = workerCount(g, batch: batch, requested: workers), per = perWorker(g, batch: batch)
        forEachSlice(g, batch: batch, workers: workers) { worker, samples in
            let col = scratch + worker * per, gemm = col + g.colRows * nbMax * P + 16
            var n0 = samples.lowerBound
            while n0 < samples.upperBound {
                let nb = Swift.min(nbMax, samples.upperBound - n0), ld = nb * P
                im2col(g, x + n0 * inSample, samples: nb, col, sourceEnd: xEnd)
                for gi in 0..<g.groups {
                    BLAS.sgemm(transA: false, transB: false, m: g.groupOut, n: ld, k: g.groupK, alpha: 1,
                               a: w + gi * g.groupOut * g.groupK, lda: g.groupK,
                               b: col + gi * g.groupK * ld, ldb: ld, beta: 0, c: gemm + gi * g.groupOut * ld, ldc: ld)
                }
                if pool > 1, let argmax {
                    poolOutput(g, pool: pool, samples: nb, gemm, bias: bias, relu: relu, out + n0 * outSample,
                               argmax: argmax + n0 * outSample)
                } else {
                    scatterOutput(channels: g.outChannels, pixels: P, samples: nb, gemm, bias: bias, relu: relu, out + n0 * outSample)
                }
                n0 += nb
            }
        }
    }

    /// Backward pass. `dy` is the output gradient; with `reluOutput` (the forward's
    /// output when it fused a ReLU) it is first masked where that output is 0; with
    /// `pool` > 1 it is routed to the saved `argmax` positions.
    /// Accumulates into `dw` and `db` (β = 1) and overwrites `dx`; pass nil for what is not needed.
    /// `scratch` holds `scratchCount(backward: true)` elements.
    package static func backward(_ g: ConvGeometry, batch: Int, x: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                                dy: UnsafePointer<Float>, reluOutput: UnsafePointer<Float>?,
                                pool: Int = 1, argmax: UnsafePointer<Int32>? = nil,
                                dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?, db: UnsafeMutablePointer<Float>?,
                                scratch: UnsafeMutablePointer<Float>, workers: Int = 1) {
        let P = g.outPixels, nbMax = chunkSamples(g, batch: batch)
        let inSample = g.channels * g.height * g.width
        let pooled = (g.outH / pool) * (g.outW / pool), outSample = g.outChannels * (pool > 1 ? pooled : P)
        if batch == 0 { return }
        if P <= 0 { dx?.update(repeating: 0, count: batch * inSample); return }
        let xEnd = x + batch * inSample
        let workers = workerCount(g, batch: batch, requested: workers), per = perWorker(g, batch: batch)
        // Workers after the first accumulate into private gradients, added in at the end.
        let privateGradients = scratch + workers * per, wCount = g.outChannels * g.groupK
        if workers > 1 { privateGradients.update(repeating: 0, count: (workers - 1) * gradientsCount(g)) }
        forEachSlice(g, batch: batch, workers: workers) { worker, samples in
            let col = scratch + worker * per, gemm = col + g.colRows * nbMax * P + 16
            let own = privateGradients + (worker - 1) * gradientsCount(g)
            let wGrad = worker == 0 ? dw : dw.map { _ in own }, bGrad = worker == 0 ? db : db.map { _ in own + wCount }
            // col2im may rewrite a few floats past a row: never into another worker's samples.
            let dxEnd = dx.map { $0 + samples.upperBound * inSample }
            var n0 = samples.lowerBound
            while n0 < samples.upperBound {
                let nb = Swift.min(nbMax, samples.upperBound - n0), ld = nb * P
                if pool > 1, let argmax {
                    gemm.update(repeating: 0, count: g.outChannels * ld)
                    let d = dy + n0 * outSample, a = argmax + n0 * outSample
                    for pl in 0..<nb * g.outChannels {
                        let (n, o) = pl.quotientAndRemainder(dividingBy: g.outChannels)
                        let dst = gemm + o * ld + n * P
                        let range = pl * pooled..<(pl + 1) * pooled
                        if let mask = reluOutput.map({ $0 + n0 * outSample }) {
                            scatterMasked(range, d, mask: mask, argmax: a, dst)
                        } else {
                            for q in range { dst[Int(a[q])] = d[q] }
                        }
                    }
                } else {
                    gatherGradient(channels: g.outChannels, pixels: P, samples: nb, dy + n0 * outSample,
                                   mask: reluOutput.map { $0 + n0 * outSample }, gemm)
                }
                if let bGrad {
                    for o in 0..<g.outChannels { bGrad[o] += Reduce.sum(ld, gemm + o * ld) }
                }
                if let wGrad {
                    im2col(g, x + n0 * inSample, samples: nb, col, sourceEnd: xEnd)
                    for gi in 0..<g.groups {
                        // k is split into pieces of ≤ 2048: with a small output (conv1: 32×9) and a long
                        // k, OpenBLAS 0.3.21 runs at a third of its rate (34 vs 93 GFLOP/s measured here).
                        var k0 = 0
                        while k0 < ld {
                            let kk = Swift.min(2048, ld - k0)
                            BLAS.sgemm(transA: false, transB: true, m: g.groupOut, n: g.groupK, k: kk, alpha: 1,
                                       a: gemm + gi * g.groupOut * ld + k0, lda: ld, b: col + gi * g.groupK * ld + k0, ldb: ld,
                                       beta: 1, c: wGrad + gi * g.groupOut * g.groupK, ldc: g.groupK)
                            k0 += kk
                        }
                    }
                }
                if let dx, let dxEnd {
                    for gi in 0..<g.groups {
                        BLAS.sgemm(transA: true, transB: false, m: g.groupK, n: ld, k: g.groupOut, alpha: 1,
                                   a: w + gi * g.groupOut * g.groupK, lda: g.groupK, b: gemm + gi * g.groupOut * ld, ldb: ld,
                                   beta: 0, c: col + gi * g.groupK * ld, ldc: ld)
                    }
                    let dxc = dx + n0 * inSample
                    dxc.update(repeating: 0, count: nb * inSample)
                    col2im(g, col, samples: nb, dxc, destinationEnd: dxEnd)
                }
                n0 += nb
            }
        }
        for worker in 1..<workers {
            let own = privateGradients + (worker - 1) * gradientsCount(g)
            if let dw { Elementwise.axpy(wCount, alpha: 1, own, dw) }
            if let db { Elementwise.axpy(g.outChannels, alpha: 1, own + wCount, db) }
        }
    }
}

/// Carries a value the compiler cannot prove Sendable into `concurrentPerform`; the
/// workers touch disjoint samples and private scratch (see `Conv.forEachSlice`).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
