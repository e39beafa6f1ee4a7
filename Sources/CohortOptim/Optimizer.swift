// Optimizers over a model's flat parameter arena: one vectorised pass per step,
// with explicit state that can be exported and restored (for checkpoints).
import CohortCore
import CohortKernels
import CohortNN
import CohortTensor

/// A named hyper-parameter value, kept in a fixed order for serialisation.
public struct HyperParameter: Sendable, Equatable {
    public var name: String
    public var value: Double
    public init(_ name: String, _ value: Double) { self.name = name; self.value = value }
}

/// Everything an optimizer needs to continue exactly where it stopped.
public struct OptimizerState: Sendable, Equatable {
    /// `sgd`, `adam`, `adamw` or `rmsprop`.
    public var kind: String
    /// Hyper-parameters in a fixed order (lr first).
    public var hyperParameters: [HyperParameter]
    /// Number of completed steps.
    public var step: Int
    /// State buffers (e.g. `momentum`, `exp_avg`, `exp_avg_sq`), each laid out like the arena.
    public var buffers: [(name: String, values: [Float])]

    public static func == (a: OptimizerState, b: OptimizerState) -> Bool {
        a.kind == b.kind && a.hyperParameters == b.hyperParameters && a.step == b.step
            && a.buffers.map(\.name) == b.buffers.map(\.name) && a.buffers.map(\.values) == b.buffers.map(\.values)
    }
}

/// Errors from optimizers.
public enum OptimizerError: Error, CustomStringConvertible {
    case stateMismatch(String)
    public var description: String {
        switch self { case let .stateMismatch(m): return "optimizer state: \(m)" }
    }
}

/// An optimizer updating a `ParameterArena` in place from its gradient arena.
public protocol Optimizer: AnyObject {
    /// The parameters being optimised.
    var arena: ParameterArena { get }
    /// Current learning rate (a schedule may change it between steps).
    var learningRate: Float { get set }
    /// Completed steps.
    var stepCount: Int { get }
    /// Applies one update from the current gradients.
    func step()
    /// The per-element state buffers, laid out like the arena, in a fixed order
    /// (zero-copy access for checkpoints).
    var stateBuffers: [(name: String, storage: Storage)] { get }
    /// `sgd`, `adam`, `adamw` or `rmsprop`.
    var kind: String { get }
    /// Hyper-parameters in a fixed order (lr first).
    var hyperParameters: [HyperParameter] { get }
    /// Sets the completed-step count (used when buffers were restored in place).
    func setStepCount(_ step: Int)
    /// The parameter groups (default: one group of every parameter with the optimizer's weight decay).
    var parameterGroups: [ParameterGroup] { get }
    /// Replaces the parameter groups; entries in no group are frozen (never updated or decayed).
    /// State buffers keep their values (a newly added entry continues from its state, zero if never trained).
    /// - Throws: `CohortError.invalidParameter(name: "parameterGroups")` for an invalid or overlapping entry.
    func setParameterGroups(_ groups: [ParameterGroup]) throws
    /// The arena elements whose state this optimizer keeps and updates: all of them, or this
    /// rank's shard under ZeRO (`shard(_:)`).
    var shardRange: Range<Int> { get }
    /// Keeps state for and updates only the arena elements `range` (ZeRO stage 1: each rank steps
    /// its own shard and an allgather restores the parameters). The state buffers shrink to
    /// `range.count` elements, zeroed: call it before the first step or restored state.
    /// - Throws: `CohortError.invalidParameter(name: "zero")` when the optimizer cannot be sharded.
    func shard(_ range: Range<Int>) throws
}

extension Optimizer {
    /// Exports kind, hyper-parameters, step and copies of the buffers.
    public func exportState() -> OptimizerState {
        OptimizerState(kind: kind, hyperParameters: hyperParameters, step: stepCount,
                       buffers: stateBuffers.map { ($0.name, Array(UnsafeBufferPointer(start: $0.storage.pointer, count: $0.storage.count))) })
    }

    /// Restores state exported from an optimizer of the same kind over the same layout.
    public func restoreState(_ s: OptimizerState) throws {
        let own = stateBuffers
        try checkRestore(s, kind: kind, buffers: own.map(\.name))
        for (b, mine) in zip(s.buffers, own) {
            b.values.withUnsafeBufferPointer { mine.storage.pointer.update(from: $0.baseAddress!, count: $0.count) }
        }
        setStepCount(s.step)
        if let lr = s.hyperParameters.first(where: { $0.name == "lr" }) { learningRate = Float(lr.value) }
    }

    /// Checks a ZeRO shard lies inside the arena.
    func checkShard(_ range: Range<Int>) throws {
        guard range.lowerBound >= 0, range.upperBound <= arena.count else {
            throw CohortError.invalidParameter(name: "zero", "shard \(range) is outside the arena's \(arena.count) elements")
        }
    }

    /// Zeroes all gradients (one memset over the gradient arena).
    public func zeroGrad() { arena.zeroGrad() }

    func checkRestore(_ s: OptimizerState, kind: String, buffers: [String]) throws {
        guard s.kind == kind else { throw OptimizerError.stateMismatch("saved by \(s.kind), restoring into \(kind)") }
        guard s.buffers.map(\.name) == buffers else {
            throw OptimizerError.stateMismatch("buffers \(s.buffers.map(\.name)) do not match \(buffers)")
        }
        for b in s.buffers where b.values.count != shardRange.count {
            throw OptimizerError.stateMismatch("buffer \(b.name) has \(b.values.count) elements, this optimizer keeps \(shardRange.count)")
        }
    }
}

/// Per-element optimizer state for the arena elements `range` (the whole arena, or a ZeRO
/// shard), zero-initialised: element `i` of the arena is `storage[i - range.lowerBound]`.
/// Allocated at first use, so an optimizer sharded right after it is made never holds (and never
/// leaves in the buffer cache) state for the whole arena.
final class StateBuffer {
    private(set) lazy var storage = Storage(zeros: range.count)
    let range: Range<Int>
    init(_ range: Range<Int>) { self.range = range }
    /// The state of arena element `i` (and those after it).
    func at(_ i: Int) -> UnsafeMutablePointer<Float> { storage.pointer + (i - range.lowerBound) }
}

/// Clips the global L2 norm of all gradients to `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ arena: ParameterArena, maxNorm: Float) -> Float {
    let norm = arena.gradNorm()
    if norm > maxNorm && norm.isFinite {
        Elementwise.scale(arena.grads.count, alpha: maxNorm / (norm + 1e-6), arena.grads.pointer)
    }
    return norm
}
