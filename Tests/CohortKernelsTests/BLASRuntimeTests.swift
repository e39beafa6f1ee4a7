// BLASRuntime: the pure kernel decision and thread policy, CPU parsing, and
// the real re-exec, tested by running the release `cohort doctor --json` with
// the test-only COHORT_TEST_BLAS_CORENAME hook (OpenBLAS picks a good kernel
// on the CI machine, so the fallback has to be faked).
import CohortCore
import CohortProcess
import Foundation
import Testing
@testable import CohortKernels

private let avx512CPU = CPUFeatures(flags: ["sse", "sse2", "pni", "ssse3", "avx", "fma", "avx2",
                                            "avx512f", "avx512bw", "avx512dq", "avx512vl"])
private let avx2CPU = CPUFeatures(flags: ["sse2", "pni", "avx", "fma", "avx2"])
private let avxCPU = CPUFeatures(flags: ["sse2", "pni", "avx"])
private let sse3CPU = CPUFeatures(flags: ["sse2", "pni", "ssse3"])

@Suite struct KernelDecisionTests {
    @Test(arguments: ["Prescott", "Core2", "Penryn", "Nehalem", "Atom", "Katmai", "Northwood", "Banias",
                      "Dunnington", "Sandybridge", "Unknown", "PRESCOTT", "prescott"])
    func fallbackOnAVX512ReexecutesWithSkylakeX(core: String) {
        let d = BLASRuntime.decide(cpu: avx512CPU, coreName: core, environment: [:])
        #expect(d.action == .reexec(coreType: "SkylakeX"), "\(d.message)")
    }

