// Reverse-mode autograd, define-by-run. Each op records a GradNode holding its
// inputs and a backward closure defined beside the forward. `backward()` walks
// the graph in a deterministic reverse topological order (array order only),
// accumulates leaf gradients, and fires a leaf's hooks when its gradient is final.
import CohortCore
import CohortKernels

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
    /// False in `Autograd.gradients`, which must not write into any leaf's `.grad`.
    let mayAccumulate: Bool

    init(_ inputs: [Tensor], mayAccumulate: Bool = true) {
        self.inputs = inputs
        self.claimed = Array(repeating: false, count: inputs.count)
        self.mayAccumulate = mayAccumulate
    }

    /// Whether input `i` needs a gradient.
    public func needs(_ i: Int) -> Bool { inputs[i].requiresGrad }

    /// The contiguous gradient buffer of input `i` to accumulate into, if `i` is a
    /// leaf that requires a gradient. Calling this claims the slot: the op must add
    /// its contribution into the returned tensor and return `nil` for slot `i`.
    public func accumulator(_ i: Int) -> Tensor? {
        let t = inputs[i]
        guard mayAccumulate, t.requiresGrad, t.gradFn == nil, !claimed[i] else { return nil }
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
/// `backward` is the fast raw-kernel closure; `rule` (when the op has one) computes the
/// same gradients with recorded ops, for double backward (`DerivativeRules.swift`).
final class GradNode {
    let name: String
    var inputs: [Tensor]
    var backward: ((Tensor, GradContext) throws -> [Tensor?])?
    let rule: DerivativeRule?
    /// The traced module whose forward recorded this op (−1: none, or tracing off).
    var traceScope: Int32 = -1

    init(name: String, inputs: [Tensor], rule: DerivativeRule? = nil,
         backward: @escaping (Tensor, GradContext) throws -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.rule = rule
        self.backward = backward
    }

    func release() { inputs = []; backward = nil }
}

extension Tensor {
    /// Marks `out` as produced by `name` from `inputs` when any input requires a gradient.
    /// `backward` receives the output gradient and returns one gradient per input
    /// (shaped like that input) or `nil` where none is needed.
    /// `rule`, when given, makes the op twice differentiable (`Autograd.gradients(createGraph:)`).
    @inline(__always)
    func record(_ out: Tensor, _ name: String, _ inputs: [Tensor], rule: DerivativeRule? = nil,
                _ backward: @escaping (Tensor, GradContext) throws -> [Tensor?]) -> Tensor {
        Tensor.record(out, name, inputs, rule: rule, backward)
    }

    /// Static form of `record`, for ops that are not methods.
    @inline(__always)
    static func record(_ out: Tensor, _ name: String, _ inputs: [Tensor], rule: DerivativeRule? = nil,
                       _ backward: @escaping (Tensor, GradContext) throws -> [Tensor?]) -> Tensor {
        guard inputs.contains(where: { $0.requiresGrad }), GradMode.isEnabled else { return out }
        out.requiresGrad = true
        let node = GradNode(name: name, inputs: inputs, rule: rule, backward: backward)
        if let tracer = Trace.recorder { node.traceScope = tracer.currentScope }
        out.gradFn = node
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

    /// The reverse pass of `backward()`. `firesHooks: false` and `allowedLeaves` serve a
    /// checkpointed op's recomputation (Tensor+Checkpoint.swift): leaves accumulate but their
    /// hooks wait for the outer pass, and a leaf outside `allowedLeaves` is an error naming `caller`.
    func runBackward(seed: Tensor, retainGraph: Bool, firesHooks: Bool = true,
                     allowedLeaves: Set<ObjectIdentifier>? = nil, caller: String = "backward()") throws {
        guard let rootNode = gradFn else {
            Tensor.accumulateLeaf(self, seed)
            if firesHooks { for h in gradHooks { h(grad!) } }
            return
        }
        if rootNode.backward == nil {
            throw CohortError.invalidArgument("backward(): the graph was already freed by an earlier backward(); pass retainGraph: true to the first call")
        }
        let order = try Tensor.topologicalOrder(from: rootNode, caller: caller)
        // How many contributions each leaf will receive, so hooks fire when it is final.
        var pending: [ObjectIdentifier: Int] = [:]
        for node in order {
            for t in node.inputs where t.requiresGrad && t.gradFn == nil { pending[ObjectIdentifier(t), default: 0] += 1 }
        }
        if let allowedLeaves, let stray = order.lazy.flatMap(\.inputs).first(where: {
            $0.requiresGrad && $0.gradFn == nil && !allowedLeaves.contains(ObjectIdentifier($0))
        }) {
            throw CohortError.invalidArgument("\(caller): the recomputed forward uses a tensor that requires a gradient "
                + "(\(stray.name ?? "shape \(describeShape(stray.shape))")) but is neither an input nor a listed parameter; "
                + "pass it in `inputs` or `parameters`")
        }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(rootNode): seed]
        // Tracing: each traced module's backward is one event, from its first op to its last.
        let tracer = Trace.recorder
        defer { tracer?.leaveBackward() }
        for node in order.reversed() {
            if let tracer { tracer.enterBackward(scope: node.traceScope) }
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
                    if left == 0, firesHooks, !t.gradHooks.isEmpty {
                        if t.grad == nil { t.grad = Tensor.zeros(t.shape) }
                        for h in t.gradHooks { h(t.grad!) }
                    }
                }
            }
            if !retainGraph { node.release() }
        }
    }

    /// Post-order DFS over nodes (inputs in array order): a deterministic topological order,
    /// every node after all the nodes that produce its inputs.
    static func topologicalOrder(from rootNode: GradNode, caller: String) throws -> [GradNode] {
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
                        throw CohortError.invalidArgument("\(caller): part of the graph (\(parent.name)) was freed by an earlier backward(); pass retainGraph: true")
                    }
                    stack.append((parent, 0))
                }
            } else {
                order.append(node)
            }
        }
        return order
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

