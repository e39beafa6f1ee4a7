// The sweep machinery without MPI: plans and their errors, interleaved order,
// resume after an interruption, the report and plots from known runs (a fake
// launcher writes summaries with chosen step times), and SVG that parses as XML.
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import CohortScale

@Suite struct ScalePlanTests {
    @Test func configurationsOrderAndTrainArguments() throws {
        let plan = try ScalePlan(ranks: [4, 1, 2], mode: .weak, steps: 10, warmup: 2, repeats: 3, vary: ["bucket-mb=1,25"],
                                 trainArguments: ["--model", "mlp", "--global-batch", "64"])
        #expect(plan.ranks == [1, 2, 4] && plan.batch == 64 && plan.trainArguments == ["--model", "mlp"])
        #expect(plan.configurations.map(\.label) == ["np1 bucket-mb=1", "np1 bucket-mb=25", "np2 bucket-mb=1", "np2 bucket-mb=25",
                                                     "np4 bucket-mb=1", "np4 bucket-mb=25"])
        // Every round holds every configuration once, starting somewhere else.
        for r in 0..<3 { #expect(Set(plan.order(round: r)) == Set(plan.configurations)) }
        #expect(plan.order(round: 0).first != plan.order(round: 1).first)
        let c = ScaleConfiguration(ranks: 4, values: ["bucket-mb": "25"])
        let args = plan.trainArguments(c, summary: "/x.json", checkpoints: "/ck")
        #expect(args.starts(with: ["train", "--model", "mlp", "--global-batch", "256", "--steps", "12", "--step-times"]))
        #expect(args.suffix(2) == ["--bucket-mb", "25"])
        let strong = try ScalePlan(ranks: [1, 2], mode: .strong, steps: 1, warmup: 0, repeats: 1, vary: ["transport=shm,tcp"], trainArguments: [])
        let tcp = strong.transport(ScaleConfiguration(ranks: 2, values: ["transport": "tcp"]))
        #expect(tcp.environment["COHORT_SHARED_MEMORY"] == "0" && tcp.mpirunArguments.contains("tcp,self"))
        #expect(strong.globalBatch(ScaleConfiguration(ranks: 2, values: [:])) == 128)
    }

    @Test func mistakesNameTheFlag() {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        #expect(message { _ = try ScalePlan(ranks: [1, 1], mode: .strong, steps: 1, warmup: 0, repeats: 1, vary: [], trainArguments: []) }.hasPrefix("ranks: "))
        #expect(message { _ = try ScalePlan(ranks: [1], mode: .strong, steps: 1, warmup: 0, repeats: 1, vary: ["colour=red"], trainArguments: []) }.hasPrefix("vary: "))
        #expect(message { _ = try ScalePlan(ranks: [1], mode: .strong, steps: 1, warmup: 0, repeats: 1, vary: ["transport=ib"], trainArguments: []) }.contains("shm, tcp"))
        #expect(message { _ = try ScalePlan(ranks: [1], mode: .strong, steps: 1, warmup: 0, repeats: 1, vary: [], trainArguments: ["--steps", "5"]) }.contains("--steps"))
        #expect(message { _ = try ScalePlan(ranks: [1, 3], mode: .strong, steps: 1, warmup: 0, repeats: 1, vary: [], trainArguments: ["--global-batch", "64"]) }
            .contains("does not divide among 3"))
        #expect(message { _ = try ScalePlan(ranks: [1], mode: .strong, steps: 1, warmup: 0, repeats: 1, vary: ["threads=1,2"], trainArguments: ["--threads", "2"]) }
            .contains("--threads"))
    }
}

/// Writes summaries as `cohort train --step-times` would: `ranks` ranks, every step taking
/// `stepSeconds(configuration, round)` of which a tenth is communication.
struct FakeLauncher {
    var stepSeconds: (ScaleConfiguration, Int) -> Double
    var failing: Set<String> = []
    var calls = Calls()
    final class Calls: @unchecked Sendable { var labels: [String] = [] }

    func launcher(plan: ScalePlan) -> (ScaleConfiguration, [String], String, String) throws -> ScaleJobOutcome {
        { c, args, summary, _ in
            let round = calls.labels.filter { $0 == c.label }.count
            calls.labels.append(c.label)
            if failing.contains("\(round) \(c.label)") { return ScaleJobOutcome(status: 1, seconds: 0.1, detail: "Error: injected") }
            let steps = Int(args[args.firstIndex(of: "--steps")! + 1])!
            let batch = Int(args[args.firstIndex(of: "--global-batch")! + 1])!
            let t = stepSeconds(c, round)
            let row = [0.0, t * 0.85, t * 0.1, t * 0.05, t]
            let json: [String: Any] = ["batch_size": batch, "step_time_phases": ["data", "compute", "comm_wait", "optimizer", "total"],
                                       "step_times": Array(repeating: Array(repeating: row, count: steps), count: c.ranks),
                                       "gradient_bytes": 4000, "gradient_transport": "shared memory", "blas_kernel": "Fake", "blas_threads": 1]
            try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: summary))
            return ScaleJobOutcome(status: 0, seconds: 1, detail: "")
        }
    }
}

