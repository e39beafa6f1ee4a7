// Linear regression y ≈ Xw on the diabetes table (442 patients, 10 features), three ways:
//  1. the normal equations (XᵀX) w = Xᵀy, a small d×d system (Linalg.solve);
//  2. least squares min ‖Xw − y‖² on X itself by SVD (Linalg.lstsq), which never forms XᵀX;
//  3. gradient descent on f(w) = ‖Xw − y‖²/2n with ∇f = Xᵀ(Xw − y)/n (CohortMinimize).
// All three must agree: they minimise the same convex quadratic.
import CohortCore
import CohortData
import CohortLinalg
import CohortMinimize
import CohortTensor

func linearRegression(_ options: ExampleOptions) throws {
    let path = options.data ?? "../shared/data/diabetes/diabetes.csv"
    let table = try CSVDataset.regression(path: path)
    let n = table.count, p = table.featureCount, d = p + 1
    if let j = (0..<p).first(where: { j in (0..<n).allSatisfy { table.features[$0 * p + j] == table.features[j] } }) {
        throw CohortError.badFile(path: path, "column \(table.featureNames[j].debugDescription) is constant: with the intercept, XᵀX is singular")
    }
    // Standardized features (mean 0, std 1) so the coefficients are comparable,
    // and a first column of ones whose coefficient is the intercept.
    let z = standardizedColumns(table.features, rows: n, columns: p)
    var x = Matrix(rows: n, columns: d)
    for i in 0..<n {
        x[i, 0] = 1
        for j in 0..<p { x[i, j + 1] = z[i * p + j] }
    }
    let y = table.targets.map(Double.init)
    print("linear regression on \(n) samples, \(p) standardized features + intercept, target column \(table.targetName.debugDescription)")

    // 1. Normal equations. Squaring X squares its condition number: cond(XᵀX) = cond(X)².
    let gram = x.gram()
    let normal = try Linalg.solve(gram.tensor(), Tensor(x.transposedTimes(y).map { Float($0) })).scalars.map(Double.init)
    // 2. Least squares by SVD (LAPACK dgelsd).
    let ls = try Linalg.lstsq(x.tensor(), Tensor(y.map { Float($0) }))
    let lstsq = ls.solution.scalars.map(Double.init)
    let condX = Double(try Linalg.cond(x.tensor()).item()), condGram = Double(try Linalg.cond(gram.tensor()).item())
    print("cond(X) = \(fixed(condX, 1)), cond(XᵀX) = \(fixed(condGram, 1)), rank \(ls.rank)")

    // 3. Full-batch gradient descent (Armijo line search) from w = 0, in Float64.
    let objective = Objective(valueAndGradient: { w in
        let r = zip(x.times(w), y).map { $0 - $1 }
        return (r.reduce(0) { $0 + $1 * $1 } / Double(2 * n), x.transposedTimes(r).map { $0 / Double(n) })
    })
    var settings = MinimizeOptions()
    settings.gradientTolerance = 1e-9
    settings.functionTolerance = 0
    settings.maxIterations = 50_000
    let gd = try Minimize.gradientDescent(objective, from: Array(repeating: 0, count: d), options: settings)
    print("gradient descent: \(gd.iterations) iterations, \(gd.functionEvaluations) f evaluations, ‖∇f‖∞ = \(sci(gd.gradientNorm)), stopped on \(gd.reason.rawValue)")

    print("\n" + pad("coefficient", 12) + pad("normal eq.", 14) + pad("lstsq (SVD)", 14) + pad("grad. descent", 15))
    let names = ["intercept"] + table.featureNames
    for j in 0..<d {
        print(pad(names[j], 12) + pad(fixed(normal[j]), 14) + pad(fixed(lstsq[j]), 14) + pad(fixed(gd.x[j]), 15))
    }
    let scale = lstsq.map(abs).max() ?? 1
    let normalDiff = maxAbsDifference(normal, lstsq), gdDiff = maxAbsDifference(gd.x, lstsq)
    print("\nmax |normal eq. − lstsq| = \(sci(normalDiff)) (\(sci(normalDiff / scale)) of max |w|)")
    print("max |grad. descent − lstsq| = \(sci(gdDiff)) (\(sci(gdDiff / scale)) of max |w|)")

    // Fit quality of the least-squares coefficients: MSE and R² = 1 − SS_res / SS_tot.
    let residual = zip(x.times(lstsq), y).map { $0 - $1 }
    let mse = residual.reduce(0) { $0 + $1 * $1 } / Double(n)
    let yMean = y.reduce(0, +) / Double(n)
    let r2 = 1 - mse * Double(n) / y.reduce(0) { $0 + ($1 - yMean) * ($1 - yMean) }
    print("training MSE = \(fixed(mse, 2)), R² = \(fixed(r2))")

    // Checks. The normal equations round XᵀX to Float32 (relative error 2⁻²⁴), which
    // cond(XᵀX) amplifies; gradient descent has no such loss and must match to 1e-5.
    try check(gd.converged, "gradient descent did not converge: \(gd.reason.rawValue) after \(gd.iterations) iterations")
    try check(gdDiff / scale < 1e-5, "gradient descent differs from lstsq by \(sci(gdDiff / scale)) relative (want < 1e-5)")
    try check(normalDiff / scale < max(1e-6, 10 * condGram * 0x1p-24),
              "normal equations differ from lstsq by \(sci(normalDiff / scale)) relative, more than cond(XᵀX) explains")
    try check(r2 > 0 && r2 < 1, "R² = \(r2) is outside (0, 1)")
    // The least-squares residual is orthogonal to every column of X: Xᵀr = 0.
    let orthogonality = x.transposedTimes(residual).map(abs).max() ?? 0
    try check(orthogonality / Double(n) < 1e-3, "Xᵀr/n = \(sci(orthogonality / Double(n))) is not ≈ 0")
    print("checks passed: the three solutions agree")
}
