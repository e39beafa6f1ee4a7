// Entry point of the `cohort` command. The OpenBLAS kernel check runs first:
// it may re-execute the process with OPENBLAS_CORETYPE set (docs/environment.md).
import ArgumentParser
import CohortKernels
import Foundation

struct CohortCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort",
        abstract: "Cohort: data-parallel deep-learning training on OpenBLAS and MPI.",
        subcommands: [Train.self, Ckpt.self, Doctor.self, Bench.self])
}

BLASRuntime.ensureFastKernel(arguments: CommandLine.arguments)
CohortCommand.main()
