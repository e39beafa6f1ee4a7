// Entry point of the `cohort` command. The OpenBLAS kernel check runs first:
// it may re-execute the process with OPENBLAS_CORETYPE set (docs/environment.md).
import ArgumentParser
import CohortConfig
import CohortCore
import CohortDistributed
import CohortKernels
import Foundation

struct CohortCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort",
        abstract: "Cohort: data-parallel deep-learning training on OpenBLAS and MPI.",
        version: cohortVersion,
        subcommands: [Train.self, Summary.self, LaunchCommand.self, Generate.self, Eval.self, Predict.self, Export.self, CrossValidate.self, Ckpt.self, Doctor.self, Quantize.self, Bench.self, Scale.self, DataCommand.self, Plot.self, ConfigCommand.self, Tune.self, Serve.self, RL.self, TraceCommand.self])
}

/// Listed in `cohort --help`; `cohort launch …` itself never parses here (see `execLauncher`).
struct LaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Run `cohort train` under mpirun, supervised and restarted elastically (`cohort launch --help`).")
    func run() throws { execLauncher() }
}

/// `cohort launch …` is the coordinator, a separate executable that links neither
/// MPI nor the numeric code: replace this process with it.
func execLauncher() -> Never {
    let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let launcher = me.deletingLastPathComponent().appendingPathComponent("cohort-launch").path
    setenv("COHORT_BINARY", me.path, 1)
    var argv = [launcher] + CommandLine.arguments.dropFirst(2)
    // The coordinator reads --checkpoint-dir, --global-batch, … from the train arguments
    // after `--`, so a --config file among them is expanded here, once, for every rank.
    if let split = argv.firstIndex(of: "--") {
        do { argv = Array(argv[...split]) + (try ConfigExpansion(trainArguments: Array(argv[(split + 1)...]), options: TrainFlagTable.table).arguments) } catch {
            FileHandle.standardError.write(Data("Error: \(ParameterFlags.commandLineError(error))\n".utf8))
            exit(2)
        }
    }
    var cargs = argv.map { strdup($0) } + [nil]
    execv(launcher, &cargs)
    FileHandle.standardError.write(Data("Error: cannot run \(launcher): \(String(cString: strerror(errno))) (build it with `swift build -c release`)\n".utf8))
    exit(1)
}

if CommandLine.arguments.count > 1 && CommandLine.arguments[1] == "launch" { execLauncher() }
BLASRuntime.ensureFastKernel(arguments: CommandLine.arguments)
// `cohort train --config FILE` (and `summary`): the file's options go before the command line's (ConfigFile.swift).
var commandArguments = Array(CommandLine.arguments.dropFirst())
var configExpansion: ConfigExpansion?
if let command = commandArguments.first, ["train", "summary"].contains(command) {   // `cohort summary` takes the train flags
    do {
        let expansion = try ConfigExpansion(trainArguments: Array(commandArguments.dropFirst()), options: TrainFlagTable.table)
        commandArguments = [command] + expansion.arguments
        configExpansion = expansion
    } catch {
        FileHandle.standardError.write(Data("Error: \(ParameterFlags.commandLineError(error))\n".utf8))
        exit(2)
    }
}
do {
    var command = try CohortCommand.parseAsRoot(commandArguments)
    try command.run()
} catch let error as DataParallelError where RunInfo.current.rank != 0 {
    // Every rank reached the same verdict; rank 0 prints it once.
    _ = error
    exit(1)
} catch let caught {
    let error = ParameterFlags.commandLineError(caught)
    // Usage mistakes exit 2 like every other user error (ArgumentParser's own code
    // is 64), so `cohort launch` never retries them.
    let code = CohortCommand.exitCode(for: error)
    if code.rawValue == 64 {
        let message = CohortCommand.fullMessage(for: error)
        FileHandle.standardError.write(Data(((configExpansion?.annotate(message) ?? message) + "\n").utf8))
        exit(2)
    }
    CohortCommand.exit(withError: error)
}