@Suite struct ScaleRunnerTests {
    func scratch() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-scale-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func sweepResumesReportsAndPlots() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plan = try ScalePlan(ranks: [1, 2, 4], mode: .weak, steps: 5, warmup: 1, repeats: 3, vary: [], trainArguments: ["--global-batch", "32"])
        let store = ScaleStore(directory: dir)
        // Weak scaling with 90 % efficiency at 2 ranks and 80 % at 4 (steps slow down by 1/eff), ±1 % noise by round.
        let eff = [1: 1.0, 2: 0.9, 4: 0.8]
        let fake = FakeLauncher(stepSeconds: { c, r in 0.01 / eff[c.ranks]! * (1 + 0.01 * Double(r - 1)) })
        // An interrupted sweep: the launcher "dies" after four runs.
        var count = 0
        let dying = ScaleRunner(plan: plan, store: store) { c, a, s, l in
            count += 1
            if count > 4 { throw CocoaError(.userCancelled) }
            return try fake.launcher(plan: plan)(c, a, s, l)
        }
        #expect(throws: (any Error).self) { try dying.run() }
        #expect(try store.loadRuns().count == 4)
        let made = try ScaleRunner(plan: plan, store: store, launch: fake.launcher(plan: plan)).run()
        #expect(made == 5, "resuming runs only what is missing")
        let runs = try store.loadRuns()
        #expect(runs.count == 9 && Set(runs.map { "\($0.round) \($0.configuration.label)" }).count == 9)

        let summaries = ScaleAnalysis.summarize(plan, runs)
        let four = try #require(summaries.first { $0.configuration.ranks == 4 })
        #expect(abs(four.efficiency! - 0.8) < 1e-9, "paired efficiency")
        #expect(abs(four.median - 128 / (0.01 / 0.8)) < 1e-6, "4 × 32 samples per 12.5 ms step")
        #expect(four.efficiencyInterval!.width < 1e-9 && !four.noisy)
        #expect(abs(four.phases["comm_wait"]! - 0.1 * 0.0125) < 1e-9)

        let report = try ScaleReport.render(store)
        let md = try String(contentsOfFile: report, encoding: .utf8)
        #expect(md.contains("| np4 | 3 |") && md.contains("0.800") && md.contains("## Where the time goes"))
        let csv = try String(contentsOfFile: dir + "/results.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 10 && csv[0].hasPrefix("ranks,round,status"))
        for plot in ["throughput", "efficiency", "breakdown"] {
            let data = try #require(FileManager.default.contents(atPath: dir + "/plots/\(plot).svg"))
            #expect(SVGValidation.problems(data).isEmpty, "\(plot).svg: \(SVGValidation.problems(data))")
        }
        // Another plan on the same folder is refused, naming both.
        let other = try ScalePlan(ranks: [1, 2], mode: .weak, steps: 5, warmup: 1, repeats: 3, vary: [], trainArguments: [])
        #expect(throws: (any Error).self) { try ScaleRunner(plan: other, store: store, launch: fake.launcher(plan: other)).run() }
    }

    @Test func failedRunsAreRecordedAndReported() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plan = try ScalePlan(ranks: [1, 2], mode: .strong, steps: 3, warmup: 0, repeats: 2, vary: [], trainArguments: [])
        let store = ScaleStore(directory: dir)
        let fake = FakeLauncher(stepSeconds: { _, _ in 0.01 }, failing: ["1 np2"])
        try ScaleRunner(plan: plan, store: store, launch: fake.launcher(plan: plan)).run()
        let runs = try store.loadRuns()
        #expect(runs.filter { !$0.ok }.map(\.configuration.label) == ["np2"])
        let md = try String(contentsOfFile: try ScaleReport.render(store), encoding: .utf8)
        #expect(md.contains("## Failed runs") && md.contains("round 2, np2: exit 1: Error: injected"))
        #expect(md.contains("1 (+1 failed)"))
        // A configuration with one round and no baseline pairs still draws finite coordinates.
        for plot in ["throughput", "efficiency", "breakdown"] {
            let data = try #require(FileManager.default.contents(atPath: dir + "/plots/\(plot).svg"))
            #expect(SVGValidation.problems(data).isEmpty, "\(plot).svg: \(SVGValidation.problems(data))")
        }
    }
}

@Suite struct SVGChartTests {
    @Test func validatorCatchesWhatRenderersDrop() {
        #expect(!SVGValidation.problems(Data("<svg viewBox=\"0 0 1 1\"><circle cx=\"nan\" cy=\"1\" r=\"2\"/></svg>".utf8)).isEmpty)
        #expect(!SVGValidation.problems(Data("<svg><script/></svg>".utf8)).isEmpty)
        #expect(!SVGValidation.problems(Data("<svg".utf8)).isEmpty)
    }

    @Test func degenerateChartsStayValid() {
        // A single point, a zero series and an empty chart: no division by zero reaches the output.
        let one = SVGChart.lines(title: "t <&>", xLabel: "x", yLabel: "y", series: [SVGSeries(name: "a", points: [(1, 5, (4, 6))])])
        let zero = SVGChart.lines(title: "t", xLabel: "x", yLabel: "y", series: [SVGSeries(name: "z", points: [(1, 0, nil), (2, 0, nil)])])
        let empty = SVGChart.lines(title: "t", xLabel: "x", yLabel: "y", series: [])
        let bars = SVGChart.stackedBars(title: "b", unit: "ms", components: ["a", "b"], bars: [("np1", [0, 0])])
        for svg in [one, zero, empty, bars] { #expect(SVGValidation.problems(Data(svg.utf8)).isEmpty, "\(SVGValidation.problems(Data(svg.utf8)))\n\(svg)") }
    }
}
