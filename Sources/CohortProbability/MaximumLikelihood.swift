// Maximum-likelihood fitting with CohortOptim's optimizers: the parameters are
// unconstrained tensors (a user maps them to a distribution, e.g. scale = exp(s)),
// the loss is the mean negative log-likelihood of the data, and Adam or SGD
// minimises it through autograd.
import CohortCore
import CohortNN
import CohortOptim
import CohortTensor

/// Which optimizer minimises the negative log-likelihood.
public enum LikelihoodOptimizer: Sendable {
    /// Adam with this learning rate.
    case adam(learningRate: Float)
    /// SGD with this learning rate and momentum.
    case sgd(learningRate: Float, momentum: Float)
}

/// The result of `fitMaximumLikelihood`.
public struct MaximumLikelihoodFit: Sendable {
    /// The final unconstrained parameter values, one array per parameter (row-major).
    public let parameters: [[Float]]
    /// The mean negative log-likelihood per observation at the final parameters.
    public let negativeLogLikelihood: Double
    /// The mean negative log-likelihood before the first step.
    public let initialNegativeLogLikelihood: Double
    /// Optimizer steps taken.
    public let steps: Int
}

/// The parameters as a module, so a `ParameterArena` (and so any optimizer) can own them.
final class ParameterSet: Module {
    let tensors: [Tensor]
    var isTraining = true
    init(_ tensors: [Tensor]) { self.tensors = tensors }
    func forward(_ x: Tensor) throws -> Tensor { x }
    var localParameters: [(name: String, tensor: Tensor)] { tensors.enumerated().map { ("p\($0.offset)", $0.element) } }
}

/// Fits parameters by minimising the mean of −`model`(parameters).logProb(`data`).
///
/// - Parameters:
///   - data: the observations; `logProb` must broadcast them (e.g. shape [n] for a scalar distribution).
///   - initial: starting values of the unconstrained parameters (copied; the originals are untouched).
///   - optimizer: Adam (default, lr 0.05) or SGD.
///   - steps: the number of optimizer steps (> 0).
///   - model: builds the distribution from the parameter tensors, e.g. `{ try Normal(loc: $0[0], scale: $0[1].exp()) }`.
/// - Throws: `CohortError.invalidArgument` for no parameters, steps ≤ 0 or a non-finite loss (the message
///   names the step); `model`'s errors.
public func fitMaximumLikelihood<D: Distribution>(data: Tensor, initial: [Tensor], optimizer: LikelihoodOptimizer = .adam(learningRate: 0.05),
                                                  steps: Int = 2000, model: ([Tensor]) throws -> D) throws -> MaximumLikelihoodFit {
    guard !initial.isEmpty else { throw CohortError.invalidArgument("fitMaximumLikelihood: no parameters to fit") }
    guard steps > 0 else { throw CohortError.invalidArgument("fitMaximumLikelihood: steps must be > 0, got \(steps)") }
    let parameters = try initial.map { try Tensor($0.contiguous().scalars, shape: $0.shape, requiresGrad: true) }
    let set = ParameterSet(parameters)
    let arena = ParameterArena(set)
    let opt: any Optimizer
    switch optimizer {
    case let .adam(lr): opt = Adam(arena, lr: lr)
    case let .sgd(lr, momentum): opt = SGD(arena, lr: lr, momentum: momentum)
    }
    func loss() throws -> Tensor { try model(parameters).logProb(data).mean() * -1 }
    let initialLoss = Double(try withNoGrad { try loss() }.item())
    for step in 0..<steps {
        opt.zeroGrad()
        let l = try loss()
        let value = try l.item()
        guard value.isFinite else {
            throw CohortError.invalidArgument("fitMaximumLikelihood: the negative log-likelihood is \(value) at step \(step); lower the learning rate or start closer")
        }
        try l.backward()
        opt.step()
    }
    let finalLoss = Double(try withNoGrad { try loss() }.item())
    return MaximumLikelihoodFit(parameters: parameters.map(\.scalars), negativeLogLikelihood: finalLoss,
                                initialNegativeLogLikelihood: initialLoss, steps: steps)
}
