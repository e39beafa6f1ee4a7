// Worked mathematics on Cohort's libraries: linear algebra (CohortLinalg), calculus and
// optimization (CohortCalculus, CohortMinimize), probability (CohortProbability, CohortStats).
// Each example prints its figures and checks them; a failed check exits 1 with a message.
// Run from the repository root: swift run -c release MathExamples linreg   (see README.md)
import CohortCore
import Foundation

let examples: [(name: String, summary: String, run: (ExampleOptions) throws -> Void)] = [
    ("linreg", "linear regression: normal equations, least squares, gradient descent", linearRegression),
    ("pca", "principal components: eigh of the covariance vs SVD of the data", principalComponents),
    ("mle", "Gaussian maximum likelihood, standard errors from the Hessian", gaussianMaximumLikelihood),
    ("ab-test", "Bayesian A/B test vs the two-proportion z-test", bayesianABTest),
    ("logreg", "logistic regression: L-BFGS vs SGD, convergence plot", logisticRegression),
    ("limits", "derivatives as limits, the best step, activations' kinks, (1+1/n)ⁿ → e", limitsAndContinuity),
]

@MainActor func usage() -> String {
    "usage: MathExamples NAME [--data PATH] [--out PATH]\n"
        + examples.map { "  \($0.name.padding(toLength: 8, withPad: " ", startingAt: 0)) \($0.summary)" }.joined(separator: "\n")
}

func fail(_ message: String, status: Int32) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(status)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first else { fail(usage(), status: 2) }
guard let example = examples.first(where: { $0.name == name }) else {
    fail("unknown example \(name.debugDescription)\n" + usage(), status: 2)
}
do {
    try example.run(try ExampleOptions(Array(arguments.dropFirst())))
} catch let error as CohortError {
    if case .badFlag = error { fail("\(error)\n" + usage(), status: 2) }
    fail("error: \(error)", status: 1)
} catch {
    fail("\(error)", status: 1)
}
