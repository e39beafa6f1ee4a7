// Which launcher started this process and what it says about rank and world size,
// read from the environment only (CohortCore links no MPI): Open MPI's mpirun, PMIx
// (srun --mpi=pmix, PRRTE), PMI-1/2 (MPICH's Hydra, srun --mpi=pmi2) or a bare Slurm
// step. MPIRuntime initialises MPI when one is found and checks MPI's world against it.
import Foundation

/// A program that starts the ranks of one job.
public enum LauncherKind: String, Sendable, Equatable, CaseIterable {
    /// Open MPI's `mpirun`/`orted` (`OMPI_COMM_WORLD_*`).
    case openMPI = "Open MPI's mpirun"
    /// A PMIx server (`PMIX_RANK`, `PMIX_NAMESPACE`): `srun --mpi=pmix`, PRRTE's `prterun`.
    case pmix = "PMIx"
    /// PMI-1/PMI-2 (`PMI_RANK`, `PMI_SIZE`): MPICH's Hydra `mpiexec`, `srun --mpi=pmi2`.
    case pmi = "PMI (MPICH's Hydra or srun --mpi=pmi2)"
    /// A Slurm job step without any MPI wire-up (`SLURM_PROCID`, `SLURM_NTASKS`).
    case slurm = "Slurm"
}

/// What the environment says about the launcher: which one, and the rank, world size and
/// node-local placement it claims (each nil when it does not say). Values that are not
/// non-negative integers count as absent.
public struct LauncherDetection: Sendable, Equatable {
    /// The launcher, or nil when the process was started on its own.
    public var kind: LauncherKind?
    public var rank: Int?
    public var size: Int?
    public var localRank: Int?
    public var localSize: Int?
    /// The launcher variables present, `NAME=value`, in a fixed order (for messages).
    public var variables: [String]
    /// True when Slurm's node-list variables are set (a job allocation or step).
    public var inSlurmJob: Bool

    /// Every variable `detect` reads, in the order messages list them.
    public static let variableNames = [
        "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE",
        "PMIX_RANK", "PMIX_NAMESPACE", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS",
        "SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NODEID",
        "SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE",
    ]

    /// The detection for this process's environment (read once).
    public static let current = detect(ProcessInfo.processInfo.environment)

    /// Reads the launcher variables of `env`. Precedence: `OMPI_COMM_WORLD_*`, then PMIx, then PMI,
    /// then Slurm; a Slurm step's task count and placement fill what PMIx leaves unsaid.
    public static func detect(_ env: [String: String]) -> LauncherDetection {
        func int(_ key: String) -> Int? { env[key].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.flatMap { $0 >= 0 ? $0 : nil } }
        func has(_ key: String) -> Bool { env[key] != nil }
        let slurmSize = int("SLURM_STEP_NUM_TASKS") ?? int("SLURM_NTASKS")
        let slurmStep = has("SLURM_PROCID") && (has("SLURM_STEP_NUM_TASKS") || has("SLURM_NTASKS"))
        var d = LauncherDetection(kind: nil, variables: variableNames.compactMap { name in env[name].map { "\(name)=\($0)" } },
                                  inSlurmJob: has("SLURM_JOB_NODELIST") || has("SLURM_NODELIST") || has("SLURM_STEP_NODELIST"))
        if has("OMPI_COMM_WORLD_RANK") || has("OMPI_COMM_WORLD_SIZE") {
            d.kind = .openMPI
            (d.rank, d.size) = (int("OMPI_COMM_WORLD_RANK"), int("OMPI_COMM_WORLD_SIZE"))
        } else if has("PMIX_RANK") || has("PMIX_NAMESPACE") {
            d.kind = .pmix
            (d.rank, d.size) = (int("PMIX_RANK"), slurmStep ? slurmSize : nil)
        } else if has("PMI_RANK") || has("PMI_SIZE") {
            d.kind = .pmi
            (d.rank, d.size) = (int("PMI_RANK"), int("PMI_SIZE"))
        } else if slurmStep {
            d.kind = .slurm
            (d.rank, d.size) = (int("SLURM_PROCID"), slurmSize)
        }
        guard d.kind != nil else { return d }
        // Placement on the node: the launcher's own variables first, then Hydra's, then Slurm's.
        d.localRank = int("OMPI_COMM_WORLD_LOCAL_RANK") ?? int("MPI_LOCALRANKID") ?? int("SLURM_LOCALID")
        d.localSize = int("OMPI_COMM_WORLD_LOCAL_SIZE") ?? int("MPI_LOCALNRANKS")
            ?? (env["SLURM_STEP_TASKS_PER_NODE"] ?? env["SLURM_TASKS_PER_NODE"]).flatMap { slurmTasks(perNode: $0, node: int("SLURM_NODEID") ?? 0) }
        return d
    }

