// Loss functions. Cross-entropy and NLL use the fused kernels in CohortTensor;
// the regression losses and BCE-with-logits are compositions of ops, so their
// gradients come from autograd.
import CohortCore
import CohortTensor

/// Loss functions, PyTorch-style (`reduction: .mean` by default).
public enum Loss {
    static func reduce(_ t: Tensor, _ r: Reduction) throws -> Tensor {
        switch r {
        case .mean: return try t.mean()
        case .sum: return try t.sum()
        case .none: return t
        }
    }

    static func checkSame(_ a: Tensor, _ b: Tensor, _ op: String) throws {
        guard a.shape == b.shape else {
            throw CohortError.shapeMismatch(op: op, "prediction \(describeShape(a.shape)) vs target \(describeShape(b.shape))")
        }
    }

    /// Mean squared error.
    public static func mse(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try checkSame(prediction, target, "mseLoss")
        return try reduce((prediction - target).square(), reduction)
    }

    /// Mean absolute error.
    public static func l1(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try checkSame(prediction, target, "l1Loss")
        return try reduce((prediction - target).abs(), reduction)
    }

    /// Huber loss: ½d² for |d| ≤ δ, else δ(|d| - ½δ).
    public static func huber(_ prediction: Tensor, _ target: Tensor, delta: Float = 1, reduction: Reduction = .mean) throws -> Tensor {
        try checkSame(prediction, target, "huberLoss")
        let d = try (prediction - target).abs()
        let quadratic = d.clamp(max: delta)
        let linear = try d - quadratic
        return try reduce(quadratic.square() * 0.5 + linear * delta, reduction)
    }

    /// Cross-entropy of `logits: [N, C]` against class indices (fused log-softmax + NLL).
    public static func crossEntropy(_ logits: Tensor, _ targets: [Int], labelSmoothing: Float = 0,
                                    ignoreIndex: Int = -100, reduction: Reduction = .mean) throws -> Tensor {
        try Tensor.crossEntropy(logits, targets: targets, labelSmoothing: labelSmoothing, ignoreIndex: ignoreIndex, reduction: reduction)
    }

    /// Negative log-likelihood of log-probabilities `[N, C]` at class indices.
    public static func nll(_ logProbs: Tensor, _ targets: [Int], ignoreIndex: Int = -100, reduction: Reduction = .mean) throws -> Tensor {
        try Tensor.nllLoss(logProbs, targets: targets, ignoreIndex: ignoreIndex, reduction: reduction)
    }

    /// Binary cross-entropy on logits, stable for large |x|:
    /// `max(x, 0) - x·y + log(1 + e^{-|x|})`.
    public static func bceWithLogits(_ logits: Tensor, _ target: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try checkSame(logits, target, "bceWithLogitsLoss")
        let softplus = try (-logits.abs()).exp() + 1
        let l = try logits.relu() - logits * target + softplus.log()
        return try reduce(l, reduction)
    }
}
