// Reverse-mode autograd, define-by-run. Each op records a GradNode holding its
// inputs and a backward closure defined beside the forward. `backward()` walks
// the graph in a deterministic reverse topological order (array order only),
// accumulates leaf gradients, and fires a leaf's hooks when its gradient is final.
import CohortCore

/// Whether operations record the graph (see `withNoGrad`).
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording operations for autograd (evaluation, optimizer steps).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false) { try body() }
}

/// Lets an op's backward write a leaf gradient in place (e.g. a GEMM with beta = 1
/// straight into a parameter's arena slice) instead of returning a temporary.
public final class GradContext {
    let inputs: [Tensor]
    var claimed: [Bool]

    init(_ inputs: [Tensor]) {
        self.inputs = inputs
        self.claimed = Array(repeating: false, count: inputs.count)
    }

    /// Whether input `i` needs a gradient.
    public func needs(_ i: Int) -> Bool { inputs[i].requiresGrad }

    /// The contiguous gradient buffer of input `i` to accumulate into, if `i` is a
    /// leaf that requires a gradient. Calling this claims the slot: the op must add
    /// its contribution into the returned tensor and return `nil` for slot `i`.
    public func accumulator(_ i: Int) -> Tensor? {
        let t = inputs[i]
        guard t.requiresGrad, t.gradFn == nil, !claimed[i] else { return nil }
        if let g = t.grad, g.isContiguous, g.shape == t.shape {
            claimed[i] = true
            return g
        }
        if t.grad == nil {
            t.grad = Tensor(storage: Storage(zeros: t.count), shape: t.shape)
            claimed[i] = true
            return t.grad
        }
        return nil
    }
}

/// One recorded operation: its inputs and how to map the output gradient to theirs.
final class GradNode {
    let name: String
    var inputs: [Tensor]
    var backward: ((Tensor, GradContext) throws -> [Tensor?])?

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor, GradContext) throws -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }

    func release() { inputs = []; backward = nil }
}

extension Tensor {
    /// Marks `out` as produced by `name` from `inputs` when any input requires a gradient.
    /// `backward` receives the output gradient and returns one gradient per input
    /// (shaped like that input) or `nil` where none is needed.
    @inline(__always)
    func record(_ out: Tensor, _ name: String, _ inputs: [Tensor],
                _ backward: @escaping (Tensor, GradContext) throws -> [Tensor?]) -> Tensor {
        Tensor.record(out, name, inputs, backward)
    }

    /// Static form of `record`, for ops that are not methods.
    @inline(__always)
    static func record(_ out: Tensor, _ name: String, _ inputs: [Tensor],
                       _ backward: @escaping (Tensor, GradContext) throws -> [Tensor?]) -> Tensor {
        guard inputs.contains(where: { $0.requiresGrad }), GradMode.isEnabled else { return out }
        out.requiresGrad = true
        out.gradFn = GradNode(name: name, inputs: inputs, backward: backward)
        return out
    }

    /// Computes gradients of this tensor with respect to every leaf that requires them.
    ///
    /// - Parameters:
    ///   - seed: the gradient of the final objective with respect to this tensor (same
    ///     shape); may be omitted for a one-element tensor (then 1).
    ///   - retainGraph: keep the graph so `backward` can run again through it.
    /// - Throws: `CohortError.invalidArgument` if this tensor does not require a
    ///   gradient, if no seed is given for a non-scalar, or if the graph was freed.
    public func backward(_ seed: Tensor? = nil, retainGraph: Bool = false) throws {
        guard requiresGrad else {
            throw CohortError.invalidArgument("backward(): tensor of shape \(describeShape(shape)) does not require a gradient")
        }
        let g0: Tensor
        if let seed {
            guard seed.shape == shape else {
                throw CohortError.shapeMismatch(op: "backward", "seed \(describeShape(seed.shape)) vs tensor \(describeShape(shape))")
            }
            g0 = seed
        } else {
            guard count == 1 else {
                throw CohortError.invalidArgument("backward(): a seed gradient is needed for a non-scalar tensor of shape \(describeShape(shape))")
            }
            g0 = Tensor.full(shape, 1)
        }
        try withNoGrad { try runBackward(seed: g0, retainGraph: retainGraph) }
    }

