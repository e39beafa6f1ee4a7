// `cohort bench w5`: weak scaling of W1 over MPI — 2 ranks × 1 thread, batch 256
// per rank, with the data-parallel gradient averaging on, and the same 2 ranks
// with it off (the no-communication ceiling: two processes on 2 vCPUs may reach
// less than 2× one), alternating in the same processes, next to 1 rank × 1
// thread, in the same run.
import CohortCollectives
import CohortCore
import CohortDistributed
import CohortKernels
import CohortMPI
import CohortOptim
import CohortProcess
import Foundation

struct W5Bench {
    let steps: Int, repeats: Int, json: Bool, worker: Bool, bucketMB: Double

    /// Under mpirun: W1 steps with gradient averaging and without it (the ceiling),
    /// alternating repeat by repeat in the same processes so drift cancels; rank 0
    /// prints "comm|nocomm total_samples_per_s comm_wait_share" per repeat.
    func runWorker() throws {
        try BLASRuntime.configureThreads(requested: 1)
        let comm = try MPIRuntime.initialize()
        defer { MPIRuntime.finalize() }
        var w = W1Setup(seed: 0)
        let ddp = try DataParallel(model: w.model, arena: w.arena, communicator: comm, bucketMegabytes: bucketMB)
        for _ in 0..<5 { try w.step(beforeUpdate: { try ddp.synchronize() }) }
        for r in 0..<repeats {
            for communicate in r % 2 == 0 ? [true, false] : [false, true] {
                ddp.noSync = !communicate
                try comm.barrier()
                let t0 = monotonicSeconds()
                var wait = 0.0
                for _ in 0..<steps {
                    try w.step(beforeUpdate: { try ddp.synchronize(); wait += ddp.lastWaitSeconds })
                }
                try comm.barrier()
                let elapsed = monotonicSeconds() - t0
                let sps = Double(steps * W1Setup.batch * comm.size) / elapsed
                if comm.rank == 0 { print("\(communicate ? "comm" : "nocomm") \(sps) \(wait / elapsed)") }
            }
        }
    }

    func run() throws {
        if worker { return try runWorker() }
        // 1 rank × 1 thread, in this process.
        try BLASRuntime.configureThreads(requested: 1)
        var single: [Double] = []
        var w = W1Setup(seed: 0)
        for _ in 0..<5 { try w.step() }
        func measureSingle() throws {
            let t0 = monotonicSeconds()
            for _ in 0..<steps { try w.step() }
            single.append(Double(steps * W1Setup.batch) / (monotonicSeconds() - t0))
        }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let mpirun = MPIRun(ranks: 2, allowRunAsRoot: true, exports: ["OPENBLAS_NUM_THREADS=1"])
        var real: [Double] = [], ceiling: [Double] = [], waitShare: [Double] = [], paired: [Double] = []
        for _ in 0..<2 {
            try measureSingle()
            let out = try runCapturing(
                mpirun.argv([exe, "bench", "w5", "--worker", "--steps", "\(steps)", "--repeats", "\(repeats)", "--bucket-mb", "\(bucketMB)"]),
                what: "bench w5")
            var lastComm: Double?, lastNoComm: Double?
            for line in out.split(separator: "\n") {
                let f = line.split(separator: " ")
                guard f.count == 3, let sps = Double(f[1]), let share = Double(f[2]) else { continue }
                if f[0] == "comm" { real.append(sps); waitShare.append(share); lastComm = sps } else { ceiling.append(sps); lastNoComm = sps }
                if let c = lastComm, let n = lastNoComm { paired.append(c / n); lastComm = nil; lastNoComm = nil }
            }
            try measureSingle()
        }
        let base = benchMedian(single)
        var r = BenchResult(workload: "W5 weak scaling W1 2x1 thread", threads: 1, metric: "efficiency", unit: "ratio",
                            values: real.map { $0 / (2 * base) })
        let ceilEff = benchMedian(ceiling) / (2 * base)
        r.extra = [("single_samples_per_s", base.rounded(to: 0)), ("two_rank_samples_per_s", benchMedian(real).rounded(to: 0)),
                   ("no_comm_samples_per_s", benchMedian(ceiling).rounded(to: 0)), ("ceiling_efficiency", ceilEff.rounded(to: 3)),
                   ("share_of_ceiling", benchMedian(paired).rounded(to: 3)),
                   ("share_of_ceiling_min", (paired.min() ?? .nan).rounded(to: 3)),
                   ("exposed_comm_wait_share", benchMedian(waitShare).rounded(to: 4))]
        r.emit(json: json)
    }
}