    @Test func targetFollowsTheCPU() {
        #expect(BLASRuntime.decide(cpu: avx2CPU, coreName: "Prescott", environment: [:]).action == .reexec(coreType: "Haswell"))
        #expect(BLASRuntime.decide(cpu: avxCPU, coreName: "Prescott", environment: [:]).action == .reexec(coreType: "Sandybridge"))
        #expect(BLASRuntime.decide(cpu: avx2CPU, coreName: "Sandybridge", environment: [:]).action == .reexec(coreType: "Haswell"))
        // AVX-512F without BW/DQ/VL (Knights Landing) cannot run SkylakeX kernels.
        let knl = CPUFeatures(flags: ["pni", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512er"])
        #expect(BLASRuntime.decide(cpu: knl, coreName: "Prescott", environment: [:]).action == .reexec(coreType: "Haswell"))
    }

    @Test func fittingOrDeliberateKernelsAreKept() {
        for (cpu, core) in [(avx512CPU, "SkylakeX"), (avx512CPU, "Cooperlake"), (avx512CPU, "SapphireRapids"),
                            (avx512CPU, "Haswell"), (avx512CPU, "Zen"), (avx2CPU, "Haswell"), (avxCPU, "Sandybridge"),
                            (sse3CPU, "Prescott"), (sse3CPU, "Core2"), (CPUFeatures(flags: []), "Prescott"),
                            (avx512CPU, "NEOVERSEN1"), (avx512CPU, "")] {
            let d = BLASRuntime.decide(cpu: cpu, coreName: core, environment: [:])
            #expect(d.action == .keep, "\(core) on \(cpu.isa): \(d.message)")
        }
    }

    @Test func userCoreTypeIsNeverOverridden() {
        let d = BLASRuntime.decide(cpu: avx512CPU, coreName: "Prescott", environment: ["OPENBLAS_CORETYPE": "Prescott"])
        #expect(d.action == .warn)
        #expect(d.message.contains("OPENBLAS_CORETYPE=Prescott is set"))
        #expect(d.message.contains("OPENBLAS_CORETYPE=SkylakeX"))
        let fine = BLASRuntime.decide(cpu: avx512CPU, coreName: "Haswell", environment: ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(fine.action == .keep)
        #expect(fine.message.contains("set by OPENBLAS_CORETYPE=Haswell"))
        // An empty value is not a choice (OpenBLAS ignores it too).
        let empty = BLASRuntime.decide(cpu: avx512CPU, coreName: "Prescott", environment: ["OPENBLAS_CORETYPE": " "])
        #expect(empty.action == .reexec(coreType: "SkylakeX"))
    }

    @Test func threadTimeoutIsSetOnceAndNeverOverridesTheUser() {
        #expect(BLASRuntime.threadTimeoutToSet(environment: [:]) == "4")
        #expect(BLASRuntime.threadTimeoutToSet(environment: ["OPENBLAS_THREAD_TIMEOUT": "28"]) == nil)
        #expect(BLASRuntime.threadTimeoutToSet(environment: ["OPENBLAS_THREAD_TIMEOUT": " "]) == "4")
        #expect(BLASRuntime.threadTimeoutToSet(environment: ["COHORT_BLAS_REEXEC": "Prescott"]) == nil)
    }

    @Test func reexecutedProcessReportsOnce() {
        let env = ["OPENBLAS_CORETYPE": "SkylakeX", "COHORT_BLAS_REEXEC": "Prescott"]
        let d = BLASRuntime.decide(cpu: avx512CPU, coreName: "SkylakeX", environment: env)
        #expect(d.action == .reportReexec)
        #expect(d.message == "OpenBLAS picked Prescott on an AVX-512 CPU; re-executed with OPENBLAS_CORETYPE=SkylakeX "
            + "(set it yourself to choose another kernel)")
    }

    @Test func markerPreventsASecondReexec() {
        // The library ignored OPENBLAS_CORETYPE: warn, do not exec again.
        let ignored = BLASRuntime.decide(cpu: avx512CPU, coreName: "Prescott",
                                         environment: ["OPENBLAS_CORETYPE": "SkylakeX", "COHORT_BLAS_REEXEC": "Prescott"])
        #expect(ignored.action == .warn)
        #expect(ignored.message.contains("still runs Prescott"))
        // Something dropped OPENBLAS_CORETYPE but kept the marker.
        let dropped = BLASRuntime.decide(cpu: avx512CPU, coreName: "Prescott", environment: ["COHORT_BLAS_REEXEC": "1"])
        #expect(dropped.action == .warn)
        #expect(dropped.message.contains("does not re-execute again"))
    }

    @Test func testHookPretendsAndGivesWayToCoreType() {
        #expect(BLASRuntime.effectiveCoreName(openBLAS: "Cooperlake", environment: [:]) == "Cooperlake")
        #expect(BLASRuntime.effectiveCoreName(openBLAS: "Cooperlake", environment: ["OPENBLAS_CORETYPE": "Haswell"]) == "Cooperlake")
        #expect(BLASRuntime.effectiveCoreName(openBLAS: "Cooperlake",
                                              environment: ["COHORT_TEST_BLAS_CORENAME": "Prescott"]) == "Prescott")
        #expect(BLASRuntime.effectiveCoreName(openBLAS: "Cooperlake", environment: [
            "COHORT_TEST_BLAS_CORENAME": "Prescott", "OPENBLAS_CORETYPE": "SkylakeX"]) == "SkylakeX")
    }
}

@Suite struct CPUFeaturesTests {
    static let intel = """
        processor\t: 0
        vendor_id\t: GenuineIntel
        cpu family\t: 6
        model\t\t: 207
        model name\t: Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz
        flags\t\t: fpu sse sse2 pni ssse3 fma sse4_1 sse4_2 avx avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16 amx_tile

        processor\t: 1
        vendor_id\t: OtherVendor
        flags\t\t: fpu

        """

    @Test func parsesTheFirstProcessor() {
        let cpu = CPUFeatures.parse(cpuinfo: Self.intel)
        #expect(cpu.vendor == "GenuineIntel")
        #expect(cpu.modelName == "Intel(R) Xeon(R) Platinum 8581C CPU @ 2.10GHz")
        #expect(cpu.family == 6 && cpu.model == 207)
        #expect(cpu.has("sse3"))  // listed as pni
        #expect(cpu.isa == .avx512 && cpu.bestCoreType == "SkylakeX")
        #expect(cpu.relevantFlags == ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16", "amx_tile",
                                      "avx2", "fma", "avx", "sse4_2", "ssse3", "sse3"])
    }

    @Test func isaLevels() {
        #expect(avx2CPU.isa == .avx2 && avxCPU.isa == .avx && sse3CPU.isa == .sse3)
        #expect(CPUFeatures(flags: ["avx", "avx2"]).isa == .avx)  // Haswell kernels need FMA too
        #expect(CPUFeatures.parse(cpuinfo: "processor : 0\nFeatures : fp asimd evtstrm\n").bestCoreType == nil)
        #expect(CPUFeatures.parse(cpuinfo: "").isa == .baseline)
    }

    @Test func readsThisMachine() {
        let cpu = CPUFeatures.detect()
        #expect(!cpu.flags.isEmpty)
    }
}