/// Functional autograd, like `torch.autograd.grad`.
public enum Autograd {
    /// The gradients of `output` with respect to `inputs`, returned instead of accumulated:
    /// no leaf's `.grad` is read or written and no hook fires.
    ///
    /// With `createGraph: true` the backward pass is itself recorded (each op's
    /// differentiable rule, `DerivativeRules.swift`), so the returned gradients require
    /// a gradient wherever they depend on an input and can be differentiated again
    /// (Hessian-vector products, Hessians). Without it the fast training kernels run.
    ///
    /// - Parameters:
    ///   - output: any tensor that requires a gradient.
    ///   - inputs: tensors that require a gradient — leaves, or intermediates of the graph.
    ///   - seed: the gradient with respect to `output` (same shape); may be omitted when
    ///     `output` has one element (then 1).
    ///   - createGraph: record the backward pass for higher-order derivatives.
    ///   - retainGraph: keep `output`'s graph for another pass; defaults to `createGraph`
    ///     (the recorded gradients refer to it).
    /// - Returns: one gradient per input, shaped like it; zeros for an input `output`
    ///   does not depend on.
    /// - Throws: `CohortError.invalidArgument` if `output` or an input does not require
    ///   a gradient, no seed is given for a non-scalar, the graph was freed, or — with
    ///   `createGraph` — an op without a differentiable backward is on the path
    ///   ("double backward is not supported for conv2d"); `shapeMismatch` for a bad seed.
    public static func gradients(of output: Tensor, withRespectTo inputs: [Tensor], seed: Tensor? = nil,
                                 createGraph: Bool = false, retainGraph: Bool? = nil) throws -> [Tensor] {
        guard output.requiresGrad else {
            throw CohortError.invalidArgument("Autograd.gradients: the output (shape \(describeShape(output.shape))) does not require a gradient; it depends on no tensor with requiresGrad")
        }
        for (i, t) in inputs.enumerated() where !t.requiresGrad {
            throw CohortError.invalidArgument("Autograd.gradients: input \(i) (shape \(describeShape(t.shape))) does not require a gradient")
        }
        let g0: Tensor
        if let seed {
            guard seed.shape == output.shape else {
                throw CohortError.shapeMismatch(op: "Autograd.gradients", "seed \(describeShape(seed.shape)) vs output \(describeShape(output.shape))")
            }
            g0 = seed
        } else {
            guard output.count == 1 else {
                throw CohortError.invalidArgument("Autograd.gradients: a seed is needed for an output of shape \(describeShape(output.shape))")
            }
            g0 = Tensor.full(output.shape, 1)
        }
        let found = try GradMode.$isEnabled.withValue(createGraph) {
            try propagate(from: output, seed: g0, to: inputs, createGraph: createGraph, retainGraph: retainGraph ?? createGraph)
        }
        return inputs.indices.map { i in
            guard let g = found[i] else { return Tensor.zeros(inputs[i].shape) }
            return createGraph ? g : g.copy()     // never hand out a view of the seed or of a freed buffer
        }
    }

    /// Reverse pass from `output` that stops at `inputs` and only visits nodes leading to them.
    private static func propagate(from output: Tensor, seed: Tensor, to inputs: [Tensor],
                                  createGraph: Bool, retainGraph: Bool) throws -> [Tensor?] {
        func key(_ t: Tensor) -> ObjectIdentifier { t.gradFn.map(ObjectIdentifier.init) ?? ObjectIdentifier(t) }
        let targets = Set(inputs.map(key))
        var grads: [ObjectIdentifier: Tensor] = [key(output): seed]
        func add(_ k: ObjectIdentifier, _ g: Tensor) throws {
            if let e = grads[k] { grads[k] = createGraph ? try e + g : Tensor.sumGrads(e, g) } else { grads[k] = g }
        }
        var found: [ObjectIdentifier: Tensor] = [:]
        if let root = output.gradFn {
            guard root.backward != nil else {
                throw CohortError.invalidArgument("Autograd.gradients: the graph was already freed by an earlier backward; pass retainGraph: true to it")
            }
            let order = try Tensor.topologicalOrder(from: root, caller: "Autograd.gradients")
            // Producers come first in `order`, so one forward sweep finds the nodes leading to a target.
            var leads = Set<ObjectIdentifier>()
            for node in order where node.inputs.contains(where: { $0.requiresGrad && (targets.contains(key($0)) || leads.contains(key($0))) }) {
                leads.insert(ObjectIdentifier(node))
            }
            for node in order.reversed() {
                let k = ObjectIdentifier(node)
                guard let g = grads.removeValue(forKey: k) else { continue }
                if targets.contains(k) { found[k] = g }
                guard leads.contains(k) else { continue }
                let inGrads: [Tensor?]
                if createGraph {
                    guard let rule = node.rule else { throw Tensor.doubleBackwardUnsupported(node.name) }
                    inGrads = try rule.backward(g, node.inputs, op: node.name)
                } else {
                    inGrads = try node.backward!(g, GradContext(node.inputs, mayAccumulate: false))
                }
                for (i, t) in node.inputs.enumerated() where t.requiresGrad {
                    let ki = key(t)
                    if let gi = inGrads[i], targets.contains(ki) || leads.contains(ki) { try add(ki, gi) }
                }
            }
            if !retainGraph { for node in order { node.release() } }
        }
        for (k, g) in grads where targets.contains(k) { found[k] = g }     // leaf targets (and a leaf output)
        return inputs.map { found[key($0)] }
    }
}
