// Activation checkpointing: a function of some inputs and parameters recorded as
// one op that keeps only its inputs. Forward runs without recording; backward
// re-runs the forward with the graph recorded and backpropagates through it, so
// the function's activations live only while its own backward runs.
import CohortCore

extension Tensor {
    /// Runs `body` on `inputs` as one checkpointed op: in training (when the graph is
    /// recorded and an input or parameter requires a gradient) the forward keeps no
    /// intermediate tensor, only `inputs`; backward calls `body` again with the graph
    /// recorded and backpropagates the output gradient through that recomputation.
    ///
    /// `body` receives detached views of `inputs` and must compute the same function both
    /// times (a caller drawing random numbers inside it restores its generators before the
    /// second call: `Module.checkpointed`). Gradients reach `inputs` and the leaves in
    /// `parameters`; in `backward()` a parameter's gradient is accumulated in place (into
    /// its arena view) and its hooks fire once, when the checkpointed op's backward has
    /// finished, as for any op that uses it.
    ///
    /// - Parameters:
    ///   - name: the op's name in errors and traces.
    ///   - inputs: the tensors `body` reads (kept until backward).
    ///   - parameters: every leaf that requires a gradient and that `body` uses besides
    ///     `inputs` (a module's parameters); listed twice or not requiring one is fine.
    /// - Returns: `body`'s output (`[…]` as `body` makes it).
    /// - Throws: what `body` throws; in backward, `CohortError.invalidArgument` when the
    ///   recomputation reached a tensor that requires a gradient and is neither an input
    ///   nor one of `parameters` (its gradient would be lost), or when double backward
    ///   (`createGraph`) reaches the op.
    public static func checkpoint(_ name: String = "checkpoint", inputs: [Tensor], parameters: [Tensor],
                                  _ body: @escaping ([Tensor]) throws -> Tensor) throws -> Tensor {
        var seen = Set(inputs.map(ObjectIdentifier.init))
        let leaves = parameters.filter { $0.requiresGrad && $0.gradFn == nil && seen.insert(ObjectIdentifier($0)).inserted }
        let all = inputs + leaves
        guard GradMode.isEnabled, all.contains(where: { $0.requiresGrad }) else { return try body(inputs) }
        let saved = inputs.map { $0.detached() }
        let out = try withNoGrad { try body(saved) }
        let result = out.gradFn == nil && !out.requiresGrad ? out : out.detached()
        let inputCount = inputs.count
        return record(result, name, all) { g, ctx in
            // Fresh leaves over the saved inputs, so the recomputed graph stops at them.
            let xs = zip(saved, inputs).map { s, x -> Tensor in
                let t = s.detached()
                t.requiresGrad = x.requiresGrad
                return t
            }
            let y = try GradMode.$isEnabled.withValue(true) { try body(xs) }
            guard y.requiresGrad else { return Array(repeating: nil, count: all.count) }
            guard y.shape == g.shape else {
                throw CohortError.shapeMismatch(op: name, "the recomputed output \(describeShape(y.shape)) differs from the first \(describeShape(g.shape)): the body must compute the same function twice")
            }
            let targets = xs.filter(\.requiresGrad) + leaves
            guard ctx.mayAccumulate else {
                // Functional gradients (`Autograd.gradients`): returned, no leaf written.
                let found = try Autograd.gradients(of: y, withRespectTo: targets, seed: g)
                var k = 0
                return all.indices.map { i in
                    guard all[i].requiresGrad else { return nil }
                    defer { k += 1 }
                    return found[k]
                }
            }
            // Parameters accumulate in place (GEMMs with beta = 1 into their arena views); their
            // hooks fire in the outer backward once this op returns, not inside the recomputation.
            try y.runBackward(seed: g, retainGraph: false, firesHooks: false,
                              allowedLeaves: Set(targets.map(ObjectIdentifier.init)), caller: name)
            for i in inputCount..<all.count { ctx.claimed[i] = true }
            return all.indices.map { i in i < inputCount ? xs[i].grad : nil }
        }
    }
}
