// examples/trainer (a user-defined model through the Trainer) runs in one
// process and under `mpirun -np 2`, and both end with the same validation result.
import Foundation
import Testing

@Suite(.serialized) struct TrainerExampleTests {
    /// The release `TrainerExample` beside COHORT_BIN (else .build/release).
    static var binary: String {
        URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("TrainerExample").path
    }

    /// Runs the example in a fresh working directory (it writes runs/trainer-example there).
    func run(ranks: Int) throws -> CLIResult {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no TrainerExample at \(Self.binary): run `swift build -c release` (make test does)"])
        }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ranks == 1 ? [Self.binary] : ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "\(ranks)", Self.binary]
        p.currentDirectoryURL = dir
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let best = (try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/runs/trainer-example/best")) ?? []
        return CLIResult(status: p.terminationStatus, stdout: String(decoding: data, as: UTF8.self), stderr: best.joined(separator: " "))
    }

    @Test func oneAndTwoRanksReachTheSameValidation() throws {
        let one = try run(ranks: 1), two = try run(ranks: 2)
        #expect(one.status == 0 && two.status == 0, "\(one.stdout)\n\(two.stdout)")
        func final(_ r: CLIResult) -> String? { r.stdout.split(separator: "\n").last { $0.hasPrefix("val_accuracy") }.map(String.init) }
        let a = final(one), b = final(two)
        #expect(a != nil && a?.components(separatedBy: " after ").first == b?.components(separatedBy: " after ").first, "\(a ?? "-") vs \(b ?? "-")")
        #expect(one.stdout.contains("best val_accuracy so far") && one.stderr.contains("step-"), "the best checkpoint is kept: \(one.stderr)")
        let accuracy = Double(a?.split(separator: " ")[1].trimmingCharacters(in: .punctuationCharacters) ?? "") ?? 0
        #expect(accuracy > 0.9, "\(a ?? "-")")
    }
}
