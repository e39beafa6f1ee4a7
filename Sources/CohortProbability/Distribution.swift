// The `Distribution` protocol shared by every distribution in CohortProbability,
// in the spirit of torch.distributions: parameters are `Tensor`s (broadcast to a
// batch shape), `logProb` is built from differentiable tensor ops, sampling is
// seeded by a `RandomGenerator` and done in Double, then stored as Float32.
import CohortCore
import CohortTensor

/// A probability distribution over values of shape `batchShape + eventShape`.
public protocol Distribution {
    /// The broadcast shape of the parameters: independent, differently parameterised distributions.
    var batchShape: [Int] { get }
    /// The shape of one draw ([] for scalar distributions, [d] for a d-dimensional normal).
    var eventShape: [Int] { get }
    /// `count` independent draws, shape `[count] + batchShape + eventShape`, not connected to autograd.
    func sample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor
    /// log p(value), broadcasting `value` against the batch shape; differentiable in the parameters
    /// (and in `value` for continuous distributions). Shape: broadcast(value, batch) without the event dims.
    func logProb(_ value: Tensor) throws -> Tensor
    /// E[X], shape `batchShape + eventShape`. Throws where the mean is undefined.
    var mean: Tensor { get throws }
    /// Var[X] (the diagonal of the covariance for vector events). Throws where undefined.
    var variance: Tensor { get throws }
    /// The (differential) entropy in nats, shape `batchShape`.
    func entropy() throws -> Tensor
}

/// A scalar distribution with a cumulative distribution function and its inverse.
public protocol UnivariateDistribution: Distribution {
    /// P(X ≤ x) elementwise, broadcast against the batch shape; computed in Double, not differentiable.
    func cdf(_ x: Tensor) throws -> Tensor
    /// The smallest x with P(X ≤ x) ≥ p elementwise; throws for p outside [0, 1]. Not differentiable.
    func quantile(_ p: Tensor) throws -> Tensor
}

/// The broadcast shape of `tensors`, with errors naming `function`.
func batchShape(of tensors: [Tensor], _ function: String) throws -> [Int] {
    var shape: [Int] = []
    for t in tensors { shape = try broadcastShapes(shape, t.shape, op: function) }
    return shape
}

/// `t`'s values broadcast to `shape`, in Double, row-major.
func broadcastValues(_ t: Tensor, to shape: [Int]) throws -> [Double] {
    if t.shape == shape { return t.scalars.map(Double.init) }
    let leading = [Int](repeating: 1, count: Swift.max(0, shape.count - t.rank))
    return try t.detached().reshape(leading + t.shape).expand(shape).contiguous().scalars.map(Double.init)
}

/// Throws unless every element of `t` satisfies `valid`, naming the distribution, parameter, element and value.
func checkParameter(_ t: Tensor, _ distribution: String, _ name: String, _ requirement: String,
                    _ valid: (Float) -> Bool) throws {
    for (i, v) in t.scalars.enumerated() where !valid(v) {
        let at = t.count > 1 ? " (element \(i))" : ""
        throw CohortError.invalidArgument("\(distribution): \(name) must be \(requirement), got \(v)\(at)")
    }
}

/// Evaluates `f` elementwise in Double over `inputs` broadcast together; the result has the broadcast shape.
func mapDoubles(_ inputs: [Tensor], _ function: String, _ f: ([Double]) throws -> Double) throws -> Tensor {
    let shape = try batchShape(of: inputs, function)
    let columns = try inputs.map { try broadcastValues($0, to: shape) }
    let count = shape.reduce(1, *)
    var out = [Float](repeating: 0, count: count)
    var row = [Double](repeating: 0, count: inputs.count)
    for i in 0..<count {
        for j in inputs.indices { row[j] = columns[j][i] }
        out[i] = Float(try f(row))
    }
    return try Tensor(out, shape: shape)
}

/// `count` draws per batch element from `draw(parameters)`, shape `[count] + shape`.
func drawScalars(_ count: Int, _ parameters: [Tensor], shape: [Int], _ function: String,
                 generator: inout RandomGenerator, _ draw: (inout RandomGenerator, [Double]) -> Double) throws -> Tensor {
    guard count >= 0 else { throw CohortError.invalidArgument("\(function).sample: count must be >= 0, got \(count)") }
    let columns = try parameters.map { try broadcastValues($0, to: shape) }
    let batch = shape.reduce(1, *)
    var out = [Float](repeating: 0, count: count * batch)
    var row = [Double](repeating: 0, count: parameters.count)
    for n in 0..<count {
        for i in 0..<batch {
            for j in parameters.indices { row[j] = columns[j][i] }
            out[n * batch + i] = Float(draw(&generator, row))
        }
    }
    return try Tensor(out, shape: [count] + shape)
}

/// A tensor of `shape` filled with `value`.
func constant(_ value: Float, _ shape: [Int]) -> Tensor { Tensor.full(shape, value) }

/// −∞ where `inSupport` is false, `logDensity` elsewhere (values outside a continuous support).
func maskSupport(_ logDensity: Tensor, _ value: Tensor, _ inSupport: (Float) -> Bool) throws -> Tensor {
    let shape = logDensity.shape
    let values = try broadcastValues(value, to: shape)
    guard values.contains(where: { !inSupport(Float($0)) }) else { return logDensity }
    let mask = try Tensor(values.map { inSupport(Float($0)) ? 1 : 0 }, shape: shape)
    return try Tensor.where(mask, logDensity, constant(-.infinity, shape))
}

/// Throws unless every element of `value` is an integer satisfying `valid` (discrete supports).
func checkIntegers(_ value: Tensor, _ distribution: String, _ requirement: String, _ valid: (Float) -> Bool) throws {
    for (i, v) in value.scalars.enumerated() where !(v == v.rounded() && valid(v)) {
        throw CohortError.invalidArgument("\(distribution).logProb: value \(i) is \(v), outside the support (\(requirement))")
    }
}
