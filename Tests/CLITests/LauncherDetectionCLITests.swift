// Launchers other than Open MPI's own variables, with the real binary: ranks
// that see only PMIx variables (mpirun with OMPI_COMM_WORLD_* removed) form one
// world; a launcher claiming N > 1 ranks that MPI cannot join (Slurm without PMIx,
// Hydra's PMI, a PMIx rank with no server) is a prompt error with exit 2, never N
// processes training alone.
import Foundation
import Testing

@Suite(.serialized) struct LauncherDetectionCLITests {
    let base = ["train", "--steps", "6", "--global-batch", "64", "--hidden", "32", "--deterministic", "--log-every", "1000"]
    static let ompiVariables = ["OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
                                "OMPI_COMM_WORLD_LOCAL_SIZE", "OMPI_COMM_WORLD_NODE_RANK"]

    @Test func ranksWithOnlyPMIxVariablesFormOneWorld() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("plain.json").path, pmix = dir.appendingPathComponent("pmix.json").path
        let r1 = try CLI.mpirun(2, base + ["--summary-json", plain], timeout: 120)
        #expect(r1.status == 0, "\(r1.output)")
        let unset = Self.ompiVariables.flatMap { ["-u", $0] }
        let r2 = try CLI.runExecutable("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "2",
                                                        "env"] + unset + [CLI.binary] + base + ["--summary-json", pmix, "--log-every", "3"], timeout: 120)
        #expect(r2.status == 0, "\(r2.output)")
        let summary = try CLI.readJSON(pmix)
        #expect(summary["world_size"] as? Int == 2, "\(summary)")
        #expect(summary["weights_sha256"] as? String == (try CLI.readJSON(plain)["weights_sha256"] as? String))
        // Rank 0 prints progress with the world's prefix (MPI's rank and size, published after MPI_Init).
        #expect(r2.stderr.contains("[rank 0/2]"), "\(r2.stderr)")
    }

    /// Runs `cohort train` alone with `environment` and expects a prompt exit 2 saying `expected`.
    func expectRefused(_ environment: [String: String], saying expected: [String]) throws {
        let start = Date()
        let r = try CLI.run(base, timeout: 60, environment: environment)
        let seconds = Date().timeIntervalSince(start)
        #expect(r.status == 2, "\(environment): \(r.output)")
        #expect(seconds < 20, "\(environment): took \(seconds) s")
        for text in expected { #expect(r.stderr.contains(text), "\(environment): no '\(text)' in \(r.stderr)") }
        #expect(!r.stderr.contains("done: train loss"), "\(environment): it trained alone: \(r.stderr)")
    }

    @Test func slurmWithoutPMIxIsAnError() throws {
        // Slurm's task variables and no MPI wire-up: MPI forms a world of 1.
        try expectRefused(["SLURM_NTASKS": "2", "SLURM_PROCID": "0"],
                          saying: ["Slurm says this job has 2 ranks but MPI says 1", "SLURM_PROCID=0", "SLURM_NTASKS=2", "srun --mpi=pmix"])
        // Inside a real allocation (node list set) Open MPI's MPI_Init would abort: refused before it.
        try expectRefused(["SLURM_NTASKS": "2", "SLURM_PROCID": "1", "SLURM_JOB_NODELIST": "node[1-2]", "SLURM_NODELIST": "node[1-2]"],
                          saying: ["Slurm says this job has 2 ranks but this Open MPI can join a Slurm job step only through PMIx", "SLURM_PROCID=1"])
    }

    @Test func hydraRanksAreRefusedOnEveryRank() throws {
        // Two processes as MPICH's Hydra would start them: each hears "1" from MPI and says so.
        let results = try [0, 1].map { rank in
            try CLI.run(base, timeout: 60, environment: ["PMI_RANK": "\(rank)", "PMI_SIZE": "2", "MPI_LOCALRANKID": "\(rank)", "MPI_LOCALNRANKS": "2"])
        }
        for (rank, r) in results.enumerated() {
            #expect(r.status == 2, "rank \(rank): \(r.output)")
            #expect(r.stderr.contains("says this job has 2 ranks but MPI says 1") && r.stderr.contains("PMI_RANK=\(rank), PMI_SIZE=2"), "\(r.stderr)")
        }
    }

    @Test func aPMIxRankWithoutItsServerNeitherHangsNorTrainsAlone() throws {
        try expectRefused(["PMIX_RANK": "1", "PMIX_NAMESPACE": "cohort-test-no-server"],
                          saying: ["PMIx says this is rank 1 but MPI's world has 1 rank", "PMIX_RANK=1"])
    }
}
