// Makes OpenBLAS run a kernel that fits the CPU, and picks its thread count.
// OpenBLAS 0.3.21 chooses its kernel when the library loads and falls back to
// an SSE3 kernel on CPUs it does not know, so the only fix is to re-execute
// the process with OPENBLAS_CORETYPE set. Variables: docs/environment.md.
import CohortCore
import Foundation

/// What `/proc/cpuinfo` says about the CPU (the first processor listed).
package struct CPUFeatures: Sendable, Equatable {
    /// `vendor_id`, e.g. `GenuineIntel`, `AuthenticAMD`.
    package var vendor: String
    /// `model name`, e.g. `Intel(R) Xeon(R) Platinum 8488C`.
    package var modelName: String
    /// `cpu family` and `model` (nil when not listed).
    package var family: Int?
    package var model: Int?
    /// Lower-case feature flags. Linux lists SSE3 as `pni`; `sse3` is added for it.
    package var flags: Set<String>

    /// Flags `doctor` prints, in this order, when present.
    package static let reportedFlags = ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16", "amx_tile",
                                       "avx2", "fma", "avx", "sse4_2", "ssse3", "sse3"]

    /// A CPU description from parsed fields (tests build them directly); `pni` implies `sse3`.
    package init(vendor: String = "", modelName: String = "", family: Int? = nil, model: Int? = nil,
                flags: Set<String>) {
        self.vendor = vendor
        self.modelName = modelName
        self.family = family
        self.model = model
        self.flags = Set(flags.map { $0.lowercased() })
        if self.flags.contains("pni") { self.flags.insert("sse3") }
    }

    /// Parses the text of `/proc/cpuinfo`; only the first processor block is read.
    package static func parse(cpuinfo: String) -> CPUFeatures {
        var fields: [String: String] = [:]
        for line in cpuinfo.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.allSatisfy(\.isWhitespace) {
                if fields.isEmpty { continue } else { break }
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            if fields[key] == nil { fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        // x86 calls them `flags`, arm64 `Features`.
        let flagText = fields["flags"] ?? fields["Features"] ?? ""
        return CPUFeatures(vendor: fields["vendor_id"] ?? "", modelName: fields["model name"] ?? "",
                           family: fields["cpu family"].flatMap { Int($0) }, model: fields["model"].flatMap { Int($0) },
                           flags: Set(flagText.split(separator: " ").map(String.init)))
    }

    /// Reads the CPU of this machine; an unreadable file gives no features (and so no kernel change).
    package static func detect(path: String = "/proc/cpuinfo") -> CPUFeatures {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return CPUFeatures(flags: []) }
        return parse(cpuinfo: text)
    }

    /// Whether the CPU lists `flag` (lower case, `/proc/cpuinfo` spelling).
    package func has(_ flag: String) -> Bool { flags.contains(flag) }

    /// The subset of `reportedFlags` this CPU has, in `reportedFlags` order.
    package var relevantFlags: [String] { Self.reportedFlags.filter(has) }

    /// The newest vector ISA OpenBLAS has kernels for that this CPU supports.
    package var isa: ISALevel {
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(has) { return .avx512 }
        if has("avx2") && has("fma") { return .avx2 }
        if has("avx") { return .avx }
        if has("sse3") { return .sse3 }
        return .baseline
    }

    /// The `OPENBLAS_CORETYPE` to ask for on this CPU, or nil when an SSE kernel is already the best.
    package var bestCoreType: String? {
        switch isa {
        case .avx512: return "SkylakeX"
        case .avx2: return "Haswell"
        case .avx: return "Sandybridge"
        case .sse3, .baseline: return nil
        }
    }
}

/// Vector ISA generations as far as OpenBLAS's x86 kernels distinguish them.
package enum ISALevel: Int, Comparable, Sendable, CustomStringConvertible {
    /// SSE2 or older; SSE3 (`Prescott`, `Core2`, `Nehalem`…); AVX (`Sandybridge`); AVX2 + FMA
    /// (`Haswell`, `Zen`); AVX-512 F/BW/DQ/VL (`SkylakeX`, `Cooperlake`, `SapphireRapids`).
    case baseline, sse3, avx, avx2, avx512

    package static func < (a: ISALevel, b: ISALevel) -> Bool { a.rawValue < b.rawValue }

    package var description: String {
        switch self {
        case .baseline: return "SSE2"
        case .sse3: return "SSE3"
        case .avx: return "AVX"
        case .avx2: return "AVX2"
        case .avx512: return "AVX-512"
        }
    }

    /// The ISA an OpenBLAS x86 kernel (`openblas_get_corename()` or an `OPENBLAS_CORETYPE`
    /// value, any case) is written for; nil for names outside that table (other architectures).
    package init?(openBLASCore name: String) {
        switch name.lowercased() {
        case "unknown", "generic", "katmai", "coppermine", "northwood", "banias", "athlon", "opteron":
            self = .baseline
        case "prescott", "atom", "core2", "penryn", "dunnington", "nehalem", "opteron_sse3", "barcelona", "nano", "bobcat":
            self = .sse3
        case "sandybridge", "bulldozer", "piledriver", "steamroller":
            self = .avx
        case "haswell", "zen", "excavator":
            self = .avx2
        case "skylakex", "cooperlake", "sapphirerapids":
            self = .avx512
        default:
            return nil
        }
    }
}