    /// The tasks on node `node` from Slurm's compressed list, e.g. `2(x3),1` → 2 for nodes 0–2, 1 for node 3.
    public static func slurmTasks(perNode spec: String, node: Int) -> Int? {
        var index = 0
        for part in spec.split(separator: ",") {
            let fields = part.split(separator: "(", maxSplits: 1)
            guard let tasks = Int(fields[0]) else { return nil }
            var repeats = 1
            if fields.count == 2 {
                guard fields[1].hasPrefix("x"), fields[1].hasSuffix(")"), let n = Int(fields[1].dropFirst().dropLast()) else { return nil }
                repeats = n
            }
            if node < index + repeats { return tasks }
            index += repeats
        }
        return nil
    }

    /// True when MPI must be initialised: a launcher that claims more than one rank, or one
    /// that does not say how many (PMIx).
    public var needsMPI: Bool { kind != nil && (size ?? 2) > 1 }

    /// What this process may assume before MPI starts (rank 0 of 1 without a launcher).
    public var hints: RunInfo {
        RunInfo(rank: rank ?? 0, worldSize: size ?? 1, localRank: localRank ?? 0, localSize: localSize ?? 1)
    }

    /// `Slurm (SLURM_NTASKS=2, SLURM_PROCID=0)`.
    public var summary: String {
        (kind?.rawValue ?? "no launcher") + (variables.isEmpty ? "" : " (" + variables.joined(separator: ", ") + ")")
    }

    /// The error when MPI's world (`mpiSize` ranks, this one `mpiRank`) contradicts the
    /// launcher: it claims more ranks, or a rank MPI does not have. nil when they agree or
    /// MPI knows more (a launcher that claims nothing).
    public func mismatch(mpiRank: Int, mpiSize: Int) -> String? {
        if let size, size > 1, mpiSize == 1 {
            return failure("\(kind?.rawValue ?? "the launcher") says this job has \(size) ranks but MPI says 1")
        }
        if let rank, rank >= mpiSize {
            return failure("\(kind?.rawValue ?? "the launcher") says this is rank \(rank) but MPI's world has \(mpiSize) rank\(mpiSize == 1 ? "" : "s") (this is rank \(mpiRank))")
        }
        return nil
    }

    /// The error for a launch MPI cannot join at all (`reason` says why), before MPI starts.
    public func unsupported(_ reason: String) -> String {
        failure("\(kind?.rawValue ?? "the launcher") says this job has \(size.map(String.init) ?? "several") ranks but \(reason)")
    }

    private func failure(_ what: String) -> String {
        "\(what); variables seen: \(variables.isEmpty ? "none" : variables.joined(separator: ", ")). "
            + "Refusing to train alone (every rank would write the same checkpoints). " + advice
    }

    private var advice: String {
        switch kind {
        case .pmi?:
            return "Cohort is built on Open MPI, which cannot join ranks started by MPICH's Hydra (mpiexec) or srun --mpi=pmi2: "
                + "start it with Open MPI's mpirun, `cohort launch`, or `srun --mpi=pmix`."
        case .slurm?:
            return "The tasks were started without PMIx (srun without --mpi=pmix, or `cohort train` run directly in a multi-task "
                + "batch script): use `srun --mpi=pmix` or `cohort launch` inside the allocation (cluster/README.md); to train "
                + "in one process inside an allocation, run `srun -n 1 --mpi=pmix cohort train …`."
        default:
            return "Check that the mpirun or srun that started it belongs to the Open MPI Cohort was built with (`cohort doctor`)."
        }
    }
}
