// `cohort bench allreduce`: latency and bus bandwidth of Cohort's MPI wrapper
// (float sum, in place) for 4 B … 64 MiB, next to a small C program calling
// MPI_Allreduce directly (AllreduceProbe), both launched with the same mpirun
// line and alternated, in one run.
import CohortCollectives
import CohortCore
import CohortMPI
import Foundation

struct AllreduceBench {
    let ranks: Int, rounds: Int, json: Bool, worker: Bool

    /// The worker side: runs under mpirun, prints "bytes median_seconds" on rank 0.
    func runWorker() throws {
        let comm = try MPIRuntime.initialize()
        defer { MPIRuntime.finalize() }
        let maxBytes = 64 << 20
        var buf = [Float](repeating: 1, count: maxBytes / 4)
        var bytes = 4
        while bytes <= maxBytes {
            let count = bytes / 4, iters = bytes <= 1 << 20 ? 200 : 20
            var times: [Double] = []
            try buf.withUnsafeMutableBufferPointer { all in
                let slice = UnsafeMutableBufferPointer(rebasing: all[0..<count])
                for _ in 0..<5 { try comm.allreduce(slice, op: .sum) }
                for _ in 0..<iters {
                    try comm.barrier()
                    let t0 = monotonicSeconds()
                    try comm.allreduce(slice, op: .sum)
                    times.append(monotonicSeconds() - t0)
                }
            }
            times.sort()
            if comm.rank == 0 { print("\(bytes) \(times[times.count / 2])") }
            bytes *= 4
        }
    }

    /// The orchestrator: alternates wrapper and raw runs, prints medians and ratios.
    func run() throws {
        if worker { return try runWorker() }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let probe = exe.deletingLastPathComponent().appendingPathComponent("AllreduceProbe").path
        guard FileManager.default.isExecutableFile(atPath: probe) else {
            throw CohortError.badFile(path: probe, "AllreduceProbe not found next to cohort (build with swift build -c release)")
        }
        let mpirun = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "\(ranks)"]
        var wrapper: [Int: [Double]] = [:], raw: [Int: [Double]] = [:]
        for _ in 0..<rounds {
            for (target, args) in [(0, [exe.path, "bench", "allreduce", "--worker"]), (1, [probe])] {
                let text = try runCapturing(mpirun + args)
                for line in text.split(separator: "\n") {
                    let f = line.split(separator: " ")
                    guard f.count == 2, let b = Int(f[0]), let t = Double(f[1]) else { continue }
                    if target == 0 { wrapper[b, default: []].append(t) } else { raw[b, default: []].append(t) }
                }
            }
        }
        let n = Double(ranks)
        func med(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[s.count / 2] }
        if !json { print("bytes        wrapper µs   raw µs   wrapper GB/s   raw GB/s   ratio (bus bw)") }
        for b in wrapper.keys.sorted() {
            guard let w = wrapper[b], let r = raw[b] else { continue }
            let tw = med(w), tr = med(r)
            let bw = 2 * (n - 1) / n * Double(b) / tw / 1e9, br = 2 * (n - 1) / n * Double(b) / tr / 1e9
            if json {
                let obj: [String: Any] = ["workload": "allreduce", "ranks": ranks, "bytes": b, "wrapper_us": tw * 1e6, "raw_us": tr * 1e6,
                                          "wrapper_bus_gb_per_s": bw, "raw_bus_gb_per_s": br, "ratio": bw / br]
                let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
                print("RESULT " + String(decoding: data, as: UTF8.self))
            } else {
                print(String(format: "%-12d %10.2f %8.2f %14.3f %10.3f %8.3f", b, tw * 1e6, tr * 1e6, bw, br, bw / br))
            }
        }
    }

    func runCapturing(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw CohortError.invalidArgument("bench allreduce: `\(args.joined(separator: " "))` exited with \(p.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
