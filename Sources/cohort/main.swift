// Entry point of the `cohort` command.
import ArgumentParser

struct CohortCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort",
        abstract: "Cohort: data-parallel deep-learning training on OpenBLAS and MPI.",
        subcommands: [Bench.self])
}

CohortCommand.main()
