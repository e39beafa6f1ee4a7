// Principal component analysis of the 8×8 digit images (1797 × 64 pixels), two ways:
//  1. eigendecomposition of the covariance C = XᵀX/(n − 1) = V Λ Vᵀ (Linalg.eigh);
//  2. SVD of the centred data X = U S Vᵀ (Linalg.svd): C = V (S²/(n − 1)) Vᵀ, the same V.
// The variances along the components (Λ, or S²/(n − 1)) and the subspaces spanned by the
// top-k directions must agree. Subspaces are compared through their orthogonal projectors
// P = V_k V_kᵀ: ‖P₁ − P₂‖₂ is the sine of the largest principal angle between them.
import CohortCore
import CohortData
import CohortLinalg
import CohortTensor
import Foundation

func principalComponents(_ options: ExampleOptions) throws {
    let path = options.data ?? "../shared/data/sklearn-digits/digits.csv"
    let data = try CSVDataset.classification(path: path).dataset
    let n = data.count, p = data.featureSize, k = 10
    guard p > 20 else { throw CohortError.badFile(path: path, "this example needs more than 20 feature columns, the table has \(p)") }
    // Centre every pixel: subtract its mean over the images.
    var x = Matrix(rows: n, columns: p, values: data.features.map(Double.init))
    for j in 0..<p {
        let mean = (0..<n).reduce(0) { $0 + x[$1, j] } / Double(n)
        for i in 0..<n { x[i, j] -= mean }
    }
    print("PCA of \(n) samples × \(p) features (\(data.name))")

    // 1. Covariance and its eigenvalues (eigh returns them ascending: reverse to descending).
    var covariance = x.gram()
    covariance.values = covariance.values.map { $0 / Double(n - 1) }
    let (w, vectors) = try Linalg.eigh(covariance.tensor())
    let eigenvalues = w.scalars.reversed().map { max(Double($0), 0) }   // tiny negative round-off → 0
    let v = vectors.scalars.map(Double.init)
    let eigenBasis = Matrix(rows: p, columns: k, values: (0..<p).flatMap { i in (0..<k).map { c in v[i * p + (p - 1 - c)] } })

    // 2. SVD of the data itself (thin: U [n, p], s [p], Vh [p, p]).
    let (_, s, vh) = try Linalg.svd(x.tensor(), fullMatrices: false)
    let svdVariances = s.scalars.map { Double($0) * Double($0) / Double(n - 1) }
    let rowsOfVh = vh.scalars.map(Double.init)
    let svdBasis = Matrix(rows: p, columns: k, values: (0..<p).flatMap { i in (0..<k).map { c in rowsOfVh[c * p + i] } })

    // Explained-variance ratio of component i: its variance over the total variance (the trace of C).
    func ratios(_ variances: [Double]) -> [Double] { let total = variances.reduce(0, +); return variances.map { $0 / total } }
    let r1 = ratios(eigenvalues), r2 = ratios(svdVariances)
    print("\ncomponent  variance (eigh)  variance (SVD)  explained ratio")
    for i in 0..<5 { print(pad("\(i + 1)", 9) + pad(fixed(eigenvalues[i], 3), 17) + pad(fixed(svdVariances[i], 3), 16) + pad(fixed(r1[i]), 17)) }
    let ratioDiff = maxAbsDifference(r1, r2)
    print("max |ratio(eigh) − ratio(SVD)| over all \(p) components = \(sci(ratioDiff))")

    print("\ncumulative explained variance:")
    var cumulative: [Double] = []
    for kk in [2, 10, 20] {
        let c1 = r1[..<kk].reduce(0, +), c2 = r2[..<kk].reduce(0, +)
        cumulative.append(c1)
        print("  k = \(pad("\(kk)", 2)): \(fixed(c1)) (eigh)  \(fixed(c2)) (SVD)")
    }

    // Projectors onto the two top-k subspaces, in Float64; each basis' own orthonormality too.
    func projector(_ b: Matrix) -> Matrix {
        var pr = Matrix(rows: p, columns: p)
        for i in 0..<p { for j in 0..<p { pr[i, j] = (0..<k).reduce(0) { $0 + b[i, $1] * b[j, $1] } } }
        return pr
    }
    var difference = projector(eigenBasis)
    difference.values = zip(difference.values, projector(svdBasis).values).map { $0 - $1 }
    let frobenius = Double(try Linalg.matrixNorm(difference.tensor()).item())
    let sine = Double(try Linalg.matrixNorm(difference.tensor(), ord: .spectral).item())
    print("\ntop-\(k) subspaces: ‖P₁ − P₂‖_F = \(sci(frobenius)), largest principal angle = asin(‖P₁ − P₂‖₂) = \(sci(asin(min(sine, 1)))) rad")
    let gap = eigenvalues[k - 1] - eigenvalues[k]
    print("eigenvalue gap λ\(k) − λ\(k + 1) = \(fixed(gap, 3)) (a larger gap makes the subspace better determined)")

    // Checks: both routes give the same spectrum and the same subspace, and ratios add up.
    try check(ratioDiff < 1e-5, "explained-variance ratios differ by \(sci(ratioDiff)) between eigh and SVD")
    try check(frobenius < 1e-4, "the top-\(k) subspaces differ: ‖P₁ − P₂‖_F = \(sci(frobenius))")
    try check(abs(r1.reduce(0, +) - 1) < 1e-9, "explained-variance ratios do not sum to 1")
    try check(zip(cumulative, cumulative.dropFirst()).allSatisfy { $0 < $1 }, "cumulative explained variance is not increasing")
    print("checks passed: eigh and SVD give the same components")
}
