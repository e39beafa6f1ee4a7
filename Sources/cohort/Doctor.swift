// `cohort doctor`: what this machine and build give Cohort (CPU features, the
// OpenBLAS kernel and what BLASRuntime did about it, threads, MPI, protobuf-c),
// an sgemm correctness check against a Double reference and a GFLOP/s figure.
// The one file of the CLI that imports CProtobufC (for its version).
import ArgumentParser
import CProtobufC
import CohortKernels
import CohortProcess
import Foundation

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show CPU, OpenBLAS kernel and threads, MPI and protobuf-c versions; check sgemm (exit 1 on FAIL).")

    @Option(parsing: .unconditional, help: "BLAS threads (default: OPENBLAS_NUM_THREADS, else cores per rank on the node).") var threads: Int?
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func run() throws {
        // Normally done by main already; then this returns the recorded decision.
        let kernelReport = BLASRuntime.ensureFastKernel(arguments: CommandLine.arguments)
        let threadCount = try BLASRuntime.configureThreads(requested: threads)
        let env = ProcessInfo.processInfo.environment
        let cpu = CPUFeatures.detect()
        let check = GemmCheck.run()
        let speed = GemmThroughput.measure(n: 512, repeats: 10)

        let report = DoctorReport(
            cpu: .init(vendor: cpu.vendor, modelName: cpu.modelName, family: cpu.family, model: cpu.model,
                       isa: cpu.isa.description, features: cpu.relevantFlags),
            blas: .init(kernel: kernelReport.kernel, openblasKernel: BLAS.coreName,
                        testHook: env[BLASRuntime.testCoreNameVariable],
                        runtimeAction: Self.name(kernelReport.decision.action),
                        runtimeMessage: kernelReport.decision.message,
                        threads: threadCount,
                        threadsSource: BLASRuntime.threadPolicy?.source.rawValue ?? "unknown",
                        config: BLAS.config),
            environment: [BLASRuntime.coreTypeVariable, "OPENBLAS_NUM_THREADS", BLASRuntime.reexecMarker]
                .reduce(into: [:]) { $0[$1] = env[$1] },
            mpi: .init(version: Self.mpiVersion()),
            protobufCVersion: String(cString: protobuf_c_version()),
            sgemmCheck: check, sgemmThroughput: speed, pass: check.pass)

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
        if !report.pass { throw ExitCode.failure }
    }

    private static func name(_ action: BLASKernelDecision.Action) -> String {
        switch action {
        case .keep: return "keep"
        case .reexec: return "reexec"
        case .reportReexec: return "reexecuted"
        case .warn: return "warn"
        }
    }

    /// First line of `mpirun --version`, or nil when no `mpirun` is on PATH or it fails.
    static func mpiVersion() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        guard let mpirun = path.split(separator: ":").map({ "\($0)/mpirun" })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        guard let r = try? runChild([mpirun, "--version"], stdout: .capture, stderr: .sameAsStdout),
              r.status.processStatus == 0 else { return nil }
        let output = r.stdout
        return String(decoding: output, as: UTF8.self).split(separator: "\n").first.map(String.init)
    }
}

