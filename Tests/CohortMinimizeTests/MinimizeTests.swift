// Minimizers on closed-form problems (Rosenbrock, quadratics), projections onto
// each convex set, projected gradient to known constrained optima, the Tensor
// objective adapter, and the errors users can cause.
import CohortCore
@testable import CohortMinimize
import CohortTensor
import Testing

/// Rosenbrock f(a, b) = (1 − a)² + 100(b − a²)², minimum 0 at (1, 1).
var rosenbrock: Objective { Objective(valueAndGradient: { p in
    let (a, b) = (p[0], p[1])
    return ((1 - a) * (1 - a) + 100 * (b - a * a) * (b - a * a), [-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])
}) }

@Suite struct MinimizeTests {
    @Test(arguments: [LineSearchKind.strongWolfe, .armijo])
    func lbfgsSolvesRosenbrockFromTheClassicStart(lineSearch: LineSearchKind) throws {
        var options = MinimizeOptions()
        options.lineSearch = lineSearch
        options.gradientTolerance = 1e-8
        let r = try Minimize.lbfgs(rosenbrock, from: [-1.2, 1], options: options)
        #expect(r.converged, "\(r)")
        #expect(Swift.abs(r.x[0] - 1) < 1e-6 && Swift.abs(r.x[1] - 1) < 1e-6, "\(r.x)")
        #expect(r.iterations < 100, "\(r)")
        print("Rosenbrock, L-BFGS with \(lineSearch): \(r)")
    }

    @Test func gradientDescentStopsAtTheIterationLimitAndSaysSo() throws {
        var options = MinimizeOptions()
        options.maxIterations = 50
        let r = try Minimize.gradientDescent(rosenbrock, from: [-1.2, 1], options: options)
        #expect(!r.converged && r.reason == .maxIterations && r.iterations == 50 && r.history.count == 51)
        #expect(r.history.last!.value < r.history.first!.value)
        // Armijo: every accepted iterate decreases f.
        #expect(zip(r.history, r.history.dropFirst()).allSatisfy { $1.value <= $0.value })
    }

    @Test func gradientDescentMinimisesAQuadratic() throws {
        // f = Σ cᵢ (xᵢ − i)², minimum at xᵢ = i.
        let c = [1.0, 3.0, 10.0]
        let f = Objective(valueAndGradient: { x in
            (x.indices.reduce(0) { $0 + c[$1] * (x[$1] - Double($1)) * (x[$1] - Double($1)) }, x.indices.map { 2 * c[$0] * (x[$0] - Double($0)) })
        })
        let r = try Minimize.gradientDescent(f, from: [5, 5, 5])
        #expect(r.converged && r.reason == .gradientTolerance, "\(r)")
        #expect(r.x.indices.allSatisfy { Swift.abs(r.x[$0] - Double($0)) < 1e-6 })
    }

    @Test func projectionsLandOnTheSets() throws {
        #expect(try ConvexSet.box(lower: [0, -1], upper: [1, 1]).project([2, -3]) == [1, -1])
        #expect(try ConvexSet.nonNegative.project([-1, 2]) == [0, 2])
        let s = try ConvexSet.simplex(total: 1).project([0.5, 2, -1])
        #expect(Swift.abs(s.reduce(0, +) - 1) < 1e-12 && s.allSatisfy { $0 >= 0 })
        #expect(s == [0, 1, 0])                                                 // closest simplex point to (0.5, 2, −1)
        let t = try ConvexSet.simplex(total: 1).project([0.4, 0.3, 0.1])        // inside the plane: shift by (1 − 0.8)/3
        #expect(zip(t, [0.4 + 0.2 / 3, 0.3 + 0.2 / 3, 0.1 + 0.2 / 3]).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
        let b = try ConvexSet.ball(center: [1, 1], radius: 1).project([4, 5])
        #expect(Swift.abs(b[0] - 1.6) < 1e-12 && Swift.abs(b[1] - 1.8) < 1e-12)
        #expect(try ConvexSet.ball(center: [0, 0], radius: 2).project([1, 1]) == [1, 1])
    }

    @Test func projectedGradientFindsConstrainedOptima() throws {
        // min ‖x − p‖² over each set is the projection of p.
        let p = [0.9, -0.4, 1.7]
        let f = Objective(valueAndGradient: { x in (zip(x, p).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }, zip(x, p).map { 2 * ($0 - $1) }) })
        for set in [ConvexSet.nonNegative, .simplex(total: 1), .box(lower: [0, 0, 0], upper: [1, 1, 1]), .ball(center: [0, 0, 0], radius: 1)] {
            let r = try Minimize.projectedGradient(f, from: [0.2, 0.2, 0.2], onto: set)
            let expected = try set.project(p)
            #expect(r.converged, "\(set): \(r)")
            #expect(zip(r.x, expected).allSatisfy { Swift.abs($0 - $1) < 1e-6 }, "\(set): \(r.x) vs \(expected)")
        }
    }

    @Test func aTensorObjectiveIsDifferentiatedByAutograd() throws {
        // f(x) = Σ (x − 3)² + Σ x⁴/10 in Float32; its minimiser solves 2(x − 3) + 0.4x³ = 0.
        let f = Objective(shape: [2, 2]) { x in try ((x - 3).square().sum() + x.pow(4).sum() / 10) }
        var options = MinimizeOptions()
        options.gradientTolerance = 1e-4
        let r = try Minimize.lbfgs(f, from: [0, 0, 0, 0], options: options)
        #expect(r.converged, "\(r)")
        for v in r.x { #expect(Swift.abs(2 * (v - 3) + 0.4 * v * v * v) < 1e-3) }
    }

    @Test func userErrorsAreClear() throws {
        #expect(throws: CohortError.invalidArgument("ConvexSet.box: lower[1] = 2.0 > upper[1] = 1.0")) {
            try ConvexSet.box(lower: [0, 2], upper: [1, 1]).project([0, 0])
        }
        #expect(throws: CohortError.invalidArgument("ConvexSet.ball: center has 3 elements, x has 2")) {
            try ConvexSet.ball(center: [0, 0, 0], radius: 1).project([0, 0])
        }
        let wrong = Objective(valueAndGradient: { _ in (0, [0]) })
        #expect(throws: CohortError.shapeMismatch(op: "L-BFGS", "the objective's gradient has 1 elements, x has 2")) {
            try Minimize.lbfgs(wrong, from: [0, 0])
        }
        var options = MinimizeOptions()
        options.wolfe = 1e-5
        #expect(throws: CohortError.self) { try Minimize.lbfgs(rosenbrock, from: [0, 0], options: options) }
        let nan = Objective(valueAndGradient: { x in (.nan, x) })
        #expect(throws: CohortError.nonFinite("gradient descent: the objective or its gradient is not finite at the start point (f = nan)")) {
            try Minimize.gradientDescent(nan, from: [1])
        }
    }
}
