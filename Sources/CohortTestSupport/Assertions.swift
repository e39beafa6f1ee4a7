// Test assertions: tolerance comparisons of tensors and arrays (`closeness`
// returns the worst element; `assertClose` records a Swift Testing issue at the
// caller's line) and `expectGradients`, gradcheck as an expectation.
import CohortCore
import CohortTensor
import Testing

/// The result of comparing actual values with expected ones element by element.
public struct Closeness: Sendable, CustomStringConvertible {
    /// Whether shapes agree and every element satisfies `|a - e| ≤ atol + rtol · |e|`.
    public let passed: Bool
    /// Largest `|actual - expected|` (infinite where exactly one side is NaN or the infinities differ).
    public let maxAbsError: Double
    /// Multi-index of the element with the largest error relative to its allowance.
    public let worstIndex: [Int]?
    /// The actual and expected values at `worstIndex`.
    public let worstActual: Double?, worstExpected: Double?
    /// Number of elements out of tolerance.
    public let failureCount: Int
    /// Why the comparison could not be made element by element (a shape mismatch).
    public let problem: String?

    /// One line: verdict, max error and the worst element.
    public var description: String {
        if let problem { return "not close: \(problem)" }
        var s = passed ? "close" : "not close: \(failureCount) element(s) out of tolerance"
        s += ", max abs error \(maxAbsError)"
        if let worstIndex, let worstActual, let worstExpected {
            s += ", worst at \(describeShape(worstIndex)): actual \(worstActual) vs expected \(worstExpected)"
        }
        return s
    }
}

/// Compares `actual` with `expected` (row-major, `shape` used only to report indices).
///
/// Elements match when both are NaN, when they are the same infinity, or when
/// `|a - e| ≤ atol + rtol · |e|`.
public func closeness(_ actual: [Double], _ expected: [Double], shape: [Int]? = nil,
                      atol: Double = 1e-5, rtol: Double = 1e-5) -> Closeness {
    let shape = shape ?? [actual.count]
    guard actual.count == expected.count else {
        return Closeness(passed: false, maxAbsError: .infinity, worstIndex: nil, worstActual: nil, worstExpected: nil,
                         failureCount: 0, problem: "\(actual.count) actual values vs \(expected.count) expected")
    }
    var maxAbs = 0.0, worstScore = -1.0, worst: Int?
    var failures = 0
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        let err: Double
        if a.isNaN && e.isNaN { err = 0 }
        else if a.isInfinite || e.isInfinite { err = a == e ? 0 : .infinity }
        else if a.isNaN || e.isNaN { err = .infinity }
        else { err = Swift.abs(a - e) }
        let allowed = atol + rtol * (e.isFinite ? Swift.abs(e) : 0)
        let score = err == 0 ? 0 : (allowed > 0 ? err / allowed : .infinity)
        if !(err <= allowed) { failures += 1 }
        maxAbs = Swift.max(maxAbs, err)
        if score > worstScore { worstScore = score; worst = i }
    }
    var worstIndex: [Int]?
    if let worst {
        var rest = worst
        var idx = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] > 0 { idx[d] = rest % shape[d]; rest /= shape[d] }
        worstIndex = idx
    }
    return Closeness(passed: failures == 0, maxAbsError: maxAbs, worstIndex: worstIndex,
                     worstActual: worst.map { actual[$0] }, worstExpected: worst.map { expected[$0] },
                     failureCount: failures, problem: nil)
}

/// Compares two tensors; fails with both shapes named if the shapes differ.
public func closeness(_ actual: Tensor, _ expected: Tensor, atol: Double = 1e-5, rtol: Double = 1e-5) -> Closeness {
    guard actual.shape == expected.shape else {
        return Closeness(passed: false, maxAbsError: .infinity, worstIndex: nil, worstActual: nil, worstExpected: nil, failureCount: 0,
                         problem: "shape \(describeShape(actual.shape)) vs expected \(describeShape(expected.shape))")
    }
    return closeness(actual.scalars.map(Double.init), expected.scalars.map(Double.init), shape: actual.shape, atol: atol, rtol: rtol)
}

/// Compares a tensor with expected row-major values of the tensor's own shape.
public func closeness(_ actual: Tensor, _ expected: [Float], atol: Double = 1e-5, rtol: Double = 1e-5) -> Closeness {
    closeness(actual.scalars.map(Double.init), expected.map(Double.init), shape: actual.shape, atol: atol, rtol: rtol)
}

/// Records a test issue unless `actual` and `expected` have equal shapes and close values.
public func assertClose(_ actual: Tensor, _ expected: Tensor, atol: Double = 1e-5, rtol: Double = 1e-5,
                        _ comment: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    report(closeness(actual, expected, atol: atol, rtol: rtol), comment(), sourceLocation)
}

/// Records a test issue unless `actual`'s row-major values are close to `expected`.
public func assertClose(_ actual: Tensor, _ expected: [Float], atol: Double = 1e-5, rtol: Double = 1e-5,
                        _ comment: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    report(closeness(actual, expected, atol: atol, rtol: rtol), comment(), sourceLocation)
}

/// Records a test issue unless the arrays have equal length and close values.
public func assertClose(_ actual: [Float], _ expected: [Float], atol: Double = 1e-5, rtol: Double = 1e-5,
                        _ comment: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    report(closeness(actual.map(Double.init), expected.map(Double.init), atol: atol, rtol: rtol), comment(), sourceLocation)
}

/// Records a test issue unless `|actual - expected| ≤ atol + rtol · |expected|`.
public func assertClose(_ actual: Float, _ expected: Float, atol: Double = 1e-5, rtol: Double = 1e-5,
                        _ comment: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    report(closeness([Double(actual)], [Double(expected)], atol: atol, rtol: rtol), comment(), sourceLocation)
}

/// Runs `gradcheck` and records a test issue (with the worst element) if it fails.
/// Returns the result so a test can inspect it further.
/// - Throws: whatever `gradcheck` or `function` throws.
@discardableResult
public func expectGradients(_ inputs: [Tensor], eps: Float = 1e-2, atol: Double = 1e-3, rtol: Double = 1e-2,
                            _ comment: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation,
                            _ function: ([Tensor]) throws -> Tensor) throws -> GradcheckResult {
    let result = try gradcheck(inputs, eps: eps, atol: atol, rtol: rtol, function)
    if !result.passed {
        let c = comment()
        Issue.record(Comment(rawValue: c.isEmpty ? result.description : "\(c): \(result.description)"), sourceLocation: sourceLocation)
    }
    return result
}

private func report(_ c: Closeness, _ comment: String, _ location: SourceLocation) {
    guard !c.passed else { return }
    Issue.record(Comment(rawValue: comment.isEmpty ? c.description : "\(comment): \(c.description)"), sourceLocation: location)
}
