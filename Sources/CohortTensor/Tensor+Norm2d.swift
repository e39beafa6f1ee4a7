// Batch normalisation over `[N, C, …]` (per channel, statistics across the batch
// and spatial positions), training and evaluation, with its backward through the
// batch statistics; with a `BatchStatisticsSync`, the statistics of every process's
// part of a global batch (SyncBatchNorm). Kernels: CohortKernels/ConvNormKernels.
import CohortCore
import CohortKernels

extension Tensor {
    /// Batch normalisation, PyTorch's `F.batch_norm` (with `sync`, its `SyncBatchNorm`).
    ///
    /// With `training` (or without running statistics) each channel is normalised by the
    /// mean and biased variance over the batch and spatial positions, and the running
    /// statistics, when given, are updated in place: `running = (1 - momentum)·running +
    /// momentum·batch` (the unbiased variance for `runningVar`). Otherwise the running
    /// statistics normalise. Then `y = x̂·weight + bias` per channel.
    ///
    /// With `sync` (used only for batch statistics) the batch is every process's `x` together:
    /// each process's count, mean and squared deviations per channel are gathered and combined
    /// in process order, so every process normalises with, and keeps running statistics of, the
    /// same global mean and variance; backward sums `Σdy` and `Σdy·(x - mean)` over the
    /// processes (one sum of `2C` floats) for the input's gradient. The weight and bias
    /// gradients stay this process's own sums: data parallelism averages them like any gradient.
    ///
    /// - Parameters:
    ///   - x: `[N, C]` or `[N, C, …]` (e.g. `[N, C, H, W]`).
    ///   - runningMean, runningVar: `[C]` buffers (contiguous), or nil.
    ///   - weight, bias: `[C]` affine parameters, or nil (1 and 0).
    ///   - sync: the processes sharing the batch, or nil (this `x` alone). Every process must
    ///     make the same calls in the same order. Running statistics are updated only where
    ///     `sync.updatesRunningStatistics`.
    /// - Returns: a tensor shaped like `x`. Gradients flow to `x` (through the batch
    ///   statistics in training), `weight` and `bias`; never to the running statistics.
    /// - Throws: `CohortError.shapeMismatch` naming `x`'s shape and the wrong `[C]` tensor;
    ///   `CohortError.invalidArgument` when training with a single value per channel (over
    ///   all processes with `sync`); the sync's errors.
    public static func batchNorm(_ x: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?,
                                 training: Bool, momentum: Float = 0.1, eps: Float = 1e-5,
                                 sync: (any BatchStatisticsSync)? = nil) throws -> Tensor {
        guard x.rank >= 2 else {
            throw CohortError.shapeMismatch(op: "batchNorm", "input must be [N, C] or [N, C, …], got \(describeShape(x.shape))")
        }
        let (N, C) = (x.shape[0], x.shape[1])
        let S = x.shape.dropFirst(2).reduce(1, *), M = N * S
        for (name, t) in [("runningMean", runningMean), ("runningVar", runningVar), ("weight", weight), ("bias", bias)] {
            if let t, t.shape != [C] {
                throw CohortError.shapeMismatch(op: "batchNorm", "\(name) \(describeShape(t.shape)) must be [\(C)] for input \(describeShape(x.shape))")
            }
        }
        guard (runningMean == nil) == (runningVar == nil) else {
            throw CohortError.invalidArgument("batchNorm: give both running statistics or neither")
        }
        let useBatch = training || runningMean == nil
        let sync = useBatch ? sync : nil
        if useBatch && M <= (sync == nil ? 1 : 0) {
            throw CohortError.invalidArgument("batchNorm: expected more than 1 value per channel when training, got input \(describeShape(x.shape))")
        }
        let xc = x.contiguous()
        let mean = Tensor(uninitialized: [C]), invstd = Tensor(uninitialized: [C])
        let updatesRunning = sync?.updatesRunningStatistics ?? true
        let count = try useBatch ? batchStatistics(xc, [N, C, S], sync: sync, mean: mean, invstd: invstd,
                                                   running: updatesRunning ? runningMean.map { (mean: $0, variance: runningVar!) } : nil,
                                                   momentum: momentum, eps: eps) : M
        if !useBatch {
            let rm = runningMean!.contiguous(), rv = runningVar!.contiguous()
            for c in 0..<C { mean.base[c] = rm.base[c]; invstd.base[c] = 1 / (rv.base[c] + eps).squareRoot() }
        }
        let gamma = weight?.contiguous(), beta = bias?.contiguous()
        let scale = Tensor(uninitialized: [C]), shift = Tensor(uninitialized: [C])
        for c in 0..<C {
            scale.base[c] = (gamma?.base[c] ?? 1) * invstd.base[c]
            shift.base[c] = (beta?.base[c] ?? 0) - mean.base[c] * scale.base[c]
        }
        let out = Tensor(uninitialized: x.shape)
        ChannelKernels.affine(n: N, channels: C, spatial: S, xc.base, scale: scale.base, shift: shift.base, out.base)

        var inputs = [xc]
        let gammaIndex = gamma.map { inputs.append($0); return inputs.count - 1 }
        let betaIndex = beta.map { inputs.append($0); return inputs.count - 1 }
        let dx = xc.detached(), slots = inputs.count
        return record(out, "batchNorm", inputs) { g0, ctx in
            let gy = g0.contiguous()
            var grads = [Tensor?](repeating: nil, count: slots)
            let sumDy = Tensor(uninitialized: [C]), sumDyXmu = Tensor(uninitialized: [C])
            ChannelKernels.sums(n: N, channels: C, spatial: S, gy.base, sumDy.base)
            ChannelKernels.centeredDot(n: N, channels: C, spatial: S, gy.base, dx.base, center: mean.base, sumDyXmu.base)
            if let bi = betaIndex, ctx.needs(bi) { grads[bi] = sumDy }
            if let gi = gammaIndex, ctx.needs(gi) {
                let gg = Tensor(uninitialized: [C])
                for c in 0..<C { gg.base[c] = sumDyXmu.base[c] * invstd.base[c] }
                grads[gi] = gg
            }
            if ctx.needs(0) {
                grads[0] = try Tensor.batchNormInputGradient(gy, dx, [N, C, S], useBatch ? (dy: sumDy, dyXmu: sumDyXmu, count: count) : nil, sync: sync,
                                                             mean: mean, invstd: invstd, scale: scale)
            }
            return grads
        }
    }

