// Finite-difference gradient checking for tests: compares the gradients
// autograd computes with central differences of the same function, evaluated
// in Float32 but accumulated in Double, and reports the worst element.
import CohortCore
import CohortTensor

/// One checked gradient element: where it is and how the two gradients compare.
public struct GradcheckElement: Sendable, CustomStringConvertible {
    /// Position of the input in the array passed to `gradcheck`.
    public let input: Int
    /// Multi-index of the element within that input.
    public let index: [Int]
    /// The gradient autograd produced.
    public let analytic: Double
    /// The central-difference estimate.
    public let numeric: Double
    /// `|analytic - numeric|`.
    public let absError: Double
    /// The error allowed here: `atol + rtol * |numeric|`.
    public let allowed: Double

    /// `absError / allowed`; above 1 the element fails.
    public var score: Double { allowed > 0 ? absError / allowed : (absError == 0 ? 0 : .infinity) }

    /// One line: the input, the element, both gradients and the errors.
    public var description: String {
        "input \(input) element \(describeShape(index)): analytic \(analytic) vs numeric \(numeric) " +
            "(abs error \(absError), allowed \(allowed))"
    }
}

/// The outcome of `gradcheck`: pass/fail, the worst element, and any structural problem.
public struct GradcheckResult: Sendable, CustomStringConvertible {
    /// Whether every element is within tolerance and no structural problem was found.
    public let passed: Bool
    /// Number of gradient elements compared.
    public let checkedElements: Int
    /// The element with the largest `absError / allowed` (nil if nothing was checked).
    public let worst: GradcheckElement?
    /// Up to five failing elements, in input then row-major order.
    public let failures: [GradcheckElement]
    /// Total number of failing elements.
    public let failureCount: Int
    /// Problems that fail the check outright: a missing or misshapen gradient,
    /// an output that does not require a gradient, a non-finite value.
    public let problems: [String]
    /// Largest `|analytic - numeric|` over all elements.
    public let maxAbsError: Double

    /// A multi-line report: verdict, worst element, first failures and problems.
    public var description: String {
        var parts = [passed ? "gradcheck passed" : "gradcheck FAILED"]
        parts.append("\(checkedElements) elements checked, max abs error \(maxAbsError)")
        if let worst { parts.append("worst: \(worst)") }
        if failureCount > 0 {
            parts.append("\(failureCount) elements out of tolerance, first: " + failures.map(\.description).joined(separator: "; "))
        }
        parts.append(contentsOf: problems)
        return parts.joined(separator: "\n  ")
    }
}

