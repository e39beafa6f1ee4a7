// Runs the release `MathExamples` binary (beside COHORT_BIN, else .build/release) on each
// example from the repository root, as the README says: every example checks its own
// figures and exits non-zero if one is off; here we also pin the key lines it prints.
import Foundation
import Testing

@Suite struct MathExamplesTests {
    static var binary: String {
        if let b = ProcessInfo.processInfo.environment["COHORT_BIN"], !b.isEmpty {
            return URL(fileURLWithPath: b).deletingLastPathComponent().appendingPathComponent("MathExamples").path
        }
        return CLI.repoRoot.appendingPathComponent(".build/release/MathExamples").path
    }

    /// Runs `MathExamples args…` in the repository root (so `../shared/data` resolves), 60 s at most.
    func run(_ args: [String]) throws -> CLIResult {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey:
                "no MathExamples binary at \(Self.binary): run `swift build -c release` (make test does) or set COHORT_BIN"])
        }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = args
        p.currentDirectoryURL = CLI.repoRoot
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning && Date() < deadline { usleep(5_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        try out.close(); try err.close()
        return CLIResult(status: p.terminationStatus, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    @Test func linearRegressionSolutionsAgree() throws {
        let r = try run(["linreg"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("R² = 0.5177"), "\(r.stdout)")   // scikit-learn's LinearRegression on this table
        #expect(r.stdout.contains("checks passed: the three solutions agree"), "\(r.stdout)")
    }

    @Test func pcaByEigendecompositionAndSVDAgree() throws {
        let r = try run(["pca"])
        #expect(r.status == 0, "\(r.output)")
        // scikit-learn's PCA on the digits: 0.2851, 0.7382, 0.8943 for k = 2, 10, 20.
        for line in ["k =  2: 0.2851 (eigh)  0.2851 (SVD)", "k = 10: 0.7382 (eigh)  0.7382 (SVD)", "k = 20: 0.8943 (eigh)  0.8943 (SVD)",
                     "checks passed"] {
            #expect(r.stdout.contains(line), "missing \(line.debugDescription) in\n\(r.stdout)")
        }
    }

    @Test func gaussianMLEMatchesClosedFormAndFisherStandardErrors() throws {
        let r = try run(["mle"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("checks passed: the MLE and its standard errors agree"), "\(r.stdout)")
    }

    @Test func bayesianABTestThreeWaysAndZTest() throws {
        let r = try run(["ab-test"])
        #expect(r.status == 0, "\(r.output)")
        for line in ["posterior Beta(121, 881)", "posterior Beta(151, 851)", "exact sum                   0.97506784",
                     "z = 1.963, p = 0.0496 (two-sided)", "checks passed"] {
            #expect(r.stdout.contains(line), "missing \(line.debugDescription) in\n\(r.stdout)")
        }
    }

    @Test func logisticRegressionConvergenceAndChart() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let svg = dir.appendingPathComponent("plots/convergence.svg").path
        let r = try run(["logreg", "--out", svg])
        #expect(r.status == 0, "\(r.output)")
        // scipy's L-BFGS-B optimum on Float64 data is 0.09959137548 (Tests/CohortMinimizeTests/Fixtures);
        // the example's features are standardized in Float32, which moves f* by ~2e-10.
        let fStar = r.stdout.components(separatedBy: "f* = ").dropFirst().first.flatMap { Double($0.prefix(while: { $0 != "," })) }
        #expect(fStar.map { abs($0 - 0.09959137548) < 1e-9 } == true, "f* \(String(describing: fStar)) in\n\(r.stdout)")
        #expect(r.stdout.contains("checks passed: full-batch SGD confirms"), "\(r.stdout)")
        #expect(r.stdout.contains("L-BFGS                           14 iterations"), "\(r.stdout)")
        for path in [svg, dir.appendingPathComponent("plots/convergence-first60.svg").path] {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.contains("<svg") && text.contains("L-BFGS") && text.contains("SGD, full batch") && text.contains("<polyline"), "\(path)")
        }
    }

    @Test func limitsShowOrdersBestStepsKinksAndEulersRate() throws {
        let r = try run(["limits"])
        #expect(r.status == 0, "\(r.output)")
        for line in ["forward 1.00, central 2.00", "best step: forward 1e-08",
                     "ReLU               1.0e-06        0.000000       1.000000       0.0000     no (kink)",
                     "GELU               5.0e-07        0.500000       0.500000       0.5000     yes",
                     "1e6        2.718280469319      1.36e-06      1.359140", "checks passed"] {
            #expect(r.stdout.contains(line), "missing \(line.debugDescription) in\n\(r.stdout)")
        }
        let flag = try run(["limits", "--data", "x.csv"])
        #expect(flag.status == 1 && flag.stderr.contains("limits takes no --data"), "\(flag.output)")
    }

    @Test func mistakesGetClearMessages() throws {
        let unknown = try run(["lnreg"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown example \"lnreg\"") && unknown.stderr.contains("ab-test"), "\(unknown.output)")
        let flag = try run(["pca", "--data"])
        #expect(flag.status == 2 && flag.stderr.contains("--data: needs a path"), "\(flag.output)")
        let missing = try run(["linreg", "--data", "/nonexistent/table.csv"])
        #expect(missing.status == 1 && missing.stderr.contains("/nonexistent/table.csv"), "\(missing.output)")
        let wrongTable = try run(["logreg", "--data", "../shared/data/sklearn-digits/digits.csv"])
        #expect(wrongTable.status == 1 && wrongTable.stderr.contains("digits.csv") && wrongTable.stderr.contains("10 classes"), "\(wrongTable.output)")
    }
}
