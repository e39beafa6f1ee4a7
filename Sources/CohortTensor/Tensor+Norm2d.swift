// Batch normalisation over `[N, C, …]` (per channel, statistics across the batch
// and spatial positions), training and evaluation, with its backward through the
// batch statistics. Kernels: CohortKernels/ConvNormKernels.
import CohortCore
import CohortKernels

extension Tensor {
    /// Batch normalisation, PyTorch's `F.batch_norm`.
    ///
    /// With `training` (or without running statistics) each channel is normalised by the
    /// mean and biased variance over the batch and spatial positions, and the running
    /// statistics, when given, are updated in place: `running = (1 - momentum)·running +
    /// momentum·batch` (the unbiased variance for `runningVar`). Otherwise the running
    /// statistics normalise. Then `y = x̂·weight + bias` per channel.
    ///
    /// - Parameters:
    ///   - x: `[N, C]` or `[N, C, …]` (e.g. `[N, C, H, W]`).
    ///   - runningMean, runningVar: `[C]` buffers (contiguous), or nil.
    ///   - weight, bias: `[C]` affine parameters, or nil (1 and 0).
    /// - Returns: a tensor shaped like `x`. Gradients flow to `x` (through the batch
    ///   statistics in training), `weight` and `bias`; never to the running statistics.
    /// - Throws: `CohortError.shapeMismatch` naming `x`'s shape and the wrong `[C]` tensor;
    ///   `CohortError.invalidArgument` when training with a single value per channel.
    public static func batchNorm(_ x: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor?, bias: Tensor?,
                                 training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) throws -> Tensor {
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
        if useBatch && M <= 1 {
            throw CohortError.invalidArgument("batchNorm: expected more than 1 value per channel when training, got input \(describeShape(x.shape))")
        }
        let xc = x.contiguous()
        let mean = Tensor(uninitialized: [C]), invstd = Tensor(uninitialized: [C])
        if useBatch {
            ChannelKernels.sums(n: N, channels: C, spatial: S, xc.base, mean.base)
            Elementwise.scale(C, alpha: 1 / Float(M), mean.base)
            ChannelKernels.centeredDot(n: N, channels: C, spatial: S, xc.base, xc.base, center: mean.base, invstd.base)
            if let rm = runningMean, let rv = runningVar {
                try rm.withMutableBuffer { m in
                    try rv.withMutableBuffer { v in
                        for c in 0..<C {
                            m[c] = (1 - momentum) * m[c] + momentum * mean.base[c]
                            v[c] = (1 - momentum) * v[c] + momentum * invstd.base[c] / Float(M - 1)
                        }
                    }
                }
            }
            for c in 0..<C { invstd.base[c] = 1 / (invstd.base[c] / Float(M) + eps).squareRoot() }
        } else {
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
        let dx = xc.detached()
        return record(out, "batchNorm", inputs) { g0, ctx in
            let gy = g0.contiguous()
            var grads = [Tensor?](repeating: nil, count: inputs.count)
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
                // dx = A·dy + B·(x - mean) + K per channel; B and K vanish with fixed statistics.
                let a = scale, b = Tensor(uninitialized: [C]), k = Tensor(uninitialized: [C])
                for c in 0..<C {
                    if useBatch {
                        let bc = -a.base[c] * invstd.base[c] * invstd.base[c] * sumDyXmu.base[c] / Float(M)
                        b.base[c] = bc
                        k.base[c] = -a.base[c] * sumDy.base[c] / Float(M) - bc * mean.base[c]
                    } else {
                        b.base[c] = 0; k.base[c] = 0
                    }
                }
                let gx = Tensor(uninitialized: dx.shape)
                ChannelKernels.affine2(n: N, channels: C, spatial: S, gy.base, a.base, dx.base, b.base, shift: k.base, gx.base)
                grads[0] = gx
            }
            return grads
        }
    }
}