/// Checks autograd against central finite differences.
///
/// `function` maps `inputs` to an output of any shape. A scalar output is used as
/// the objective; any other output is reduced against a fixed random projection
/// `P` (uniform in [-1, 1), drawn from `projectionSeed`), i.e. the objective is
/// `sum(output * P)`, so every output element is checked. The analytic gradient
/// comes from `output.backward(P)`; the numeric one perturbs each element `x` of
/// each input with `requiresGrad` to `x ± eps` and divides the objective difference
/// (summed in Double) by the actual Float32 step. Element `i` passes when
/// `|analytic - numeric| ≤ atol + rtol · |numeric|`.
///
/// Choose inputs at least `eps` away from kinks (relu at 0, ties in max, clamp
/// bounds). Inputs without `requiresGrad` are held fixed and not checked.
/// Checked inputs must be leaves; they may be non-contiguous views but not
/// broadcast (stride-0) views. Their `grad` is reset, then left holding the
/// analytic gradient.
///
/// - Parameters:
///   - inputs: the tensors passed to `function`.
///   - eps: the perturbation; 1e-2 keeps Float32 rounding noise well below the
///     default tolerances while the O(eps²) truncation error stays small for
///     smooth functions of O(1) inputs.
///   - atol: absolute tolerance.
///   - rtol: relative tolerance (relative to the numeric gradient).
///   - projectionSeed: seed for the projection of non-scalar outputs.
///   - function: the computation under test; it must be deterministic.
/// - Throws: `CohortError.invalidArgument` if no input requires a gradient or a
///   checked input is not a leaf or is a broadcast view; rethrows `function`'s errors.
public func gradcheck(_ inputs: [Tensor], eps: Float = 1e-2, atol: Double = 1e-3, rtol: Double = 1e-2,
                      projectionSeed: UInt64 = 0x9E37_79B9, _ function: ([Tensor]) throws -> Tensor) throws -> GradcheckResult {
    let checked = inputs.indices.filter { inputs[$0].requiresGrad }
    guard !checked.isEmpty else { throw CohortError.invalidArgument("gradcheck: no input requires a gradient") }
    for i in checked {
        let t = inputs[i]
        guard t.isLeaf else { throw CohortError.invalidArgument("gradcheck: input \(i) is not a leaf") }
        guard zip(t.shape, t.strides).allSatisfy({ $0 <= 1 || $1 != 0 }) else {
            throw CohortError.invalidArgument("gradcheck: input \(i) \(describeShape(t.shape)) is a broadcast view (stride 0)")
        }
        t.grad = nil
    }

    var problems: [String] = []
    let output = try function(inputs)
    var generator = RandomGenerator(seed: projectionSeed)
    let projection = output.count == 1 ? Tensor.ones(output.shape)
                                        : Tensor.rand(output.shape, low: -1, high: 1, generator: &generator)
    let weights = projection.scalars.map(Double.init)
    if output.requiresGrad {
        try output.backward(projection)
    } else {
        problems.append("the output does not require a gradient (nothing was recorded)")
    }
    if output.scalars.contains(where: { !$0.isFinite }) { problems.append("the output has non-finite values") }

    func objective() throws -> Double {
        let y = try withNoGrad { try function(inputs) }
        guard y.shape == output.shape else {
            throw CohortError.shapeMismatch(op: "gradcheck", "output \(describeShape(y.shape)) under perturbation vs \(describeShape(output.shape))")
        }
        var s = 0.0
        for (v, w) in zip(y.scalars, weights) { s += Double(v) * w }
        return s
    }

    var elements: [GradcheckElement] = []
    for i in checked {
        let t = inputs[i]
        let analytic: [Float]
        if let g = t.grad {
            if g.shape != t.shape {
                problems.append("input \(i): gradient shape \(describeShape(g.shape)) differs from input shape \(describeShape(t.shape))")
                continue
            }
            analytic = g.scalars
        } else {
            analytic = Array(repeating: 0, count: t.count)   // no gradient reached it: compare as zeros
        }
        var index = [Int](repeating: 0, count: t.rank)
        for flat in 0..<t.count {
            var position = t.offset
            for d in 0..<t.rank { position += index[d] * t.strides[d] }
            let p = t.storage.pointer + position
            let original = p.pointee
            p.pointee = original + eps
            let up = p.pointee
            let fUp = try objective()
            p.pointee = original - eps
            let down = p.pointee
            let fDown = try objective()
            p.pointee = original
            let numeric = (fUp - fDown) / (Double(up) - Double(down))
            let a = Double(analytic[flat])
            if !numeric.isFinite || !a.isFinite {
                problems.append("input \(i) element \(describeShape(index)): non-finite gradient (analytic \(a), numeric \(numeric))")
            }
            elements.append(GradcheckElement(input: i, index: index, analytic: a, numeric: numeric,
                                             absError: Swift.abs(a - numeric), allowed: atol + rtol * Swift.abs(numeric)))
            var d = t.rank - 1
            while d >= 0 { index[d] += 1; if index[d] < t.shape[d] { break }; index[d] = 0; d -= 1 }
        }
    }

    let failing = elements.filter { !($0.absError <= $0.allowed) }
    let worst = elements.max { $0.score < $1.score }
    return GradcheckResult(passed: failing.isEmpty && problems.isEmpty, checkedElements: elements.count, worst: worst,
                           failures: Array(failing.prefix(5)), failureCount: failing.count, problems: problems,
                           maxAbsError: elements.map(\.absError).max() ?? 0)
}
