// Entry point of the `cohort` command. The OpenBLAS kernel check runs first:
// it may re-execute the process with OPENBLAS_CORETYPE set (docs/environment.md).
import ArgumentParser
import CohortCore
import CohortDistributed
import CohortKernels
import Foundation

struct CohortCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort",
        abstract: "Cohort: data-parallel deep-learning training on OpenBLAS and MPI.",
        subcommands: [Train.self, Ckpt.self, Doctor.self, Bench.self])
}

BLASRuntime.ensureFastKernel(arguments: CommandLine.arguments)
do {
    var command = try CohortCommand.parseAsRoot()
    try command.run()
} catch let error as DataParallelError where RunInfo.current.rank != 0 {
    // Every rank reached the same verdict; rank 0 prints it once.
    _ = error
    exit(1)
} catch {
    CohortCommand.exit(withError: error)
}