/// What `BLASRuntime` decided about the OpenBLAS kernel, with the line to show the user.
package struct BLASKernelDecision: Sendable, Equatable {
    /// What `ensureFastKernel` does.
    package enum Action: Sendable, Equatable {
        /// The kernel fits the CPU, or it is not Cohort's to change: do nothing.
        case keep
        /// OpenBLAS fell back to an old kernel: set `OPENBLAS_CORETYPE=coreType` and re-execute.
        case reexec(coreType: String)
        /// This process comes from Cohort's re-exec and the new kernel is in use: say so once.
        case reportReexec
        /// The kernel is a slow fallback and Cohort leaves it: say so loudly.
        case warn
    }

    /// What to do.
    package var action: Action
    /// For `.reportReexec` and `.warn` the text to print; otherwise what `doctor` shows.
    package var message: String

    /// A decision and its message.
    package init(_ action: Action, _ message: String) {
        self.action = action
        self.message = message
    }
}

/// The kernel decision this process made, kept for `doctor`.
package struct BLASKernelReport: Sendable, Equatable {
    /// The kernel the decision saw (OpenBLAS's, or the test hook's).
    package var kernel: String
    /// The CPU's ISA level.
    package var cpuISA: ISALevel
    /// What was decided; `.reexec` appears here only when the re-exec failed (then `.warn`).
    package var decision: BLASKernelDecision
}

/// How many threads OpenBLAS uses and why.
package struct BLASThreadPolicy: Sendable, Equatable {
    /// Where the count came from; the raw value is what `doctor` prints.
    package enum Source: String, Sendable {
        case flag = "--threads"
        case environment = "OPENBLAS_NUM_THREADS"
        case coresPerRank = "cores per rank on the node"
    }

    /// Threads per BLAS call (after `configureThreads`, as OpenBLAS reports it).
    package var count: Int
    /// Where `count` came from.
    package var source: Source
    /// A note for the user (an ignored `OPENBLAS_NUM_THREADS`), or nil.
    package var warning: String?

    /// `--threads` wins, then a positive `OPENBLAS_NUM_THREADS`, else `cores / localSize`, at least 1.
    /// A count that, times the ranks on this node, exceeds its cores carries a warning
    /// (oversubscribed ranks lose 10–20 % or more here).
    /// - Throws: `CohortError.invalidParameter(name: "threads", _)` when `requested` is below 1.
    package static func resolve(requested: Int?, environment: [String: String], cores: Int,
                               localSize: Int) throws -> BLASThreadPolicy {
        var policy: BLASThreadPolicy
        if let n = requested {
            guard n >= 1 else { throw CohortError.invalidParameter(name: "threads", "must be at least 1, got \(n)") }
            policy = BLASThreadPolicy(count: n, source: .flag)
        } else if let raw = environment["OPENBLAS_NUM_THREADS"], let n = Int(raw.trimmingCharacters(in: .whitespaces)), n >= 1 {
            policy = BLASThreadPolicy(count: n, source: .environment)
        } else {
            let ignored = environment["OPENBLAS_NUM_THREADS"].map { "OPENBLAS_NUM_THREADS='\($0)' is not a positive integer; ignoring it" }
            policy = BLASThreadPolicy(count: max(1, cores / max(1, localSize)), source: .coresPerRank, warning: ignored)
        }
        let ranks = max(1, localSize)
        if policy.count * ranks > cores && cores > 0 {
            let note = "\(ranks) rank(s) × \(policy.count) BLAS thread(s) on this node exceed its \(cores) cores (oversubscribed; "
                + (policy.source == .coresPerRank ? "start fewer ranks per node)" : "leave \(policy.source.rawValue) unset for cores ÷ ranks)")
            policy.warning = policy.warning.map { $0 + "; " + note } ?? note
        }
        return policy
    }
}

