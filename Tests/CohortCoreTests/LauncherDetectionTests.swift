// Launcher detection over environment dictionaries: each launcher's variables
// (as Open MPI's mpirun, srun --mpi=pmix, Hydra and a bare srun set them), the
// precedence between them, Slurm's compressed tasks-per-node lists, and the
// mismatch messages that end a run MPI cannot join.
import Testing
import CohortCore

@Suite struct LauncherDetectionTests {
    @Test func noLauncherIsOneProcess() {
        let d = LauncherDetection.detect(["HOME": "/root", "PATH": "/usr/bin"])
        #expect(d.kind == nil && !d.needsMPI && d.variables.isEmpty)
        #expect(d.hints == RunInfo(rank: 0, worldSize: 1, localRank: 0, localSize: 1))
        #expect(d.mismatch(mpiRank: 0, mpiSize: 1) == nil)
    }

    @Test func openMPIsVariablesWinOverPMIxOnes() {
        // What mpirun -np 4 gives rank 3 (it sets PMIX_* too).
        let d = LauncherDetection.detect(["OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_LOCAL_RANK": "1",
                                          "OMPI_COMM_WORLD_LOCAL_SIZE": "2", "PMIX_RANK": "3", "PMIX_NAMESPACE": "1290928129"])
        #expect(d.kind == .openMPI && d.needsMPI)
        #expect(d.hints == RunInfo(rank: 3, worldSize: 4, localRank: 1, localSize: 2))
        #expect(d.variables.first == "OMPI_COMM_WORLD_RANK=3" && d.variables.contains("PMIX_NAMESPACE=1290928129"))
        // mpirun -np 1: no MPI needed (as before).
        #expect(!LauncherDetection.detect(["OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "1"]).needsMPI)
    }

    @Test func pmixWithoutASizeNeedsMPI() {
        // mpirun's ranks with OMPI_COMM_WORLD_* removed: PMIx says the rank, nobody the size.
        let d = LauncherDetection.detect(["PMIX_RANK": "1", "PMIX_NAMESPACE": "42"])
        #expect(d.kind == .pmix && d.rank == 1 && d.size == nil && d.needsMPI)
        #expect(d.hints.worldSize == 1 && d.hints.rank == 1)
        #expect(d.mismatch(mpiRank: 1, mpiSize: 2) == nil)
        // MPI formed a world of one although PMIx numbered this process 1: another launcher's ranks.
        let message = d.mismatch(mpiRank: 0, mpiSize: 1)
        #expect(message?.contains("says this is rank 1 but MPI's world has 1 rank") == true, "\(message ?? "nil")")
        #expect(message?.contains("PMIX_RANK=1") == true)
    }

    @Test func srunWithPMIxTakesSizeAndPlacementFromTheStep() {
        // srun -N 2 -n 6 --mpi=pmix, task 4 (node 1 holds tasks 3–5).
        let env = ["PMIX_RANK": "4", "PMIX_NAMESPACE": "slurm.pmix.77.0", "SLURM_PROCID": "4", "SLURM_NTASKS": "8",
                   "SLURM_STEP_NUM_TASKS": "6", "SLURM_LOCALID": "1", "SLURM_NODEID": "1", "SLURM_STEP_TASKS_PER_NODE": "3(x2)",
                   "SLURM_TASKS_PER_NODE": "4(x2)", "SLURM_JOB_NODELIST": "n[01-02]"]
        let d = LauncherDetection.detect(env)
        #expect(d.kind == .pmix && d.inSlurmJob)
        #expect(d.hints == RunInfo(rank: 4, worldSize: 6, localRank: 1, localSize: 3))
        // srun -n 1 --mpi=pmix inside a larger allocation: one process, no MPI.
        var one = env
        (one["SLURM_STEP_NUM_TASKS"], one["PMIX_RANK"], one["SLURM_PROCID"]) = ("1", "0", "0")
        #expect(!LauncherDetection.detect(one).needsMPI)
    }

    @Test func hydraAndBareSlurm() {
        let hydra = LauncherDetection.detect(["PMI_RANK": "1", "PMI_SIZE": "2", "PMI_FD": "5", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "2"])
        #expect(hydra.kind == .pmi && hydra.needsMPI && !hydra.inSlurmJob)
        #expect(hydra.hints == RunInfo(rank: 1, worldSize: 2, localRank: 1, localSize: 2))
        let message = hydra.mismatch(mpiRank: 0, mpiSize: 1)
        #expect(message?.contains("says this job has 2 ranks but MPI says 1") == true, "\(message ?? "nil")")
        #expect(message?.contains("PMI_RANK=1, PMI_SIZE=2") == true && message?.contains("Hydra") == true)

        let slurm = LauncherDetection.detect(["SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_LOCALID": "0", "SLURM_TASKS_PER_NODE": "2"])
        #expect(slurm.kind == .slurm && slurm.needsMPI && slurm.hints.localSize == 2)
        #expect(slurm.mismatch(mpiRank: 0, mpiSize: 1)?.contains("srun --mpi=pmix") == true)
        #expect(slurm.unsupported("no PMIx").contains("says this job has 2 ranks but no PMIx"))
        // Slurm variables without a task id (a login shell's leftovers) are no launcher.
        #expect(LauncherDetection.detect(["SLURM_NTASKS": "4", "SLURM_JOB_ID": "9"]).kind == nil)
    }

    @Test func malformedValuesCountAsAbsent() {
        let d = LauncherDetection.detect(["PMI_RANK": "x", "PMI_SIZE": "-3"])
        #expect(d.kind == .pmi && d.rank == nil && d.size == nil && d.needsMPI)
        #expect(d.mismatch(mpiRank: 0, mpiSize: 1) == nil)
    }

    @Test func slurmTasksPerNodeLists() {
        #expect(LauncherDetection.slurmTasks(perNode: "4", node: 0) == 4)
        #expect((0..<5).map { LauncherDetection.slurmTasks(perNode: "2(x3),1,5", node: $0) } == [2, 2, 2, 1, 5])
        #expect(LauncherDetection.slurmTasks(perNode: "2(x3),1", node: 4) == nil)
        #expect(LauncherDetection.slurmTasks(perNode: "2(3)", node: 0) == nil)
    }
}