    /// Batch statistics of contiguous `x` (`dims`: N, C, S) into `mean` and `invstd` (1/√(var + eps)),
    /// over every process with `sync`; updates `running` (mean, unbiased variance). Returns the count.
    private static func batchStatistics(_ x: Tensor, _ dims: [Int], sync: (any BatchStatisticsSync)?, mean: Tensor, invstd: Tensor,
                                        running: (mean: Tensor, variance: Tensor)?, momentum: Float, eps: Float) throws -> Int {
        let (N, C, S) = (dims[0], dims[1], dims[2])
        var count = N * S
        ChannelKernels.sums(n: N, channels: C, spatial: S, x.base, mean.base)
        Elementwise.scale(C, alpha: 1 / Float(count), mean.base)
        ChannelKernels.centeredDot(n: N, channels: C, spatial: S, x.base, x.base, center: mean.base, invstd.base)
        if let sync {
            count = try SyncedBatchStatistics.combine(sync, channels: C, count: count, mean: mean.base, m2: invstd.base)
            guard count > 1 else {
                throw CohortError.invalidArgument("batchNorm: expected more than 1 value per channel when training, got \(count) over all processes")
            }
        }
        if let running {
            try running.mean.withMutableBuffer { m in
                try running.variance.withMutableBuffer { v in
                    for c in 0..<C {
                        m[c] = (1 - momentum) * m[c] + momentum * mean.base[c]
                        v[c] = (1 - momentum) * v[c] + momentum * invstd.base[c] / Float(count - 1)
                    }
                }
            }
        }
        for c in 0..<C { invstd.base[c] = 1 / (invstd.base[c] / Float(count) + eps).squareRoot() }
        return count
    }

    /// The input gradient `dx = A·dy + B·(x - mean) + K` per channel (`dims`: N, C, S). With batch
    /// statistics (`sums`: this process's Σdy, Σdy·(x - mean) and the global count) B and K come from
    /// the sums over every process (`sync`); with fixed statistics they vanish.
    private static func batchNormInputGradient(_ gy: Tensor, _ x: Tensor, _ dims: [Int], _ sums: (dy: Tensor, dyXmu: Tensor, count: Int)?,
                                               sync: (any BatchStatisticsSync)?, mean: Tensor, invstd: Tensor, scale a: Tensor) throws -> Tensor {
        let (N, C, S) = (dims[0], dims[1], dims[2])
        let b = Tensor(uninitialized: [C]), k = Tensor(uninitialized: [C])
        if let sums {
            var total = [Float](repeating: 0, count: 2 * C)
            for c in 0..<C { total[c] = sums.dy.base[c]; total[C + c] = sums.dyXmu.base[c] }
            if let sync { try sync.allreduceSum(&total) }
            let M = Float(sums.count)
            for c in 0..<C {
                let bc = -a.base[c] * invstd.base[c] * invstd.base[c] * total[C + c] / M
                b.base[c] = bc
                k.base[c] = -a.base[c] * total[c] / M - bc * mean.base[c]
            }
        } else {
            for c in 0..<C { b.base[c] = 0; k.base[c] = 0 }
        }
        let gx = Tensor(uninitialized: x.shape)
        ChannelKernels.affine2(n: N, channels: C, spatial: S, gy.base, a.base, x.base, b.base, shift: k.base, gx.base)
        return gx
    }
}
