// The projection's pieces: the alpha-beta fit recovers known parameters from
// benchmark lines, the step model behaves as its formula says (ring all-reduce,
// bucket latency, overlap with backward), and the markdown reports the error on
// the measured points.
import Foundation
import Testing
@testable import CohortScale

@Suite struct ProjectionTests {
    /// `cohort bench allreduce --json` lines for a ring of `ranks` with the given α and β.
    func benchLines(alpha: Double, beta: Double, ranks: Int) -> [String] {
        let p = Double(ranks)
        return [4096, 65536, 1 << 20, 4 << 20, 16 << 20].map { n in
            let seconds = 2 * (p - 1) * alpha + 2 * (p - 1) / p * Double(n) * beta
            return "RESULT {\"workload\":\"allreduce\",\"bytes\":\(n),\"ranks\":\(ranks),\"wrapper_us\":\(seconds * 1e6),\"raw_us\":1}"
        } + ["RESULT {\"workload\":\"allreduce\",\"bytes\":4,\"ranks\":\(ranks),\"wrapper_us\":0.3,\"raw_us\":0.3}", "noise"]
    }

    @Test func fitRecoversAlphaAndBeta() throws {
        let fit = try AllreduceFit.fit(benchLines: benchLines(alpha: 2e-6, beta: 1e-10, ranks: 2), path: "x")
        #expect(abs(fit.alpha / 2e-6 - 1) < 1e-6 && abs(fit.beta / 1e-10 - 1) < 1e-6 && fit.relativeRMS < 1e-9)
        let four = try AllreduceFit.fit(benchLines: benchLines(alpha: 5e-6, beta: 2e-10, ranks: 4), path: "x")
        #expect(abs(four.alpha / 5e-6 - 1) < 1e-6 && abs(four.beta / 2e-10 - 1) < 1e-6)
        #expect(throws: (any Error).self) { try AllreduceFit.fit(benchLines: ["noise"], path: "bench.jsonl") }
    }

    @Test func stepModelFollowsItsFormula() {
        let net = AllreduceFit(alpha: 10e-6, beta: 8 / 10e9, ranks: 0, relativeRMS: 0)   // 10 Gb/s
        let weak = StepModel(computeSeconds: 0.030, batch: 256, mode: .weak, gradientBytes: 8_000_000)
        // 1 rank: compute only.
        #expect(abs(weak.stepSeconds(ranks: 1, network: net, bucketBytes: 25_000_000) - 0.030) < 1e-12)
        // One 8 MB bucket at 8 ranks: 2·7/8·8e6·0.8e-9 + 2·7·10e-6 = 11.34 ms, not hidden (a single bucket
        // is also the last), plus the agreement 2·3·10 µs.
        let one = weak.stepSeconds(ranks: 8, network: net, bucketBytes: 25_000_000)
        #expect(abs(one - (0.030 + 0.0112 + 0.00014 + 0.00006)) < 1e-9)
        // Eight 1 MB buckets: all but the last hide behind 20 ms of backward.
        let bucketed = weak.stepSeconds(ranks: 8, network: net, bucketBytes: 1_000_000)
        #expect(bucketed < one)
        // Faster links and fewer ranks help; efficiency falls with ranks.
        let fast = AllreduceFit(alpha: 10e-6, beta: 8 / 100e9, ranks: 0, relativeRMS: 0)
        #expect(weak.throughput(ranks: 64, network: fast, bucketBytes: 25_000_000) > weak.throughput(ranks: 64, network: net, bucketBytes: 25_000_000))
        let e = [8, 64, 512].map { weak.throughput(ranks: $0, network: net, bucketBytes: 25_000_000) / (Double($0) * weak.throughput(ranks: 1, network: net, bucketBytes: 25_000_000)) }
        #expect(e[0] > e[1] && e[1] > e[2] && e[0] < 1)
        // Strong scaling divides compute by the ranks; oversubscription multiplies it.
        let strong = StepModel(computeSeconds: 0.030, batch: 256, mode: .strong, gradientBytes: 0)
        #expect(abs(strong.stepSeconds(ranks: 2, network: net, bucketBytes: 1, oversubscription: 2) - (0.030 + 20e-6 + 20e-6)) < 1e-9, "a 0-byte all-reduce still costs its latency")
    }
}
