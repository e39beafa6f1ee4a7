// The `limits` example: the limit behind every derivative and gradient check, seen in floating
// point. (1) f′(x) as the limit of difference quotients: forward differences converge at order 1,
// central at order 2, until rounding (≈ ε/h) takes over — so there is a best step, ≈ √ε forward
// and ≈ ∛ε central, in Double and in the Float32 of tensors (why gradient checks use h ≈ 1e-2).
// (2) Continuity and differentiability of activations: ReLU and LeakyReLU are continuous with a
// kink at 0 (one-sided quotients disagree; autograd returns a subgradient), GELU, ELU(α = 1) and
// SiLU are differentiable there. (3) A numerical limit: (1 + 1/n)ⁿ → e at rate e/(2n), and how
// evaluating it naively breaks for large n.
import CohortCalculus
import CohortTensor
import Foundation

func limitsAndContinuity(_ options: ExampleOptions) throws {
    try check(options.data == nil && options.out == nil, "limits takes no --data or --out")
    try differenceQuotients()
    try activationKinks()
    try eulerLimit()
    print("\nchecks passed: orders 1 and 2, best steps near √ε and ∛ε, ReLU's kink, GELU's smoothness, (1+1/n)ⁿ → e at e/(2n)")
}

/// Least-squares slope of log10|error| against log10 h over the given points.
private func slope(_ points: [(h: Double, error: Double)]) -> Double {
    let xs = points.map { log10($0.h) }, ys = points.map { log10($0.error) }
    let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
    let sxy = zip(xs, ys).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
    let sxx = xs.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
    return sxy / sxx
}

/// (1): sin′(1) = cos(1) by forward and central quotients for h = 10⁻¹ … 10⁻¹³ (Double), and the
/// same quotients in Float32.
private func differenceQuotients() throws {
    let x = 1.0, exact = cos(x)
    let steps = (1...13).map { pow(10, -Double($0)) }
    print("(1) sin′(1) = cos(1) = \(fixed(exact, 12)) as a limit of difference quotients (Double)")
    print("       h      forward error   central error")
    var forward: [(h: Double, error: Double)] = [], central: [(h: Double, error: Double)] = []
    for h in steps {
        let f = abs((sin(x + h) - sin(x)) / h - exact)
        let c = abs((sin(x + h) - sin(x - h)) / (2 * h) - exact)
        forward.append((h, f)); central.append((h, c))
        print("   \(sci(h, 0))      \(sci(f, 2))        \(sci(c, 2))")
    }
    // Truncation regime: h = 1e-1 … 1e-4 (forward) and 1e-1 … 1e-3 (central), well above rounding.
    let forwardOrder = slope(Array(forward.prefix(4))), centralOrder = slope(Array(central.prefix(3)))
    let bestForward = forward.min { $0.error < $1.error }!.h, bestCentral = central.min { $0.error < $1.error }!.h
    let eps = Double.ulpOfOne
    print("   order (slope of log error vs log h while truncation dominates): forward \(fixed(forwardOrder, 2)), central \(fixed(centralOrder, 2))")
    print("   best step: forward \(sci(bestForward, 0)) (√ε = \(sci(eps.squareRoot(), 1))), central \(sci(bestCentral, 0)) (∛ε = \(sci(cbrt(eps), 1)))")
    print("   below the best step the rounding error of f(x+h) − f(x), ≈ ε·|f|/h, grows as h shrinks")
    try check(abs(forwardOrder - 1) < 0.1, "forward difference order \(forwardOrder), expected 1")
    try check(abs(centralOrder - 2) < 0.1, "central difference order \(centralOrder), expected 2")
    try check(bestForward >= eps.squareRoot() / 100 && bestForward <= eps.squareRoot() * 100, "best forward step \(bestForward) far from √ε")
    try check(bestCentral >= cbrt(eps) / 100 && bestCentral <= cbrt(eps) * 100, "best central step \(bestCentral) far from ∛ε")
    try check(central.map(\.error).min()! < forward.map(\.error).min()! / 10, "central differences should reach a smaller error")

    // Float32, the tensors' type: rounding takes over ~10⁴× sooner.
    let x32: Float = 1, exact32 = Double(cos(x32))
    let central32 = (1...7).map { k -> (h: Double, error: Double) in
        let h = Float(pow(10, -Double(k)))
        return (Double(h), abs(Double((sin(x32 + h) - sin(x32 - h)) / (2 * h)) - exact32))
    }
    let best32 = central32.min { $0.error < $1.error }!
    print("   Float32 central: best step \(sci(best32.h, 0)) (∛ε₃₂ = \(sci(cbrt(Double(Float.ulpOfOne)), 1))), error \(sci(best32.error, 1)); "
          + "at h = 1e-7 the error is \(sci(central32.last!.error, 1)) — hence gradient checks on tensors use h ≈ 1e-2…1e-3")
    try check(best32.h >= 1e-4 && best32.h <= 1e-1, "Float32's best central step \(best32.h) should be near ∛ε₃₂ ≈ 5e-3")
    try check(central32.last!.error > 100 * best32.error, "Float32's h = 1e-7 should be far worse than its best step")
}

