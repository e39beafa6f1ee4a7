// The process-level wiring of a training program: the communicator world, and
// under `cohort launch` the rank's supervision (heartbeats, hang detection,
// preemption saves, injected faults, exit codes). A user's own `TrainingModule`
// program gets all of it from `CohortRuntime.main`; `cohort train` uses the same parts.
import CohortCollectives
import CohortControl
import CohortCore
import CohortTrainer
import Foundation

/// One process's training runtime.
///
///     CohortRuntime.main { runtime in
///         guard let result = try runtime.fit(MyModel(), options: options) else { return }   // nil: preempted
///         if runtime.rank == 0 { print(result.weightsSHA256) }
///     }
public final class CohortRuntime {
    /// The training group: MPI's world under a launcher, else a single process.
    public let communicator: any Communicator
    /// The rank's supervision (a no-op without `cohort launch`, except stop signals and the deadline).
    public let supervisor: RankSupervisor
    /// The launcher's arguments found on the command line, and the program's own (`remaining`).
    public let launch: LaunchArguments
    /// The program's own arguments: the command line without the launcher's.
    public var arguments: [String] { launch.remaining }
    public var rank: Int { communicator.rank }
    public var worldSize: Int { communicator.size }
    private var lastStep = 0
    private var ended = false

    /// Starts the world and the supervision. `collectiveTimeout` applies when the command line has no `--collective-timeout`.
    /// - Throws: `UserError` for bad launcher arguments or environment; MPI start errors.
    public init(arguments: [String] = Array(CommandLine.arguments.dropFirst()), collectiveTimeout: Double = 600,
                supervisor: RankSupervisor? = nil) throws {
        let supervisor = supervisor ?? RankSupervisor(rank: RunInfo.current.rank)
        let launch: LaunchArguments
        do { launch = try LaunchArguments(arguments) } catch { throw UserError(error) }
        communicator = try World.start()
        try supervisor.start(comm: communicator, collectiveTimeout: launch.collectiveTimeout ?? collectiveTimeout, faultSpec: launch.faultSpec)
        (self.supervisor, self.launch) = (supervisor, launch)
    }

    /// A Trainer in this runtime's group and supervision, with the launcher's checkpoint
    /// directory, resume and collective timeout applied to `options`.
    public func trainer(_ options: TrainerOptions, callbacks: [any Callback] = [ConsoleProgress()]) throws -> Trainer {
        try Trainer(launch.applied(to: options), callbacks: callbacks, communicator: communicator, supervision: supervisor)
    }

    /// Fits `module` with a `trainer(options, callbacks:)`. Returns nil when the run was
    /// preempted (a stop signal, the coordinator's request): the checkpoint is saved, the
    /// coordinator told, MPI ended; the program should then return.
    public func fit<M: TrainingModule>(_ module: M, options: TrainerOptions, callbacks: [any Callback] = [ConsoleProgress()]) throws -> FitResult? {
        let trainer = try trainer(options, callbacks: callbacks)
        let result = try trainer.fit(module)
        return try finish(result, checkpointDirectory: trainer.options.checkpointDirectory)
    }

    /// After a `Trainer.fit` of this runtime: on preemption, waits for the checkpoint, reports
    /// and ends MPI, returning nil; else returns `result`.
    public func finish(_ result: FitResult, checkpointDirectory: String?) throws -> FitResult? {
        lastStep = result.steps
        guard let preemption = result.preemption else { return result }
        try supervisor.preempted(atStep: result.steps, reason: preemption, checkpointDirectory: checkpointDirectory, comm: communicator)
        ended = true
        return nil
    }

    /// Reports the finished run to the coordinator and ends MPI (once; after a preemption, nothing).
    public func end() {
        guard !ended else { return }
        ended = true
        supervisor.finished(step: lastStep, comm: communicator)
        World.end()
    }

    /// Runs `body` in a runtime and exits: 0 when it returns (after `end()`), else the
    /// error's `RankExitCode` with its report (`RankSupervisor.exit(for:)`).
    public static func main(arguments: [String] = Array(CommandLine.arguments.dropFirst()), collectiveTimeout: Double = 600,
                            _ body: (CohortRuntime) throws -> Void) -> Never {
        let supervisor = RankSupervisor(rank: RunInfo.current.rank)
        do {
            let runtime = try CohortRuntime(arguments: arguments, collectiveTimeout: collectiveTimeout, supervisor: supervisor)
            try body(runtime)
            runtime.end()
        } catch { supervisor.exit(for: error) }
        fflush(nil)
        exit(RankExitCode.ok.rawValue)
    }
}
