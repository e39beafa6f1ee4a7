// The categorical distribution over K classes, parameterised by unnormalised
// logits along the last axis; values are class indices stored as Float tensors.
#if canImport(Glibc)
import Glibc
#endif
import CohortCore
import CohortTensor

/// The categorical distribution: P(k) = softmax(logits)[k] over the last axis (K ≥ 1 classes).
public struct Categorical: Distribution {
    /// Unnormalised log-probabilities, shape `batchShape + [K]`.
    public let logits: Tensor
    public var batchShape: [Int] { Array(logits.shape.dropLast()) }
    public var eventShape: [Int] { [] }
    /// The number of classes K.
    public var classCount: Int { logits.shape.last ?? 0 }

    /// Categorical over the last axis of `logits` (rank ≥ 1, finite).
    public init(logits: Tensor) throws {
        guard logits.rank >= 1, logits.shape.last! >= 1 else {
            throw CohortError.invalidArgument("Categorical: logits need a class axis, got shape \(describeShape(logits.shape))")
        }
        try checkParameter(logits, "Categorical", "logits", "finite") { $0.isFinite }
        self.logits = logits
    }

    /// Categorical from probabilities along the last axis (positive; normalised here).
    public init(probs: Tensor) throws {
        try checkParameter(probs, "Categorical", "probs", "finite and > 0") { $0.isFinite && $0 > 0 }
        try self.init(logits: probs.log())
    }

    /// softmax(logits) over the last axis.
    public var probs: Tensor { get throws { try logits.softmax(axis: -1) } }

    /// Inverse-CDF draws of class indices, shape `[count] + batchShape`.
    public func sample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor {
        guard count >= 0 else { throw CohortError.invalidArgument("Categorical.sample: count must be >= 0, got \(count)") }
        let p: [Double] = try withNoGrad { try probs }.scalars.map { Double($0) }
        let k = classCount, batch = p.count / k
        var out = [Float](repeating: 0, count: count * batch)
        for n in 0..<count {
            for b in 0..<batch {
                var u = generator.nextDouble(), chosen = k - 1
                for j in 0..<k { u -= p[b * k + j]; if u < 0 { chosen = j; break } }
                out[n * batch + b] = Float(chosen)
            }
        }
        return try Tensor(out, shape: [count] + batchShape)
    }

    /// logSoftmax(logits)[value], `value` holding class indices; broadcast against the batch shape.
    public func logProb(_ value: Tensor) throws -> Tensor {
        try checkIntegers(value, "Categorical", "0..<\(classCount)") { $0 >= 0 && Int($0) < classCount }
        let logP = try logits.logSoftmax(axis: -1)
        let shape = try broadcastShapes(value.shape, batchShape, op: "Categorical.logProb")
        let index = try Tensor(try broadcastValues(value, to: shape).map(Float.init), shape: shape + [1])
        let leading = [Int](repeating: 1, count: shape.count - batchShape.count)
        let table = try logP.reshape(leading + logP.shape).expand(shape + [classCount])
        return try table.contiguous().gather(axis: -1, index: index).squeeze(-1)
    }

    /// Not defined for class labels: throws.
    public var mean: Tensor { get throws { throw CohortError.invalidArgument("Categorical: the mean of class labels is not defined") } }
    /// Not defined for class labels: throws.
    public var variance: Tensor { get throws { throw CohortError.invalidArgument("Categorical: the variance of class labels is not defined") } }

    /// −Σₖ pₖ log pₖ over the last axis.
    public func entropy() throws -> Tensor {
        let logP = try logits.logSoftmax(axis: -1)
        return try (logP.exp() * logP).sum(axes: [-1]) * -1
    }
}