    private func runBackward(seed: Tensor, retainGraph: Bool) throws {
        guard let rootNode = gradFn else {
            Tensor.accumulateLeaf(self, seed)
            for h in gradHooks { h(grad!) }
            return
        }
        if rootNode.backward == nil {
            throw CohortError.invalidArgument("backward(): the graph was already freed by an earlier backward(); pass retainGraph: true to the first call")
        }
        // Post-order DFS over nodes (inputs in array order) gives a deterministic topological order.
        var order: [GradNode] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradNode, Int)] = [(rootNode, 0)]
        visited.insert(ObjectIdentifier(rootNode))
        while let (node, next) = stack.popLast() {
            if next < node.inputs.count {
                stack.append((node, next + 1))
                if let parent = node.inputs[next].gradFn, node.inputs[next].requiresGrad,
                   visited.insert(ObjectIdentifier(parent)).inserted {
                    if parent.backward == nil {
                        throw CohortError.invalidArgument("backward(): part of the graph (\(parent.name)) was freed by an earlier backward(); pass retainGraph: true")
                    }
                    stack.append((parent, 0))
                }
            } else {
                order.append(node)
            }
        }
        // How many contributions each leaf will receive, so hooks fire when it is final.
        var pending: [ObjectIdentifier: Int] = [:]
        for node in order {
            for t in node.inputs where t.requiresGrad && t.gradFn == nil { pending[ObjectIdentifier(t), default: 0] += 1 }
        }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(rootNode): seed]
        for node in order.reversed() {
            let inputs = node.inputs
            let g = grads.removeValue(forKey: ObjectIdentifier(node))
            let ctx = GradContext(inputs)
            let inGrads: [Tensor?] = try g.map { try node.backward!($0, ctx) } ?? Array(repeating: nil, count: inputs.count)
            for (i, t) in inputs.enumerated() where t.requiresGrad {
                if let parent = t.gradFn {
                    guard let gi = inGrads[i] else { continue }
                    let key = ObjectIdentifier(parent)
                    if let existing = grads[key] { grads[key] = Tensor.sumGrads(existing, gi) } else { grads[key] = gi }
                } else {
                    if !ctx.claimed[i], let gi = inGrads[i] { Tensor.accumulateLeaf(t, gi) }
                    let key = ObjectIdentifier(t)
                    let left = pending[key]! - 1
                    pending[key] = left
                    if left == 0, !t.gradHooks.isEmpty {
                        if t.grad == nil { t.grad = Tensor.zeros(t.shape) }
                        for h in t.gradHooks { h(t.grad!) }
                    }
                }
            }
            if !retainGraph { node.release() }
        }
    }

    static func sumGrads(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = Tensor(uninitialized: a.shape)
        Elementwise.binary(.add, shape: a.shape, a: a.base, aStrides: a.strides, b: b.base, bStrides: b.strides, out: out.base)
        return out
    }

    /// Adds `g` into `leaf.grad` in place (keeping arena views), or stores a private copy.
    static func accumulateLeaf(_ leaf: Tensor, _ g: Tensor) {
        if let existing = leaf.grad {
            if existing.isContiguous {
                Elementwise.binary(.add, shape: existing.shape, a: existing.base, aStrides: existing.strides,
                                   b: g.base, bStrides: g.strides, out: existing.base)
            } else {
                leaf.grad = sumGrads(existing, g)
            }
        } else {
            leaf.grad = g.copy()
        }
    }
}

extension Tensor {
    /// Records a user-defined differentiable operation.
    ///
    /// `forward` runs without recording (use any ops or raw buffers inside it);
    /// `backward` receives the output gradient, the (detached) inputs and the
    /// (detached) output, and returns one gradient per input shaped like it, or
    /// `nil` for inputs that need none. See `examples/custom-layer`.
    public static func customOp(_ name: String, inputs: [Tensor],
                                forward: ([Tensor]) throws -> Tensor,
                                backward: @escaping (_ gradOutput: Tensor, _ inputs: [Tensor], _ output: Tensor) throws -> [Tensor?]) throws -> Tensor {
        let detachedInputs = inputs.map { $0.detached() }
        let result = try withNoGrad { try forward(detachedInputs) }
        let out = result.gradFn == nil && !result.requiresGrad ? result : result.detached()
        let savedOut = out.detached()
        return record(out, name, inputs) { g, _ in
            let grads = try backward(g, detachedInputs, savedOut)
            guard grads.count == inputs.count else {
                throw CohortError.invalidArgument("customOp \(name): backward returned \(grads.count) gradients for \(inputs.count) inputs")
            }
            for (i, gi) in grads.enumerated() {
                if let gi, gi.shape != inputs[i].shape {
                    throw CohortError.shapeMismatch(op: "customOp \(name)", "gradient \(i) has shape \(describeShape(gi.shape)), input has \(describeShape(inputs[i].shape))")
                }
            }
            return grads
        }
    }
}
