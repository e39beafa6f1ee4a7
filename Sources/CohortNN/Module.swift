// The Module protocol: a layer or model with ordered, dotted parameter names
// (`layers.0.weight`), children, and a train/eval mode. Names and order come
// from arrays only, so every rank enumerates parameters identically.
import CohortTensor
import CohortCore

/// A layer or model. Conformers are classes that list their own parameters and
/// children in a fixed order; the extension derives names, modes and counts.
public protocol Module: AnyObject {
    /// Maps an input batch to an output batch.
    func forward(_ x: Tensor) throws -> Tensor
    /// This module's own parameters (not its children's), in a fixed order.
    var localParameters: [(name: String, tensor: Tensor)] { get }
    /// Direct sub-modules, in a fixed order.
    var children: [(name: String, module: any Module)] { get }
    /// Whether the module is in training mode (dropout active, statistics updated).
    var isTraining: Bool { get set }
    /// This module's own buffers: state that is not trained by gradients but is part
    /// of the model (BatchNorm's running mean and variance), in a fixed order.
    /// Saved in checkpoints and broadcast from rank 0 by `DataParallel`.
    var localBuffers: [(name: String, tensor: Tensor)] { get }
}

extension Module {
    public var localParameters: [(name: String, tensor: Tensor)] { [] }
    public var children: [(name: String, module: any Module)] { [] }
    public var localBuffers: [(name: String, tensor: Tensor)] { [] }

    /// Every buffer with its dotted path, depth-first in declaration order.
    public func namedBuffers() -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        func visit(_ m: any Module, _ prefix: String) {
            for (n, t) in m.localBuffers { out.append((prefix + n, t)) }
            for (n, c) in m.children { visit(c, prefix + n + ".") }
        }
        visit(self, "")
        return out
    }

    /// Calls `forward` (as a timeline event when tracing has registered this module: `registerTraceScopes`).
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        if let tracer = Trace.recorder, let scope = tracer.scope(of: ObjectIdentifier(self)) {
            return try tracer.forward(scope: scope) { try forward(x) }
        }
        return try forward(x)
    }

    /// Every parameter with its dotted path, depth-first in declaration order.
    /// A tensor shared by two modules (weight tying) is listed once, under its first name.
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        var seen = Set<ObjectIdentifier>()
        func visit(_ m: any Module, _ prefix: String) {
            for (n, t) in m.localParameters where seen.insert(ObjectIdentifier(t)).inserted {
                out.append((prefix + n, t))
            }
            for (n, c) in m.children { visit(c, prefix + n + ".") }
        }
        visit(self, "")
        return out
    }

    /// The parameters in `namedParameters()` order.
    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// Total number of scalar parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Sets training mode on this module and all descendants.
    public func train(_ on: Bool = true) {
        isTraining = on
        for (_, c) in children { c.train(on) }
    }

    /// Switches to evaluation mode (same as `train(false)`).
    public func eval() { train(false) }

    /// Zeroes every parameter's gradient in place.
    public func zeroGrad() { for p in parameters() { p.zeroGrad() } }
}

/// Creates a parameter tensor: a leaf that requires a gradient and carries `name`.
public func parameter(_ t: Tensor, name: String? = nil) -> Tensor {
    t.requiresGrad = true
    t.name = name
    return t
}

/// A module that draws random numbers during training (e.g. `Dropout`); its
/// generator state is saved in checkpoints so a resumed run draws the same bits.
public protocol RandomStateful: AnyObject {
    /// The generator state (four words).
    var randomState: [UInt64] { get set }
}

extension Module {
    /// Generator states of every `RandomStateful` module, by dotted path, depth-first.
    public func namedRandomStates() -> [(name: String, state: [UInt64])] {
        var out: [(name: String, state: [UInt64])] = []
        func visit(_ m: any Module, _ path: String) {
            if let r = m as? RandomStateful { out.append((path.isEmpty ? "." : path, r.randomState)) }
            for (n, c) in m.children { visit(c, path.isEmpty ? n : path + "." + n) }
        }
        visit(self, "")
        return out
    }

    /// Restores states from `namedRandomStates()`; throws naming a module that is missing.
    public func restoreRandomStates(_ states: [(name: String, state: [UInt64])]) throws {
        var byName: [String: [UInt64]] = [:]
        for s in states { byName[s.name] = s.state }
        func visit(_ m: any Module, _ path: String) throws {
            if let r = m as? RandomStateful {
                let key = path.isEmpty ? "." : path
                guard let s = byName[key], s.count == 4, s.contains(where: { $0 != 0 }) else {
                    throw CohortError.invalidArgument("no valid random state saved for module \(key)")
                }
                r.randomState = s
            }
            for (n, c) in m.children { try visit(c, path.isEmpty ? n : path + "." + n) }
        }
        try visit(self, "")
    }
}
