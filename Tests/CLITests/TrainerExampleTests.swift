// examples/trainer (a user-defined model through the Trainer) runs in one
// process and under `mpirun -np 2`; in deterministic mode (the example's
// --deterministic) both train the same weights, so they reach the same accuracy.
import CohortProcess
import Foundation
import Testing

@Suite(.serialized) struct TrainerExampleTests {
    /// The release `TrainerExample` beside COHORT_BIN (else .build/release).
    static var binary: String {
        URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("TrainerExample").path
    }

    /// Runs the example in a fresh working directory (it writes runs/trainer-example there).
    func run(ranks: Int, _ arguments: [String] = []) throws -> CLIResult {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no TrainerExample at \(Self.binary): run `swift build -c release` (make test does)"])
        }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let program = ranks == 1 ? [Self.binary] : MPIRun(ranks: ranks, oversubscribe: true).argv([Self.binary])
        let r = try runWithTimeout(argv: ["/usr/bin/env", "-C", dir.path] + program + arguments, timeout: 600)
        let best = (try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/runs/trainer-example/best")) ?? []
        return CLIResult(status: r.status.processStatus, stdout: r.stdout + r.stderr, stderr: best.joined(separator: " "))
    }

    /// Without deterministic mode 1 and 2 ranks sum gradients in another order, and the
    /// accuracies differ in the 4th digit on some CPUs, so only deterministic runs are
    /// compared. Their weights are bitwise equal, so the accuracy (a count) is exact;
    /// val_loss averages each rank's share in Float32, so it may differ by rounding in
    /// its printed 4th decimal.
    @Test func oneAndTwoRanksReachTheSameValidation() throws {
        let one = try run(ranks: 1, ["--deterministic"]), two = try run(ranks: 2, ["--deterministic"])
        #expect(one.status == 0 && two.status == 0, "\(one.stdout)\n\(two.stdout)")
        /// The final line's metrics, e.g. ["val_accuracy": 0.9595, "val_loss": 0.1234].
        func final(_ r: CLIResult) -> [String: Double] {
            guard let line = r.stdout.split(separator: "\n").last(where: { $0.hasPrefix("val_accuracy") }) else { return [:] }
            let metrics = line.components(separatedBy: " after ")[0].components(separatedBy: ", ")
            return Dictionary(metrics.compactMap { m -> (String, Double)? in
                let parts = m.split(separator: " ")
                return parts.count == 2 ? Double(parts[1]).map { (String(parts[0]), $0) } : nil
            }, uniquingKeysWith: { a, _ in a })
        }
        let a = final(one), b = final(two)
        #expect(a["val_accuracy"] != nil && a["val_accuracy"] == b["val_accuracy"], "\(a) vs \(b)")
        #expect(abs((a["val_loss"] ?? 0) - (b["val_loss"] ?? 1)) <= 2e-4, "\(a) vs \(b)")
        #expect(one.stdout.contains("best val_accuracy so far") && one.stderr.contains("step-"), "the best checkpoint is kept: \(one.stderr)")
        #expect((a["val_accuracy"] ?? 0) > 0.9, "\(a)")
    }
}