/// Everything `doctor` found; encoded as the `--json` output (snake_case keys).
struct DoctorReport: Encodable {
    struct CPU: Encodable {
        var vendor, modelName: String
        var family, model: Int?
        var isa: String
        var features: [String]
    }
    struct BLASInfo: Encodable {
        var kernel, openblasKernel: String
        var testHook: String?
        var runtimeAction, runtimeMessage: String
        var threads: Int
        var threadsSource, config: String
    }
    struct MPI: Encodable {
        var version: String?
        var found: Bool { version != nil }
        enum CodingKeys: String, CodingKey { case version, found }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(version, forKey: .version)
            try c.encode(found, forKey: .found)
        }
    }

    var cpu: CPU
    var blas: BLASInfo
    /// The Cohort/OpenBLAS variables as this process sees them (after any re-exec).
    var environment: [String: String]
    var mpi: MPI
    var protobufCVersion: String
    var sgemmCheck: GemmCheck
    var sgemmThroughput: GemmThroughput
    var pass: Bool

    var text: String {
        func row(_ label: String, _ value: String) -> String { label.padding(toLength: 14, withPad: " ", startingAt: 0) + value }
        var cpuLine = cpu.modelName.isEmpty ? "unknown" : cpu.modelName
        var ids: [String] = cpu.vendor.isEmpty ? [] : [cpu.vendor]
        if let f = cpu.family, let m = cpu.model { ids.append("family \(f) model \(m)") }
        if !ids.isEmpty { cpuLine += " (" + ids.joined(separator: ", ") + ")" }
        var kernelLine = blas.kernel
        if let hook = blas.testHook {
            kernelLine += " (test hook \(BLASRuntime.testCoreNameVariable)=\(hook); OpenBLAS really runs \(blas.openblasKernel))"
        }
        var lines = [
            row("CPU", cpuLine),
            row("features", (cpu.features.isEmpty ? "none of interest" : cpu.features.joined(separator: " ")) + " → \(cpu.isa)"),
            row("BLAS kernel", kernelLine),
            row("BLASRuntime", blas.runtimeMessage),
            row("BLAS threads", "\(blas.threads) (\(blas.threadsSource))"),
            row("OpenBLAS", blas.config.trimmingCharacters(in: .whitespaces)),
        ]
        for (i, key) in environment.keys.sorted().enumerated() {
            lines.append(row(i == 0 ? "environment" : "", "\(key)=\(environment[key]!)"))
        }
        lines += [
            row("MPI", mpi.version ?? "not found (no mpirun on PATH)"),
            row("protobuf-c", protobufCVersion),
            row("sgemm check", String(format: "%d shapes, max relative error %.2e (tolerance %.0e): %@",
                                      sgemmCheck.cases.count, sgemmCheck.maxRelError, sgemmCheck.tolerance,
                                      sgemmCheck.pass ? "PASS" : "FAIL")),
        ]
        for c in sgemmCheck.cases where !c.pass {
            lines.append(row("", String(format: "FAIL %@: relative error %.2e%@", c.label, c.maxRelError,
                                        c.wroteOutside ? ", wrote outside C" : "")))
        }
        lines.append(row("sgemm speed", String(format: "%.1f GFLOP/s for %d×%d×%d (median of %d, %d thread%@)",
                                               sgemmThroughput.medianGflops, sgemmThroughput.n, sgemmThroughput.n,
                                               sgemmThroughput.n, sgemmThroughput.repeats, sgemmThroughput.threads,
                                               sgemmThroughput.threads == 1 ? "" : "s")))
        return lines.joined(separator: "\n")
    }
}

/// sgemm on odd shapes, transposes, padded leading dimensions and beta ≠ 0 against a Double product.
/// The error of each element is relative to Σ|α·a·b| + |β·c| (the scale of its rounding error);
/// NaN in the padding catches reads outside A and B, a sentinel in C's padding catches stray writes.
struct GemmCheck: Encodable {
    struct Case: Encodable {
        var m, n, k: Int
        var transA, transB: Bool
        var alpha, beta: Float
        var pad: Int
        var maxRelError: Double
        var wroteOutside: Bool
        var pass: Bool
        var label: String { "\(m)x\(n)x\(k) \(transA ? "T" : "N")\(transB ? "T" : "N")" + (pad > 0 ? " pad \(pad)" : "") }
    }

    var cases: [Case]
    var tolerance: Double
    var maxRelError: Double
    var pass: Bool

