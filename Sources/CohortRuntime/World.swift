// The MPI world of a training process: started when a launcher (mpirun, srun, any
// PMIx/PMI launcher, `cohort launch`) started more than one rank, else a single
// process; ended once; split into groups (the folds of `cohort cv --parallel`).
import CohortCollectives
import CohortCore
import CohortMPI

/// Start, split and end of the process's communicator world.
public enum World {
    /// MPI's world when the launcher started more than one rank (initialising MPI once and
    /// publishing `RunInfo.current`), else a single-process communicator.
    /// - Throws: `CohortError.invalidArgument` when the launcher and MPI disagree on the world
    ///   size; `CommunicationError.backend` when MPI cannot start.
    public static func start(launcher: LauncherDetection = .current) throws -> any Communicator {
        launcher.needsMPI ? try MPIRuntime.initialize(launcher: launcher) : SingleProcessCommunicator()
    }

    /// Ends MPI if it was started and not yet ended (every rank, once the work is done).
    public static func end() { MPIRuntime.finalize() }

    /// Splits `world` into `groups` equal groups of consecutive ranks; returns this rank's
    /// group and its 1-based number. Collective.
    /// - Throws: `CohortError.invalidParameter` naming `parameter` (see `checkSplit`).
    public static func split(_ world: any Communicator, groups: Int, parameter: String = "groups") throws
        -> (comm: any Communicator, group: Int) {
        try checkSplit(worldSize: world.size, groups: groups, parameter: parameter)
        let color = world.rank / (world.size / groups)
        return (try world.split(color: color, key: world.rank), color + 1)
    }

    /// Checks that `groups` (at least 2) divides `worldSize`.
    /// - Throws: `CohortError.invalidParameter` naming `parameter` otherwise.
    public static func checkSplit(worldSize: Int, groups: Int, parameter: String = "groups") throws {
        guard groups >= 2 else { throw CohortError.invalidParameter(name: parameter, "\(groups) folds; give at least 2") }
        guard worldSize % groups == 0 else {
            throw CohortError.invalidParameter(name: parameter, "\(groups) folds need a world size that is a multiple of \(groups) "
                                               + "(folds × ranks per fold), but the job has \(worldSize) rank\(worldSize == 1 ? "" : "s")")
        }
    }
}

extension World {
    /// `world` with its allreduce run by `algorithm`: for `.hierarchical` and `.auto` on an MPI
    /// world of more than one rank, a `HierarchicalCommunicator` (nodes from MPI, or from
    /// `COHORT_NODE_SIZE` ranks each); otherwise `world` itself. Collective.
    /// - Throws: `CohortError.invalidArgument` for a bad `COHORT_NODE_SIZE`; MPI's errors.
    public static func arranging(_ world: any Communicator, allreduce algorithm: AllreduceAlgorithm) throws -> any Communicator {
        guard algorithm != .flat, world.size > 1, let mpi = world as? MPICommunicator else { return world }
        return try HierarchicalCommunicator(mpi, algorithm: algorithm, ranksPerNode: try HierarchicalCommunicator.nodeSizeOverride())
    }

    /// A line describing how `comm`'s allreduce runs (for the start of a training log).
    public static func allreduceDescription(_ comm: any Communicator) -> String? {
        guard let h = comm as? HierarchicalCommunicator else { return nil }
        return "allreduce \(h.algorithm.rawValue): \(h.nodes) node\(h.nodes == 1 ? "" : "s"), up to \(h.maxRanksPerNode) rank\(h.maxRanksPerNode == 1 ? "" : "s") per node"
            + (h.uniform ? "" : " (uneven: through node leaders)")
            + (h.algorithm == .auto ? ", hierarchical from \(h.thresholdBytes) bytes" : "")
    }
}
