// The MPI wrapper under real mpirun: every operation checked on 1 (singleton),
// 2 and 4 (oversubscribed) ranks by the MPISelfTest executable.
import Foundation
import Testing

@Suite(.serialized) struct MPIWrapperTests {
    var selfTest: String { URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("MPISelfTest").path }

    func run(_ executable: String, _ args: [String]) throws -> CLIResult {
        try CLI.runExecutable(executable, args, timeout: 120)
    }

    @Test func singletonWithoutMpirun() throws {
        let r = try run(selfTest, [])
        #expect(r.status == 0 && r.stdout.contains("MPI SELFTEST OK rank 0/1"), "\(r.output)")
    }

    @Test(arguments: [2, 4]) func underMpirun(ranks: Int) throws {
        let r = try run("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                                         "-np", "\(ranks)", selfTest])
        #expect(r.status == 0, "\(r.output)")
        for k in 0..<ranks { #expect(r.stdout.contains("MPI SELFTEST OK rank \(k)/\(ranks)"), "\(r.output)") }
    }
}
