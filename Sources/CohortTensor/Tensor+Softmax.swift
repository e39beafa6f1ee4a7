// Softmax, log-softmax, and the fused, numerically stable cross-entropy
// (log-softmax + NLL in one pass, with label smoothing and ignore-index).
import CohortCore
import CohortKernels

/// How a loss combines its per-element values.
public enum Reduction: String, Sendable { case mean, sum, none }

extension Tensor {
    /// Applies a row kernel along `axis` by moving it last when needed.
    func alongLastAxis(_ axis: Int, op: String, _ body: (Tensor) -> Tensor) throws -> (Tensor, Int) {
        let a = try normalizeAxis(axis, op: op)
        if a == rank - 1 { return (body(contiguous().detached()), a) }
        let moved = try detached().transpose(a, -1).contiguous()
        return (try body(moved).transpose(a, -1).contiguous().detached(), a)
    }

    func softmaxFamily(axis: Int, log: Bool) throws -> Tensor {
        let name = log ? "logSoftmax" : "softmax"
        guard rank >= 1 else { throw CohortError.invalidArgument("\(name): needs rank ≥ 1") }
        let a = try normalizeAxis(axis, op: name)
        let n = shape[a]
        let (out, _) = try alongLastAxis(axis, op: name) { x in
            let o = Tensor(uninitialized: x.shape)
            SoftmaxKernels.rows(log: log, rows: x.count / Swift.max(n, 1), n: n, x.base, o.base)
            return o
        }
        let y = out.detached()
        return record(out, name, [self], rule: log ? .logSoftmax(axis: a) : .softmax(axis: a)) { g, _ in
            let (r, _) = try! y.alongLastAxis(a, op: name) { yy in
                let gg = a == y.rank - 1 ? g.contiguous() : try! g.detached().transpose(a, -1).contiguous()
                let o = Tensor(uninitialized: yy.shape)
                let rows = yy.count / Swift.max(n, 1)
                if log { SoftmaxKernels.logSoftmaxBackward(rows: rows, n: n, y: yy.base, g: gg.base, out: o.base) }
                else { SoftmaxKernels.softmaxBackward(rows: rows, n: n, y: yy.base, g: gg.base, out: o.base) }
                return o
            }
            return [r]
        }
    }

    /// Softmax along `axis`.
    public func softmax(axis: Int = -1) throws -> Tensor { try softmaxFamily(axis: axis, log: false) }
    /// Log-softmax along `axis`.
    public func logSoftmax(axis: Int = -1) throws -> Tensor { try softmaxFamily(axis: axis, log: true) }

    /// Integer class targets as Int32, checked against the number of classes.
    static func classTargets(_ targets: [Int], rows: Int, classes: Int, ignoreIndex: Int, op: String) throws -> [Int32] {
        guard targets.count == rows else {
            throw CohortError.shapeMismatch(op: op, "\(targets.count) targets for \(rows) rows of logits")
        }
        return try targets.enumerated().map { i, t in
            guard (t >= 0 && t < classes) || t == ignoreIndex else {
                throw CohortError.invalidArgument("\(op): target \(t) at row \(i) is outside 0..<\(classes)")
            }
            return Int32(t)
        }
    }

    /// Cross-entropy between `logits: [N, C]` and integer class `targets` (N of them),
    /// fused with a stable log-softmax. `labelSmoothing` mixes in a uniform target;
    /// rows whose target is `ignoreIndex` do not count. Mean over counted rows by default.
    public static func crossEntropy(_ logits: Tensor, targets: [Int], labelSmoothing: Float = 0,
                                    ignoreIndex: Int = -100, reduction: Reduction = .mean) throws -> Tensor {
        guard logits.rank == 2 else {
            throw CohortError.shapeMismatch(op: "crossEntropy", "logits must be [N, C], got \(describeShape(logits.shape))")
        }
        guard reduction != .none else { throw CohortError.invalidArgument("crossEntropy: reduction .none is not supported; use logSoftmax + gather") }
        let rows = logits.shape[0], classes = logits.shape[1]
        guard classes > 0 else {
            throw CohortError.shapeMismatch(op: "crossEntropy", "logits must have classes, got \(describeShape(logits.shape))")
        }
        let t = try classTargets(targets, rows: rows, classes: classes, ignoreIndex: ignoreIndex, op: "crossEntropy")
        let x = logits.contiguous()
        let probs = Tensor(uninitialized: x.shape)
        // No rows (an empty batch): the kernels read no target, but need a pointer.
        let (total, counted) = t.withUnsafeBufferPointer {
            SoftmaxKernels.crossEntropy(rows: rows, n: classes, logits: x.base, targets: $0.baseAddress ?? Self.noTargets, smoothing: labelSmoothing,
                                        ignoreIndex: Int32(truncatingIfNeeded: ignoreIndex), probs: probs.base)
        }
        let denom = reduction == .mean ? Float(Swift.max(counted, 1)) : 1
        let out = Tensor.scalar(counted == 0 && reduction == .mean ? .nan : Float(total / Double(denom)))
        let rule = DerivativeRule.crossEntropy(targets: t, smoothing: labelSmoothing,
                                               ignoreIndex: Int32(truncatingIfNeeded: ignoreIndex), denominator: denom)
        return record(out, "crossEntropy", [x], rule: rule) { g, _ in
            let scale = g.base.pointee / denom
            let r = Tensor(uninitialized: [rows, classes])
            t.withUnsafeBufferPointer {
                SoftmaxKernels.crossEntropyBackward(rows: rows, n: classes, probs: probs.base, targets: $0.baseAddress ?? Self.noTargets, smoothing: labelSmoothing,
                                                    ignoreIndex: Int32(truncatingIfNeeded: ignoreIndex), scale: scale, out: r.base)
            }
            return [r]
        }
    }

