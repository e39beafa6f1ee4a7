// `cohort doctor`: what this machine and build give Cohort (CPU features, the
// OpenBLAS kernel and what BLASRuntime did about it, threads, MPI, protobuf-c),
// an sgemm correctness check against a Double reference and a GFLOP/s figure.
// The one file of the CLI that imports CProtobufC (for its version).
import ArgumentParser
import CProtobufC
import CohortBench
import CohortKernels
import CohortProcess
import CohortQuantize
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
            environment: [BLASRuntime.coreTypeVariable, "OPENBLAS_NUM_THREADS", BLASRuntime.reexecMarker, "COHORT_INT8_KERNEL"]
                .reduce(into: [:]) { $0[$1] = env[$1] },
            mpi: .init(version: Self.mpiVersion()),
            protobufCVersion: String(cString: protobuf_c_version()),
            sgemmCheck: check, sgemmThroughput: speed, int8: .detect(), pass: check.pass)
        let pass = report.pass && report.int8.error == nil

        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
        if !pass { throw ExitCode.failure }
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
    var int8: Int8Info
    var pass: Bool

    /// The int8 GEMM kernel quantized models use (CInt8Kernels), or why none could be chosen.
    struct Int8Info: Encodable {
        var kernel: String?
        var supported: [String]
        var error: String?
        static func detect() -> Int8Info {
            let supported = Int8Kernel.supported.map(\.description)
            do { return Int8Info(kernel: try Int8Kernel.selected().description, supported: supported) } catch {
                return Int8Info(kernel: nil, supported: supported, error: "\(error)")
            }
        }
    }

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
        lines.append(row("int8 kernel", int8.kernel.map { "\($0) (supported here: \(int8.supported.joined(separator: ", ")); COHORT_INT8_KERNEL forces one)" }
                                        ?? "FAIL \(int8.error ?? "")"))
        return lines.joined(separator: "\n")
    }
}