@Suite struct ThreadPolicyTests {
    @Test func flagWinsThenEnvironmentThenCoresPerRank() throws {
        let env = ["OPENBLAS_NUM_THREADS": "3"]
        #expect(try BLASThreadPolicy.resolve(requested: 5, environment: env, cores: 16, localSize: 2)
            == BLASThreadPolicy(count: 5, source: .flag))
        #expect(try BLASThreadPolicy.resolve(requested: nil, environment: env, cores: 16, localSize: 2)
            == BLASThreadPolicy(count: 3, source: .environment))
        #expect(try BLASThreadPolicy.resolve(requested: nil, environment: [:], cores: 8, localSize: 2)
            == BLASThreadPolicy(count: 4, source: .coresPerRank))
        #expect(try BLASThreadPolicy.resolve(requested: nil, environment: [:], cores: 2, localSize: 4).count == 1)
        #expect(try BLASThreadPolicy.resolve(requested: nil, environment: [:], cores: 2, localSize: 0).count == 2)
    }

    @Test func badEnvironmentIsIgnoredWithAWarning() throws {
        for raw in ["0", "-1", "abc", ""] {
            let p = try BLASThreadPolicy.resolve(requested: nil, environment: ["OPENBLAS_NUM_THREADS": raw], cores: 2, localSize: 1)
            #expect(p.count == 2 && p.source == .coresPerRank && p.warning != nil, "OPENBLAS_NUM_THREADS='\(raw)'")
        }
    }

    @Test func oversubscriptionIsWarned() throws {
        let flag = try BLASThreadPolicy.resolve(requested: 2, environment: [:], cores: 2, localSize: 2)
        #expect(flag.count == 2 && flag.warning?.contains("exceed its 2 cores") == true && flag.warning?.contains("--threads") == true)
        let env = try BLASThreadPolicy.resolve(requested: nil, environment: ["OPENBLAS_NUM_THREADS": "2"], cores: 2, localSize: 2)
        #expect(env.warning?.contains("OPENBLAS_NUM_THREADS") == true)
        let ranks = try BLASThreadPolicy.resolve(requested: nil, environment: [:], cores: 2, localSize: 4)
        #expect(ranks.count == 1 && ranks.warning?.contains("fewer ranks") == true)
        #expect(try BLASThreadPolicy.resolve(requested: nil, environment: [:], cores: 2, localSize: 2).warning == nil)
    }

    @Test func badFlagThrows() {
        #expect(throws: CohortError.self) { try BLASThreadPolicy.resolve(requested: 0, environment: [:], cores: 2, localSize: 1) }
    }

    @Test func configureThreadsSetsOpenBLAS() throws {
        configuredThreadsLock.lock()
        defer { configuredThreadsLock.unlock() }
        #expect(try BLASRuntime.configureThreads(requested: 1) == 1)
        #expect(BLAS.threads == 1)
        #expect(BLASRuntime.threadPolicy?.source == .flag)
    }
}

/// Runs the release binary (`COHORT_BIN`, else `.build/release/cohort`) as a fresh process.
private enum CohortBinary {
    static let path: String? = {
        if let p = ProcessInfo.processInfo.environment["COHORT_BIN"], !p.isEmpty { return p }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let candidate = root.appendingPathComponent(".build/release/cohort").path
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }()

    struct Run {
        var status: Int32
        var json: [String: Any]
        var stderr: String
        func field(_ group: String, _ key: String) -> String? { (json[group] as? [String: Any])?[key] as? String }
        func occurrences(_ s: String) -> Int { stderr.components(separatedBy: s).count - 1 }
    }

