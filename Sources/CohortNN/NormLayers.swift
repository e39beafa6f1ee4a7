// Batch normalisation layers. Running mean and variance are buffers
// (`localBuffers`: checkpointed and broadcast, never trained); `isTraining`
// chooses batch statistics (and updates the buffers) or the running ones;
// `statisticsSync` makes the batch statistics those of every process (SyncBatchNorm).
import CohortCore
import CohortTensor

/// Shared state and forward of `BatchNorm1d` and `BatchNorm2d`.
public class BatchNormBase {
    /// Number of channels `C`.
    public let numFeatures: Int
    /// Added to the variance before the square root.
    public let eps: Float
    /// Weight of the newest batch in the running statistics.
    public var momentum: Float
    /// `[C]` scale (γ) and shift (β), or nil without `affine`.
    public let weight: Tensor?, bias: Tensor?
    /// `[C]` running mean (starts at 0) and running unbiased variance (starts at 1).
    public let runningMean: Tensor, runningVar: Tensor
    public var isTraining = true
    /// SyncBatchNorm: in training, statistics over every process's batch through this sync
    /// (the Trainer sets it with `syncBatchNorm`); nil: this process's batch alone.
    public var statisticsSync: (any BatchStatisticsSync)?

    init(features numFeatures: Int, eps: Float, momentum: Float, affine: Bool) {
        self.numFeatures = numFeatures; self.eps = eps; self.momentum = momentum
        weight = affine ? parameter(Tensor.ones([numFeatures])) : nil
        bias = affine ? parameter(Tensor.zeros([numFeatures])) : nil
        runningMean = Tensor.zeros([numFeatures])
        runningVar = Tensor.ones([numFeatures])
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        guard let weight, let bias else { return [] }
        return [("weight", weight), ("bias", bias)]
    }

    public var localBuffers: [(name: String, tensor: Tensor)] { [("running_mean", runningMean), ("running_var", runningVar)] }

    func normalize(_ x: Tensor, ranks: [Int], layer: String) throws -> Tensor {
        guard ranks.contains(x.rank), x.shape[1] == numFeatures else {
            throw CohortError.shapeMismatch(op: "\(layer)(\(numFeatures))",
                                            "input \(describeShape(x.shape)) must be \(ranks.map { $0 == 2 ? "[N, C]" : $0 == 3 ? "[N, C, L]" : "[N, C, H, W]" }.joined(separator: " or ")) with C = \(numFeatures)")
        }
        return try Tensor.batchNorm(x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                                    training: isTraining, momentum: momentum, eps: eps, sync: statisticsSync)
    }
}

/// Batch normalisation of `[N, C]` or `[N, C, L]` (statistics per channel over N and L).
public final class BatchNorm1d: BatchNormBase, Module {
    /// - Parameters: `numFeatures` C; `eps`; `momentum` of the running statistics; `affine` learns γ and β.
    public init(_ numFeatures: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) {
        super.init(features: numFeatures, eps: eps, momentum: momentum, affine: affine)
    }
    /// - Throws: `CohortError.shapeMismatch` for another rank or channel count;
    ///   `CohortError.invalidArgument` when training on one value per channel.
    public func forward(_ x: Tensor) throws -> Tensor { try normalize(x, ranks: [2, 3], layer: "BatchNorm1d") }
}

/// Batch normalisation of `[N, C, H, W]` (statistics per channel over N, H and W).
public final class BatchNorm2d: BatchNormBase, Module {
    /// - Parameters: `numFeatures` C; `eps`; `momentum` of the running statistics; `affine` learns γ and β.
    public init(_ numFeatures: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) {
        super.init(features: numFeatures, eps: eps, momentum: momentum, affine: affine)
    }
    /// - Throws: `CohortError.shapeMismatch` for another rank or channel count;
    ///   `CohortError.invalidArgument` when training on one value per channel.
    public func forward(_ x: Tensor) throws -> Tensor { try normalize(x, ranks: [4], layer: "BatchNorm2d") }
}
