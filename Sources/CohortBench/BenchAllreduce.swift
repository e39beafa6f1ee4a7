// `cohort bench allreduce`: latency and bus bandwidth of Cohort's MPI wrapper
// (float sum, in place) for 4 B … 64 MiB, against MPI_Allreduce called directly
// on the same buffer. The two alternate call by call inside each rank (same
// memory, same moment), so the machine's drift cancels out of the ratio.
// With `--allreduce hierarchical|auto` the measured side is the hierarchical
// allreduce (HierarchicalCommunicator; nodes from MPI or COHORT_NODE_SIZE).
import CohortCollectives
import CohortCore
import CohortMPI
import CohortProcess
import Foundation

struct AllreduceBench {
    let ranks: Int, rounds: Int, json: Bool, worker: Bool
    /// The algorithm measured against flat MPI_Allreduce; nil: the plain wrapper.
    var algorithm: AllreduceAlgorithm?

    /// The worker side: runs under mpirun; rank 0 prints "bytes wrapper_seconds raw_seconds"
    /// (medians) per size.
    func runWorker() throws {
        let comm = try MPIRuntime.initialize()
        defer { MPIRuntime.finalize() }
        let measured: any Communicator = try algorithm.map {
            try HierarchicalCommunicator(comm, algorithm: $0, ranksPerNode: try HierarchicalCommunicator.nodeSizeOverride())
        } ?? comm
        let maxBytes = 64 << 20
        var buf = [Float](repeating: 1, count: maxBytes / 4)
        // Hierarchical vs flat: 64 KiB … 64 MiB, fewer calls (it runs oversubscribed on namespace hosts).
        var bytes = algorithm == nil ? 4 : 64 << 10
        while bytes <= maxBytes {
            let count = bytes / 4, iters = algorithm == nil ? (bytes <= 1 << 20 ? 200 : 40) : (bytes <= 1 << 20 ? 30 : 10)
            var wrapper: [Double] = [], raw: [Double] = []
            try buf.withUnsafeMutableBufferPointer { all in
                let slice = UnsafeMutableBufferPointer(rebasing: all[0..<count])
                for _ in 0..<5 { try measured.allreduce(slice, op: .sum); _ = comm.rawAllreduceSumForBenchmark(slice) }
                for i in 0..<iters {
                    // Alternate which goes first, so neither always follows the barrier.
                    for viaWrapper in i % 2 == 0 ? [true, false] : [false, true] {
                        try comm.barrier()
                        let t0 = monotonicSeconds()
                        if viaWrapper {
                            try measured.allreduce(slice, op: .sum)
                        } else {
                            let rc = comm.rawAllreduceSumForBenchmark(slice)
                            guard rc == 0 else { throw CohortError.invalidArgument("MPI_Allreduce returned \(rc)") }
                        }
                        (viaWrapper ? { wrapper.append($0) } : { raw.append($0) })(monotonicSeconds() - t0)
                    }
                }
            }
            if comm.rank == 0 { print("\(bytes) \(benchMedian(wrapper)) \(benchMedian(raw))") }
            bytes *= 4
        }
    }

    /// The orchestrator: `rounds` mpirun launches; prints medians and ratios.
    func run() throws {
        if worker { return try runWorker() }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let mpirun = MPIRun(ranks: ranks, allowRunAsRoot: true, oversubscribe: true)
        var wrapper: [Int: [Double]] = [:], raw: [Int: [Double]] = [:]
        for _ in 0..<rounds {
            let text = try runCapturing(mpirun.argv([exe.path, "bench", "allreduce", "--worker"] + (algorithm.map { ["--allreduce", $0.rawValue] } ?? [])),
                                        what: "bench allreduce")
            for line in text.split(separator: "\n") {
                let f = line.split(separator: " ")
                guard f.count == 3, let b = Int(f[0]), let tw = Double(f[1]), let tr = Double(f[2]) else { continue }
                wrapper[b, default: []].append(tw)
                raw[b, default: []].append(tr)
            }
        }
        let n = Double(ranks)
        let measuredName = algorithm.map { $0.rawValue } ?? "wrapper"
        if !json { print("bytes        \(measuredName) µs   raw µs   \(measuredName) GB/s   raw GB/s   ratio (bus bw)") }
        for b in wrapper.keys.sorted() {
            guard let w = wrapper[b], let r = raw[b] else { continue }
            let tw = benchMedian(w), tr = benchMedian(r)
            let bw = 2 * (n - 1) / n * Double(b) / tw / 1e9, br = 2 * (n - 1) / n * Double(b) / tr / 1e9
            if json {
                let obj: [String: Any] = ["workload": "allreduce", "ranks": ranks, "measured": measuredName, "bytes": b, "wrapper_us": tw * 1e6, "raw_us": tr * 1e6,
                                          "wrapper_bus_gb_per_s": bw, "raw_bus_gb_per_s": br, "ratio": bw / br]
                let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
                print("RESULT " + String(decoding: data, as: UTF8.self))
            } else {
                print(String(format: "%-12d %10.2f %8.2f %14.3f %10.3f %8.3f", b, tw * 1e6, tr * 1e6, bw, br, bw / br))
            }
        }
    }
}
