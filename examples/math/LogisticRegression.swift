// L2-regularised logistic regression on the breast-cancer table (569 tumours, 30 features):
//   f(b, w) = (1/n) Σ [log(1 + e^{zᵢ}) − yᵢ zᵢ] + (λ/2)‖w‖²,  zᵢ = b + xᵢ·w,
//   ∇f = (1/n) Σ (σ(zᵢ) − yᵢ)(1, xᵢ) + λ(0, w),  σ the logistic sigmoid.
// f is smooth and strongly convex in w, so it has one minimiser. We compare how fast
// L-BFGS (a quasi-Newton method that learns the curvature) and plain SGD reach it:
// full-batch with the fixed step 1/L (L bounds the curvature) and mini-batch (32 samples).
import CohortCore
import CohortData
import CohortLinalg
import CohortMinimize
import CohortTensor
import Foundation

func logisticRegression(_ options: ExampleOptions) throws {
    let path = options.data ?? "../shared/data/breast-cancer/breast_cancer.csv"
    let raw = try CSVDataset.classification(path: path).dataset
    guard raw.numClasses == 2 else {
        throw CohortError.badFile(path: path, "logistic regression needs labels 0 and 1, the last column has \(raw.numClasses) classes")
    }
    let data = try raw.standardized(Standardizer(fitting: raw))
    let n = data.count, p = data.featureSize, lambda = 0.01
    // Design matrix with a leading column of ones: θ = (b, w).
    var x = Matrix(rows: n, columns: p + 1)
    for i in 0..<n {
        x[i, 0] = 1
        for j in 0..<p { x[i, j + 1] = Double(data.features[i * p + j]) }
    }
    let y = data.labels.map(Double.init)
    print("logistic regression, λ = \(lambda): \(n) samples × \(p) standardized features + bias")

    /// f and ∇f, the data term averaged over `rows` (a mini-batch, or all samples).
    func lossAndGradient(_ theta: [Double], rows: some Collection<Int>) -> (value: Double, gradient: [Double]) {
        var value = 0.0, gradient = [Double](repeating: 0, count: p + 1)
        for i in rows {
            let z = (0...p).reduce(0) { $0 + x[i, $1] * theta[$1] }
            value += max(z, 0) + log1p(exp(-abs(z))) - y[i] * z   // log(1 + eᶻ) − yz, without overflow
            let residual = 1 / (1 + exp(-z)) - y[i]
            for j in 0...p { gradient[j] += residual * x[i, j] }
        }
        let m = Double(rows.count)
        value /= m
        for j in 0...p { gradient[j] /= m }
        for j in 1...p { value += lambda / 2 * theta[j] * theta[j]; gradient[j] += lambda * theta[j] }
        return (value, gradient)
    }
    let objective = Objective(valueAndGradient: { lossAndGradient($0, rows: 0..<n) })
    let start = [Double](repeating: 0, count: p + 1)

    // L-BFGS to a tight gradient tolerance: its final value is f*, the reference optimum.
    // (Much below 1e-9, f no longer changes in Float64 and the line search cannot progress.)
    var settings = MinimizeOptions()
    settings.gradientTolerance = 1e-9
    settings.functionTolerance = 0
    let lbfgs = try Minimize.lbfgs(objective, from: start, options: settings)
    let fStar = lbfgs.value
    print("L-BFGS: \(lbfgs.iterations) iterations, \(lbfgs.functionEvaluations) evaluations, f* = \(fixed(fStar, 12)), ‖∇f‖∞ = \(sci(lbfgs.gradientNorm))")

    // Plain full-batch gradient descent, fixed step 1/L: the Hessian is at most
    // XᵀX/4n + λI (σ' ≤ 1/4), so L = λ_max(XᵀX)/4n + λ (Linalg.eigvalsh).
    var gram = x.gram()
    gram.values = gram.values.map { $0 / Double(4 * n) }
    let lipschitz = Double(try Linalg.eigvalsh(gram.tensor()).scalars.max() ?? 0) + lambda
    let fullBudget = 1500
    var theta = start, fullBatch = [lossAndGradient(start, rows: 0..<n).value]
    for _ in 0..<fullBudget {
        let g = lossAndGradient(theta, rows: 0..<n).gradient
        theta = zip(theta, g).map { $0 - $1 / lipschitz }
        fullBatch.append(lossAndGradient(theta, rows: 0..<n).value)
    }

    // Mini-batch SGD: 32 samples per step in a seeded shuffled order, constant step 0.5/L.
    let epochs = 300, batch = 32
    var generator = RandomGenerator(seed: 5)
    theta = start
    var miniBatch = [fullBatch[0]]
    for _ in 0..<epochs {
        let order = generator.permutation(n)
        for s in stride(from: 0, to: n, by: batch) {
            let g = lossAndGradient(theta, rows: order[s..<min(s + batch, n)]).gradient
            theta = zip(theta, g).map { $0 - 0.5 * $1 / lipschitz }
        }
        miniBatch.append(lossAndGradient(theta, rows: 0..<n).value)
    }

    // Iterations (epochs for mini-batch) until f − f* < 1e-6. SGD's noisy steps make f
    // bounce around a floor set by the step size, so it may dip below and come back up.
    let target = 1e-6
    func report(_ values: [Double], _ unit: String) -> String { firstBelow(target, values, optimum: fStar, unit) }
    let lbfgsValues = lbfgs.history.map(\.value)
    print("\nfirst iteration with f − f* < \(sci(target, 0)):")
    print("  L-BFGS                           \(report(lbfgsValues, "iterations"))")
    print("  full-batch SGD, step 1/L = \(fixed(1 / lipschitz, 3))    \(report(fullBatch, "iterations"))")
    print("  mini-batch SGD (\(batch)), step 0.5/L   \(report(miniBatch, "epochs")), \((n + batch - 1) / batch) steps an epoch")
    let tail = miniBatch.suffix(50).map { $0 - fStar }
    print("  mini-batch SGD, last 50 epochs: f − f* between \(sci(tail.min()!)) and \(sci(tail.max()!)) (its noise floor)")

    let files = try writeConvergenceCharts([("L-BFGS", lbfgsValues), ("SGD, full batch", fullBatch), ("SGD, batch \(batch)", miniBatch)],
                                           optimum: fStar, title: "Logistic regression (breast cancer, λ = \(lambda)): f − f*",
                                           to: options.out ?? "runs/math/logreg-convergence.svg", zoom: 60)
    print("\nwrote " + files.joined(separator: " and "))

    // Checks: L-BFGS converged; fixed-step gradient descent, which converges for any step
    // ≤ 1/L, independently confirms f*; and no iterate of any method lies below f*.
    try check(lbfgs.converged, "L-BFGS did not converge: \(lbfgs.reason.rawValue)")
    try check(fullBatch.last! - fStar < target, "full-batch SGD ends \(sci(fullBatch.last! - fStar)) above f*: is f* or L wrong?")
    try check((fullBatch + miniBatch).allSatisfy { $0 >= fStar - 1e-12 }, "an SGD iterate has f below f*: f* is not the minimum")
    try check(miniBatch.last! < miniBatch[0], "mini-batch SGD did not decrease f")
    print("checks passed: full-batch SGD confirms L-BFGS's f*")
}

/// "N iterations (f − f* = … after M)": the first of `values` within `target` of `optimum`.
func firstBelow(_ target: Double, _ values: [Double], optimum: Double, _ unit: String) -> String {
    let gaps = values.map { $0 - optimum }
    guard let first = gaps.firstIndex(where: { $0 < target }) else {
        return "not reached within its budget of \(gaps.count - 1) \(unit) (f − f* = \(sci(gaps.last!)) at the end)"
    }
    return "\(first) \(unit)" + (gaps.last! < target ? "" : ", but does not stay below") + " (f − f* = \(sci(gaps.last!)) after \(gaps.count - 1))"
}