    /// The targets pointer of an empty batch (never read).
    private static var noTargets: UnsafePointer<Int32> { UnsafePointer(bitPattern: MemoryLayout<Int32>.alignment)! }

    /// Negative log-likelihood of `logProbs: [N, C]` at integer `targets`.
    public static func nllLoss(_ logProbs: Tensor, targets: [Int], ignoreIndex: Int = -100, reduction: Reduction = .mean) throws -> Tensor {
        guard logProbs.rank == 2 else {
            throw CohortError.shapeMismatch(op: "nllLoss", "log-probabilities must be [N, C], got \(describeShape(logProbs.shape))")
        }
        let rows = logProbs.shape[0], classes = logProbs.shape[1]
        let t = try classTargets(targets, rows: rows, classes: classes, ignoreIndex: ignoreIndex, op: "nllLoss")
        let keep = t.map { Int($0) != ignoreIndex }
        let idx = try Tensor(t.map { Int($0) == ignoreIndex ? 0 : Float($0) }, shape: [rows, 1])
        let picked = try logProbs.gather(axis: 1, index: idx).reshape([rows])
        let mask = try Tensor(keep.map { $0 ? -1 : 0 }, shape: [rows])
        let losses = try picked * mask
        switch reduction {
        case .none: return losses
        case .sum: return try losses.sum()
        case .mean: return try losses.sum() / Float(Swift.max(keep.filter { $0 }.count, 1))
        }
    }
}

extension Tensor {
    /// `crossEntropy` (mean over counted rows) that reuses the logits' buffer: the forward
    /// writes the row softmax over the logits, the backward writes the logits' gradient over
    /// the softmax and hands that buffer on. A language model's largest tensor (`[B·T, vocab]`)
    /// then exists once instead of three times (logits, probabilities, gradient); the loss and
    /// gradient are bitwise those of `crossEntropy`.
    ///
    /// The caller gives up `logits`: its values are the probabilities afterwards, so nothing
    /// else may read it or keep it for a backward (a linear layer's output qualifies, a ReLU's
    /// does not). A non-contiguous `logits` is copied first (then nothing is overwritten).
    /// The backward can run once (no `retainGraph`), and not twice differentiated.
    /// - Throws: as `crossEntropy`; in a second backward, `CohortError.invalidArgument`.
    public static func crossEntropy(consuming logits: Tensor, targets: [Int], labelSmoothing: Float = 0,
                                    ignoreIndex: Int = -100) throws -> Tensor {
        guard logits.rank == 2 else {
            throw CohortError.shapeMismatch(op: "crossEntropy", "logits must be [N, C], got \(describeShape(logits.shape))")
        }
        let rows = logits.shape[0], classes = logits.shape[1]
        guard rows > 0, classes > 0 else {
            throw CohortError.shapeMismatch(op: "crossEntropy", "logits must have rows and classes, got \(describeShape(logits.shape))")
        }
        let t = try classTargets(targets, rows: rows, classes: classes, ignoreIndex: ignoreIndex, op: "crossEntropy")
        let x = logits.contiguous()
        let (total, counted) = t.withUnsafeBufferPointer {
            SoftmaxKernels.crossEntropy(rows: rows, n: classes, logits: x.base, targets: $0.baseAddress!, smoothing: labelSmoothing,
                                        ignoreIndex: Int32(truncatingIfNeeded: ignoreIndex), probs: x.base)
        }
        let denom = Float(Swift.max(counted, 1))
        let out = Tensor.scalar(counted == 0 ? .nan : Float(total / Double(denom)))
        let probs = x.detached()
        var used = false
        return record(out, "crossEntropy(consuming:)", [x]) { g, _ in
            guard !used else {
                throw CohortError.invalidArgument("crossEntropy(consuming:): its backward ran twice, but the first one overwrote the probabilities with the gradient; use crossEntropy to backpropagate through the loss again")
            }
            used = true
            let scale = g.base.pointee / denom
            t.withUnsafeBufferPointer {
                SoftmaxKernels.crossEntropyBackward(rows: rows, n: classes, probs: probs.base, targets: $0.baseAddress ?? Self.noTargets, smoothing: labelSmoothing,
                                                    ignoreIndex: Int32(truncatingIfNeeded: ignoreIndex), scale: scale, out: probs.base)
            }
            return [probs]
        }
    }
}