    /// `cohort doctor --json` with the variables Cohort reads cleared, then `extra` set; killed after 60 s.
    static func doctor(_ extra: [String: String]) throws -> Run {
        let cleared = ["OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "COHORT_BLAS_REEXEC", "COHORT_TEST_BLAS_CORENAME"]
        var env = ProcessInfo.processInfo.environment.filter { !cleared.contains($0.key) && !$0.key.hasPrefix("OMPI_") }
        env.merge(extra) { $1 }
        // A re-exec loop would never finish: the deadline kills it.
        let r = try runWithTimeout(argv: [try #require(path), "doctor", "--json"], timeout: 60, environment: env)
        let json = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any] ?? [:]
        return Run(status: r.status.processStatus, json: json, stderr: r.stderr)
    }
}

@Suite(.serialized, .enabled(if: CohortBinary.path != nil, "no release binary: swift build -c release, or set COHORT_BIN"))
struct ReexecIntegrationTests {
    let cpu = CPUFeatures.detect()

    @Test func fakedFallbackReexecutesOnceWithTheRightCoreType() throws {
        let run = try CohortBinary.doctor(["COHORT_TEST_BLAS_CORENAME": "Prescott"])
        #expect(run.status == 0, "\(run.stderr)")
        guard let best = cpu.bestCoreType else {
            #expect(run.field("blas", "runtime_action") == "keep")  // no AVX: Prescott is right
            return
        }
        #expect(run.field("blas", "runtime_action") == "reexecuted")
        // The variable reached the library at load time, so this is the re-executed image.
        #expect(run.field("environment", "OPENBLAS_CORETYPE") == best)
        #expect(run.field("blas", "openblas_kernel")?.lowercased() == best.lowercased())
        #expect(run.field("blas", "kernel") == best)
        #expect(run.field("environment", "COHORT_BLAS_REEXEC") == nil)  // removed for child processes
        let report = "OpenBLAS picked Prescott on an \(cpu.isa) CPU; re-executed with OPENBLAS_CORETYPE=\(best) "
            + "(set it yourself to choose another kernel)"
        #expect(run.occurrences(report) == 1, "\(run.stderr)")
        #expect(run.occurrences("warning:") == 0, "\(run.stderr)")
    }

    @Test func userCoreTypeIsKeptWithAWarning() throws {
        let run = try CohortBinary.doctor(["OPENBLAS_CORETYPE": "Prescott"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.field("blas", "openblas_kernel") == "Prescott")
        #expect(run.field("environment", "OPENBLAS_CORETYPE") == "Prescott")
        #expect(run.occurrences("re-executed") == 0)
        if cpu.bestCoreType != nil {
            #expect(run.field("blas", "runtime_action") == "warn")
            #expect(run.occurrences("warning: OPENBLAS_CORETYPE=Prescott is set in the environment") == 1, "\(run.stderr)")
        }
    }

    @Test func markerStopsALoop() throws {
        let run = try CohortBinary.doctor(["COHORT_TEST_BLAS_CORENAME": "Prescott", "COHORT_BLAS_REEXEC": "Prescott"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.field("environment", "OPENBLAS_CORETYPE") == nil)
        #expect(run.occurrences("re-executed") == 0)
        if cpu.bestCoreType != nil {
            #expect(run.field("blas", "runtime_action") == "warn")
            #expect(run.occurrences("does not re-execute again") == 1, "\(run.stderr)")
        }
    }

    @Test func onlyRankZeroReports() throws {
        let run = try CohortBinary.doctor(["COHORT_TEST_BLAS_CORENAME": "Prescott", "OMPI_COMM_WORLD_RANK": "1",
                                           "OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_LOCAL_RANK": "1",
                                           "OMPI_COMM_WORLD_LOCAL_SIZE": "2"])
        #expect(run.status == 0, "\(run.stderr)")
        if let best = cpu.bestCoreType {
            #expect(run.field("blas", "runtime_action") == "reexecuted")
            #expect(run.field("environment", "OPENBLAS_CORETYPE") == best)
        }
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        let threads = (run.json["blas"] as? [String: Any])?["threads"] as? Int
        #expect(threads == max(1, ProcessInfo.processInfo.activeProcessorCount / 2))
    }

    @Test func plainRunPassesWithoutWarnings() throws {
        let run = try CohortBinary.doctor([:])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.json["pass"] as? Bool == true)
        #expect(["keep", "reexecuted"].contains(run.field("blas", "runtime_action") ?? "?"))
        #expect(run.occurrences("warning:") == 0, "\(run.stderr)")
    }
}
