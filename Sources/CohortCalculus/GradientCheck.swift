// Public gradient checking: analytic gradients against central differences, per
// input, with the worst element. A Float64 form checks hand-written gradients of
// Double functions; the Tensor form checks autograd (Float32 values, Double sums).
import CohortCore
import CohortTensor

/// How one input's analytic gradient compares with central differences.
public struct InputGradientCheck: Sendable, Equatable, CustomStringConvertible {
    /// Position of the input in the list passed to `gradientCheck`.
    public let input: Int
    /// Largest `|analytic − numeric|` over the input's elements.
    public let maxAbsError: Double
    /// Largest `|analytic − numeric| / max(|analytic|, |numeric|)` (0 where both are 0).
    public let maxRelError: Double
    /// Multi-index of the element with the largest mixed error `|a − n| / max(1, |n|)`.
    public let worstIndex: [Int]
    /// Analytic and numeric gradient at `worstIndex`.
    public let worstAnalytic: Double, worstNumeric: Double
    /// Whether every element has `|a − n| ≤ tolerance · max(1, |n|)` and is finite.
    public let passed: Bool

    /// One line: verdict, errors and the worst element.
    public var description: String {
        "input \(input): \(passed ? "ok" : "FAILED"), max abs error \(maxAbsError), max rel error \(maxRelError), "
            + "worst \(describeShape(worstIndex)) analytic \(worstAnalytic) vs numeric \(worstNumeric)"
    }
}

/// The result of `gradientCheck`: one entry per checked input.
public struct GradientCheckReport: Sendable, Equatable, CustomStringConvertible {
    /// One report per checked input (inputs without `requiresGrad` are skipped in the Tensor form).
    public let inputs: [InputGradientCheck]
    /// Whether every input passed.
    public var passed: Bool { inputs.allSatisfy(\.passed) }
    /// Largest absolute error over all inputs.
    public var maxAbsError: Double { inputs.map(\.maxAbsError).max() ?? 0 }

    public var description: String {
        ([passed ? "gradient check passed" : "gradient check FAILED"] + inputs.map(\.description)).joined(separator: "\n  ")
    }
}

/// Checks `gradient` against central differences of `f` in Float64:
/// `(f(x + εeᵢ) − f(x − εeᵢ)) / 2ε`, error O(ε²) — ε = 1e-6 balances truncation and
/// rounding for O(1) inputs. Element i passes when `|a − n| ≤ tolerance · max(1, |n|)`.
/// - Throws: `CohortError.shapeMismatch` if `gradient` returns the wrong count;
///   `CohortError.invalidArgument` for a non-positive epsilon; rethrows the closures' errors.
public func gradientCheck(_ f: ([Double]) throws -> Double, gradient: ([Double]) throws -> [Double],
                          at x: [Double], epsilon: Double = 1e-6, tolerance: Double = 1e-6) throws -> GradientCheckReport {
    guard epsilon > 0 else { throw CohortError.invalidArgument("gradientCheck: epsilon must be > 0, got \(epsilon)") }
    let analytic = try gradient(x)
    guard analytic.count == x.count else {
        throw CohortError.shapeMismatch(op: "gradientCheck", "gradient has \(analytic.count) elements, x has \(x.count)")
    }
    var xp = x
    var numeric: [Double] = []
    for i in x.indices {
        xp[i] = x[i] + epsilon
        let up = try f(xp)
        xp[i] = x[i] - epsilon
        let down = try f(xp)
        xp[i] = x[i]
        numeric.append((up - down) / (2 * epsilon))
    }
    return GradientCheckReport(inputs: [compare(input: 0, shape: [x.count], analytic, numeric, tolerance: tolerance)])
}

/// Checks autograd's gradients of `f` against central differences, for every input
/// with `requiresGrad`. A non-scalar output is contracted with a fixed pseudo-random
/// projection (seeded) so that every output element is checked. Tensors are Float32,
/// so each difference uses the step actually representable and sums in Double; choose
/// `epsilon` around 1e-2–1e-3 and `tolerance` around 1e-2. Inputs are copied (never
/// perturbed in place) and no `.grad` is touched (`Autograd.gradients`).
/// - Throws: `CohortError.invalidArgument` if no input requires a gradient or the
///   output is not differentiable; rethrows `f`'s errors.
public func gradientCheck(_ f: ([Tensor]) throws -> Tensor, at inputs: [Tensor], epsilon: Float = 1e-2,
                          tolerance: Double = 1e-2, projectionSeed: UInt64 = 0x5EED) throws -> GradientCheckReport {
    let copies = inputs.map { t -> Tensor in let c = t.copy(); c.requiresGrad = t.requiresGrad; return c }
    let checked = copies.indices.filter { copies[$0].requiresGrad }
    guard !checked.isEmpty else { throw CohortError.invalidArgument("gradientCheck: no input requires a gradient") }
    let y = try f(copies)
    guard y.requiresGrad else {
        throw CohortError.invalidArgument("gradientCheck: the output (shape \(describeShape(y.shape))) does not depend on any input with requiresGrad")
    }
    var generator = RandomGenerator(seed: projectionSeed)
    let projection = y.count == 1 ? Tensor.ones(y.shape) : Tensor.rand(y.shape, low: -1, high: 1, generator: &generator)
    let weights = projection.scalars.map(Double.init)
    let analytic = try Autograd.gradients(of: y, withRespectTo: checked.map { copies[$0] }, seed: projection)
    func objective() throws -> Double {
        let v = try withNoGrad { try f(copies) }.scalars
        return zip(v, weights).reduce(0.0) { $0 + Double($1.0) * $1.1 }
    }
    var reports: [InputGradientCheck] = []
    for (k, i) in checked.enumerated() {
        var numeric: [Double] = []
        try copies[i].withMutableBuffer { p in
            for j in 0..<copies[i].count {
                let original = p[j]
                p[j] = original + epsilon; let up = p[j]; let fUp = try objective()
                p[j] = original - epsilon; let down = p[j]; let fDown = try objective()
                p[j] = original
                numeric.append((fUp - fDown) / (Double(up) - Double(down)))
            }
        }
        reports.append(compare(input: i, shape: copies[i].shape, analytic[k].scalars.map(Double.init), numeric, tolerance: tolerance))
    }
    return GradientCheckReport(inputs: reports)
}

private func compare(input: Int, shape: [Int], _ analytic: [Double], _ numeric: [Double], tolerance: Double) -> InputGradientCheck {
    var maxAbs = 0.0, maxRel = 0.0, worst = 0, worstScore = -1.0, passed = true
    for j in analytic.indices {
        let (a, n) = (analytic[j], numeric[j])
        let err = Swift.abs(a - n)
        let scale = Swift.max(Swift.abs(a), Swift.abs(n))
        let score = err / Swift.max(1, Swift.abs(n))
        if !(a.isFinite && n.isFinite) || !(score <= tolerance) { passed = false }
        maxAbs = Swift.max(maxAbs, err)
        if scale > 0 { maxRel = Swift.max(maxRel, err / scale) }
        if score > worstScore || score.isNaN { worstScore = score.isNaN ? .infinity : score; worst = j }
    }
    var index = [Int](repeating: 0, count: shape.count), rest = worst
    for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] > 0 { index[d] = rest % shape[d]; rest /= shape[d] }
    return InputGradientCheck(input: input, maxAbsError: maxAbs, maxRelError: maxRel, worstIndex: index,
                              worstAnalytic: analytic.isEmpty ? 0 : analytic[worst], worstNumeric: numeric.isEmpty ? 0 : numeric[worst],
                              passed: passed)
}