    static func run(tolerance: Double = 1e-5) -> GemmCheck {
        let shapes: [(Int, Int, Int, Bool, Bool, Float, Float, Int)] = [
            (37, 53, 29, false, false, 1, 0, 0), (37, 53, 29, true, false, 1, 0, 0),
            (37, 53, 29, false, true, 1, 0, 0), (37, 53, 29, true, true, 1, 0, 0),
            (1, 67, 129, false, true, 1, 0, 0), (65, 1, 33, true, false, 1, 0, 0),
            (127, 131, 257, false, false, 0.75, 0.5, 3), (257, 255, 511, true, true, -1, 1, 5),
        ]
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        var cases: [Case] = []
        for (m, n, k, ta, tb, alpha, beta, pad) in shapes {
            cases.append(check(m: m, n: n, k: k, transA: ta, transB: tb, alpha: alpha, beta: beta, pad: pad,
                               tolerance: tolerance, seed: &seed))
        }
        let worst = cases.map(\.maxRelError).reduce(0) { $1.isNaN || $0.isNaN ? .nan : max($0, $1) }
        return GemmCheck(cases: cases, tolerance: tolerance, maxRelError: worst, pass: cases.allSatisfy(\.pass))
    }

    private static func check(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, alpha: Float, beta: Float,
                              pad: Int, tolerance: Double, seed: inout UInt64) -> Case {
        func next() -> Float {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: seed >> 11) % 2_000_001) / 1_000_000 - 1
        }
        let (aRows, aCols) = transA ? (k, m) : (m, k)
        let (bRows, bCols) = transB ? (n, k) : (k, n)
        let lda = aCols + pad, ldb = bCols + pad, ldc = n + pad
        let sentinel: Float = 12345
        var a = [Float](repeating: .nan, count: aRows * lda)
        var b = [Float](repeating: .nan, count: bRows * ldb)
        var c = [Float](repeating: sentinel, count: m * ldc)
        for r in 0..<aRows { for q in 0..<aCols { a[r * lda + q] = next() } }
        for r in 0..<bRows { for q in 0..<bCols { b[r * ldb + q] = next() } }
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] = next() } }
        let c0 = c
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                               a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                               beta: beta, c: cp.baseAddress!, ldc: ldc)
                }
            }
        }
        var worst = 0.0
        var wroteOutside = false
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0, scale = 0.0
                for p in 0..<k {
                    let x = Double(transA ? a[p * lda + i] : a[i * lda + p])
                    let y = Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                    sum += x * y
                    scale += abs(x * y)
                }
                let ref = Double(alpha) * sum + Double(beta) * Double(c0[i * ldc + j])
                let bound = abs(Double(alpha)) * scale + abs(Double(beta) * Double(c0[i * ldc + j]))
                let err = abs(Double(c[i * ldc + j]) - ref) / max(bound, Double.leastNormalMagnitude)
                if err.isNaN || err > worst { worst = err.isNaN ? .nan : err }
                if worst.isNaN { break }
            }
            for j in n..<ldc where c[i * ldc + j] != sentinel { wroteOutside = true }
        }
        return Case(m: m, n: n, k: k, transA: transA, transB: transB, alpha: alpha, beta: beta, pad: pad,
                    maxRelError: worst, wroteOutside: wroteOutside,
                    pass: !wroteOutside && worst <= tolerance)
    }
}

/// Median GFLOP/s of a square sgemm (2n³ flops per call) after two warm-up calls.
struct GemmThroughput: Encodable {
    var n: Int
    var threads: Int
    var repeats: Int
    var medianGflops: Double

    static func measure(n: Int, repeats: Int) -> GemmThroughput {
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var seconds: [Double] = []
        a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    for i in 0..<(repeats + 2) {
                        let start = DispatchTime.now().uptimeNanoseconds
                        BLAS.sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: ap.baseAddress!, lda: n,
                                   b: bp.baseAddress!, ldb: n, beta: 0, c: cp.baseAddress!, ldc: n)
                        let end = DispatchTime.now().uptimeNanoseconds
                        if i >= 2 { seconds.append(Double(end - start) * 1e-9) }
                    }
                }
            }
        }
        let sorted = seconds.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        return GemmThroughput(n: n, threads: BLAS.threads, repeats: repeats,
                              medianGflops: 2 * Double(n * n * n) / median / 1e9)
    }
}