/// Start-up checks of the OpenBLAS runtime: kernel choice and thread count.
package enum BLASRuntime {
    /// Set by OpenBLAS's users to force a kernel; read by the library when it loads.
    package static let coreTypeVariable = "OPENBLAS_CORETYPE"
    /// Marks a process image produced by Cohort's re-exec; its value is the kernel OpenBLAS first picked.
    package static let reexecMarker = "COHORT_BLAS_REEXEC"
    /// How long an idle OpenBLAS worker thread spins (2^value cycles) before it sleeps; read
    /// by the library when it loads.
    package static let threadTimeoutVariable = "OPENBLAS_THREAD_TIMEOUT"
    /// Cohort's value: the minimum (2^4 cycles), so workers sleep as soon as a GEMM ends.
    /// With the default (2^28 cycles, about 0.1 s) an idle worker keeps yielding on a core
    /// that Cohort's own helper threads (recurrence, attention, convolution) need: on 2 cores
    /// W4 at 2 threads ran at 48–69 k tokens/s with the default and 73–76 k with 4.
    package static let threadTimeout = "4"

    /// `threadTimeout` when the environment has no `OPENBLAS_THREAD_TIMEOUT` (a user's value is
    /// kept) and this is not a process re-executed for the kernel; else nil. Pure, for tests.
    package static func threadTimeoutToSet(environment: [String: String]) -> String? {
        nonEmpty(environment[threadTimeoutVariable]) == nil && nonEmpty(environment[reexecMarker]) == nil ? threadTimeout : nil
    }

    /// Test only: pretend OpenBLAS picked this kernel (and honours `OPENBLAS_CORETYPE` once set).
    package static let testCoreNameVariable = "COHORT_TEST_BLAS_CORENAME"

    /// The kernel name the decision uses: OpenBLAS's own, unless the test hook is set. Like the real
    /// library, the hook gives way to `OPENBLAS_CORETYPE`, so a re-exec "fixes" a faked kernel.
    package static func effectiveCoreName(openBLAS: String, environment: [String: String]) -> String {
        guard let fake = nonEmpty(environment[testCoreNameVariable]) else { return openBLAS }
        return nonEmpty(environment[coreTypeVariable]) ?? fake
    }

    /// Decides what to do about kernel `coreName` on `cpu`. Pure, for tests.
    ///
    /// A kernel is a fallback when its ISA is below AVX2 and below the CPU's best (`Prescott`
    /// on an AVX-512 CPU; not `Haswell` there, which OpenBLAS picks on purpose for some CPUs).
    /// A user's `OPENBLAS_CORETYPE` is never overridden, and a process carrying the re-exec
    /// marker never re-executes again.
    package static func decide(cpu: CPUFeatures, coreName: String,
                              environment: [String: String]) -> BLASKernelDecision {
        let userCore = nonEmpty(environment[coreTypeVariable])
        let marker = nonEmpty(environment[reexecMarker])
        let kernelISA = ISALevel(openBLASCore: coreName)
        guard let best = cpu.bestCoreType, let kernelISA, kernelISA < cpu.isa, kernelISA < .avx2 else {
            if let marker, let userCore {
                return BLASKernelDecision(.reportReexec, "OpenBLAS picked \(marker) on an \(cpu.isa) CPU; "
                    + "re-executed with \(coreTypeVariable)=\(userCore) (set it yourself to choose another kernel)")
            }
            let isaText = kernelISA.map { "\($0) kernel" } ?? "kernel"
            let origin = userCore.map { "set by \(coreTypeVariable)=\($0)" } ?? "OpenBLAS's choice"
            var note = "nothing to do"
            if let kernelISA, kernelISA < cpu.isa, let best = cpu.bestCoreType {
                note += " (not a fallback kernel; \(coreTypeVariable)=\(best) may be faster)"
            }
            return BLASKernelDecision(.keep, "\(coreName) (\(isaText), \(origin)) on an \(cpu.isa) CPU: \(note)")
        }
        let slow = "\(coreName) is OpenBLAS's \(kernelISA) fallback kernel on an \(cpu.isa) CPU: "
            + "sgemm runs several times slower than with \(best)"
        if marker != nil {
            if let userCore {
                return BLASKernelDecision(.warn, "re-executed with \(coreTypeVariable)=\(userCore) but OpenBLAS still "
                    + "runs \(coreName) (a library built without DYNAMIC_ARCH?): \(slow)")
            }
            return BLASKernelDecision(.warn, "\(reexecMarker) is set but \(coreTypeVariable) is not, so Cohort does not "
                + "re-execute again: \(slow). Set \(coreTypeVariable)=\(best)")
        }
        if let userCore {
            return BLASKernelDecision(.warn, "\(coreTypeVariable)=\(userCore) is set in the environment and Cohort "
                + "leaves it, but \(slow). Unset it to let Cohort choose, or set \(coreTypeVariable)=\(best)")
        }
        return BLASKernelDecision(.reexec(coreType: best), "OpenBLAS picked \(coreName) on an \(cpu.isa) CPU; "
            + "re-executing with \(coreTypeVariable)=\(best)")
    }

    /// Checks the kernel OpenBLAS picked; call first thing in `main`, before any output.
    ///
    /// On a fallback kernel (and no user `OPENBLAS_CORETYPE`) this sets `OPENBLAS_CORETYPE` and the
    /// re-exec marker and replaces the process with `/proc/self/exe arguments…`: it does not return.
    /// In the re-executed process it reports the change once on rank 0 and removes the marker (so
    /// child processes see a plain `OPENBLAS_CORETYPE`). Warnings print once per node (local rank 0).
    /// Later calls return the first call's report.
    @discardableResult
    package static func ensureFastKernel(arguments: [String]) -> BLASKernelReport {
        state.lock.lock()
        defer { state.lock.unlock() }
        if let report = state.kernel { return report }
        let env = ProcessInfo.processInfo.environment
        let cpu = CPUFeatures.detect()
        let kernel = effectiveCoreName(openBLAS: BLAS.coreName, environment: env)
        var decision = decide(cpu: cpu, coreName: kernel, environment: env)
        let timeout = threadTimeoutToSet(environment: env)
        switch decision.action {
        case .keep:
            if let timeout {
                // Only read when the library loads: re-execute once with it (then it is set, so never again).
                setenv(threadTimeoutVariable, timeout, 1)
                let error = execSelf(arguments)  // returns only on failure
                Log.warning("could not re-execute with \(threadTimeoutVariable)=\(timeout) (execv: \(error)); "
                            + "multi-threaded steps may run slower")
            }
        case .reexec(let coreType):
            if let timeout { setenv(threadTimeoutVariable, timeout, 1) }
            setenv(coreTypeVariable, coreType, 1)
            setenv(reexecMarker, kernel, 1)
            let error = execSelf(arguments)  // returns only on failure
            unsetenv(coreTypeVariable)
            unsetenv(reexecMarker)
            decision = BLASKernelDecision(.warn, "OpenBLAS picked \(kernel) on an \(cpu.isa) CPU and re-executing "
                + "with \(coreTypeVariable)=\(coreType) failed (execv: \(error)); continuing on the slow kernel. "
                + "Set \(coreTypeVariable)=\(coreType) yourself")
            warnOncePerNode(decision.message)
        case .reportReexec:
            unsetenv(reexecMarker)
            Log.main(decision.message)
        case .warn:
            unsetenv(reexecMarker)
            warnOncePerNode(decision.message)
        }
        let report = BLASKernelReport(kernel: kernel, cpuISA: cpu.isa, decision: decision)
        state.kernel = report
        return report
    }

    /// The decision `ensureFastKernel` made in this process, or nil if it was not called.
    package static var kernelReport: BLASKernelReport? {
        state.lock.lock()
        defer { state.lock.unlock() }
        return state.kernel
    }

    /// Sets OpenBLAS's thread count: `requested` (`--threads`) wins, then `OPENBLAS_NUM_THREADS`
    /// (which OpenBLAS has already applied), else cores on the node ÷ ranks on the node, at least 1.
    /// - Returns: the thread count OpenBLAS now uses.
    /// - Throws: `CohortError.invalidParameter(name: "threads", _)` when `requested` is below 1.
    @discardableResult
    package static func configureThreads(requested: Int?) throws -> Int {
        var policy = try BLASThreadPolicy.resolve(requested: requested, environment: ProcessInfo.processInfo.environment,
                                                  cores: ProcessInfo.processInfo.activeProcessorCount,
                                                  localSize: RunInfo.current.localSize)
        if policy.source != .environment { BLAS.threads = policy.count }
        policy.count = BLAS.threads
        if let warning = policy.warning { warnOncePerNode(warning) }
        state.lock.lock()
        state.threads = policy
        state.lock.unlock()
        return policy.count
    }

    /// The thread policy `configureThreads` applied (count as OpenBLAS reports it), or nil.
    package static var threadPolicy: BLASThreadPolicy? {
        state.lock.lock()
        defer { state.lock.unlock() }
        return state.threads
    }

    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var kernel: BLASKernelReport?
        var threads: BLASThreadPolicy?
    }

    private static let state = State()

    private static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return s
    }

    private static func warnOncePerNode(_ message: String) {
        if RunInfo.current.localRank == 0 { Log.warning(message) }
    }

    /// `execv("/proc/self/exe", arguments)`; returns the error text if it returns at all.
    private static func execSelf(_ arguments: [String]) -> String {
        let argv = arguments.isEmpty ? ["/proc/self/exe"] : arguments
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        defer { for p in cArgs { free(p) } }
        fflush(nil)
        _ = cArgs.withUnsafeBufferPointer { execv("/proc/self/exe", $0.baseAddress!) }
        return String(cString: strerror(errno))
    }
}
