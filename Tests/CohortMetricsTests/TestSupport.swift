// Helpers shared by the CohortMetrics tests: tolerant comparison and a check
// that a call throws the expected kind of CohortError naming the problem.
import Testing
import CohortCore

/// Whether `a` is within `tolerance` of `b`, relative to |b| when |b| > 1.
func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(b))
}

/// Whether every element of `a` is `close` to the same element of `b`.
func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-12) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { close($0, $1, tolerance) }
}

/// The two kinds of CohortError the metrics throw.
enum ErrorKind { case shapeMismatch, invalidArgument }

/// Expects `body` to throw a CohortError of `kind` whose message contains `fragment`.
func expectError(_ kind: ErrorKind, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
                 _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected a \(kind) error mentioning \"\(fragment)\", nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as CohortError {
        let kindMatches: Bool
        switch (kind, error) {
        case (.shapeMismatch, .shapeMismatch), (.invalidArgument, .invalidArgument): kindMatches = true
        default: kindMatches = false
        }
        #expect(kindMatches, "expected \(kind), got \(error)", sourceLocation: sourceLocation)
        #expect(error.description.contains(fragment), "\"\(error)\" does not mention \"\(fragment)\"", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected a CohortError, got \(error)", sourceLocation: sourceLocation)
    }
}