/// The derivative autograd gives for `f` at the scalar `x`.
private func autogradDerivative(_ f: (Tensor) throws -> Tensor, at x: Float) throws -> Double {
    Double(try Derivatives.jacobian(of: f, at: try Tensor([x], shape: [1])).scalars[0])
}

/// (2): one-sided quotients at 0 (in Double, from the definitions) beside autograd's value.
private func activationKinks() throws {
    let gelu: (Double) -> Double = { $0 * 0.5 * (1 + erf($0 / 2.0.squareRoot())) }
    let activations: [(name: String, f: (Double) -> Double, tensor: (Tensor) -> Tensor, left: Double, right: Double)] = [
        ("ReLU", { max($0, 0) }, { $0.relu() }, 0, 1),
        ("LeakyReLU(0.01)", { $0 > 0 ? $0 : 0.01 * $0 }, { $0.leakyRelu(negativeSlope: 0.01) }, 0.01, 1),
        ("GELU", gelu, { $0.gelu() }, 0.5, 0.5),
        ("ELU(α=1)", { $0 > 0 ? $0 : exp($0) - 1 }, { $0.elu(alpha: 1) }, 1, 1),
        ("SiLU", { $0 / (1 + exp(-$0)) }, { $0.silu() }, 0.5, 0.5),
    ]
    print("\n(2) continuity and differentiability at 0: one-sided difference quotients (h = 1e-6), autograd's f′(0)")
    print("   activation         |f(h) − f(0)|   left quotient   right quotient   autograd   differentiable")
    let h = 1e-6
    for a in activations {
        let jump = max(abs(a.f(h) - a.f(0)), abs(a.f(-h) - a.f(0)))
        let left = (a.f(0) - a.f(-h)) / h, right = (a.f(h) - a.f(0)) / h
        let auto = try autogradDerivative(a.tensor, at: 0)
        let smooth = abs(left - right) < 1e-4
        print("   \(a.name.padding(toLength: 17, withPad: " ", startingAt: 0))  \(sci(jump, 1))        \(fixed(left, 6))       \(fixed(right, 6))       \(fixed(auto, 4))     \(smooth ? "yes" : "no (kink)")")
        try check(jump < 2 * h, "\(a.name) should be continuous at 0 (|f(±h) − f(0)| = \(jump))")
        try check(abs(left - a.left) < 1e-4 && abs(right - a.right) < 1e-4,
                  "\(a.name)'s one-sided quotients \(left), \(right), expected \(a.left), \(a.right)")
        // Autograd at a kink picks a subgradient: any value between the one-sided derivatives.
        try check(auto >= min(a.left, a.right) - 1e-5 && auto <= max(a.left, a.right) + 1e-5,
                  "\(a.name): autograd's \(auto) is not between the one-sided derivatives")
        try check(smooth == (a.left == a.right), "\(a.name) differentiability misjudged")
        if a.name == "ReLU" { try check(auto == 0, "ReLU's autograd derivative at 0 is \(auto); Cohort, like PyTorch, takes 0") }
    }
    print("   ReLU's two quotients disagree at 0: no derivative there, and autograd's value is a choice")
    print("   (a subgradient in [0, 1]; Cohort and PyTorch take 0). GELU and SiLU are smooth: 0.5 from both sides.")
}

/// (3): (1 + 1/n)ⁿ → e; the error times n tends to e/2, and pow(1 + 1/n, n) breaks when 1 + 1/n rounds.
private func eulerLimit() throws {
    print("\n(3) (1 + 1/n)ⁿ → e = \(fixed(M_E, 12))")
    print("       n          exp(n·log1p(1/n))   e − value     n·(e − value)   naive pow(1 + 1/n, n)")
    var rates: [Double] = []
    for k in [1, 2, 3, 4, 6, 8, 10, 12, 15, 16] {
        let n = pow(10, Double(k))
        let value = exp(n * log1p(1 / n)), naive = pow(1 + 1 / n, n)
        let error = M_E - value
        rates.append(n * error)
        print("   1e\(k)\(k < 10 ? " " : "")       \(fixed(value, 12))      \(sci(error, 2))      \(fixed(n * error, 6))       \(fixed(naive, 12))")
    }
    print("   n·(e − value) → e/2 = \(fixed(M_E / 2, 6)): the error falls like e/(2n), until it drops below Double's resolution;")
    print("   the naive form loses it far sooner: 1 + 1/n rounds to a neighbour of 1, and the nth power magnifies that rounding")
    try check(abs(rates[3] / (M_E / 2) - 1) < 1e-3, "n·(e − (1+1/n)ⁿ) at n = 1e4 is \(rates[3]), expected e/2")
    try check(abs(rates[4] / (M_E / 2) - 1) < 1e-4, "n·(e − (1+1/n)ⁿ) at n = 1e6 is \(rates[4]), expected e/2")
    try check(abs(pow(1 + 1 / 1e16, 1e16) - 1) < 1e-12, "pow(1 + 1e-16, 1e16) should collapse to 1 (1 + 1e-16 == 1 in Double)")
    try check(abs(pow(1 + 1 / 1e12, 1e12) - M_E) > 1e-5, "the naive form should already be off by > 1e-5 at n = 1e12")
}
