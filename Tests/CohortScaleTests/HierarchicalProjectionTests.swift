// The two-level (intra-node, inter-node) allreduce model: its formulas, the inter-node
// fit from one-rank-per-node measurements, and the error table on measured points.
import Foundation
import Testing
@testable import CohortScale

@Suite struct HierarchicalProjectionTests {
    let intra = AllreduceFit(alpha: 1e-6, beta: 0.2e-9, ranks: 2, relativeRMS: 0)
    let inter = AllreduceFit(alpha: 20e-6, beta: 1e-9, ranks: 2, relativeRMS: 0)

    @Test func formulasFollowTheDocs() {
        let m = TwoLevelAllreduce(intra: intra, inter: inter)
        let n = 16 << 20, x = Double(n)
        // 2 nodes × 2 ranks: intra 2·1·α_i + 1·n·β_i; inter 2·1·α_e + 1·n·β_e.
        #expect(abs(m.hierarchicalSeconds(bytes: n, nodes: 2, perNode: 2) - (2e-6 + x * 0.2e-9 + 40e-6 + x * 1e-9)) < 1e-12)
        // Flat ring over 4 ranks at the inter-node link: 6·α_e + 1.5·n·β_e.
        #expect(abs(m.flatSeconds(bytes: n, nodes: 2, perNode: 2) - (120e-6 + 1.5 * x * 1e-9)) < 1e-12)
        // One node: flat is the intra-node ring; one rank per node: hierarchical is the inter-node allreduce.
        #expect(abs(m.flatSeconds(bytes: n, nodes: 1, perNode: 4) - intra.seconds(bytes: n, ranks: 4, messages: 1)) < 1e-15)
        #expect(abs(m.hierarchicalSeconds(bytes: n, nodes: 8, perNode: 1) - inter.seconds(bytes: n, ranks: 8, messages: 1)) < 1e-15)
        // 2 nodes × 8 ranks: flat 1.875·n·β_e against n·β_e + 1.75·n·β_i, about 1.41× the time.
        let ratio = m.flatSeconds(bytes: n, nodes: 2, perNode: 8) / m.hierarchicalSeconds(bytes: n, nodes: 2, perNode: 8)
        #expect(ratio > 1.35 && ratio < 1.45, "\(ratio)")
    }

    /// bench/allreduce-netns.sh --json lines the model itself would produce.
    func lines(_ m: TwoLevelAllreduce, perNode: Int) -> [String] {
        [4096, 1 << 20, 4 << 20, 16 << 20].map { b in
            let h = m.hierarchicalSeconds(bytes: b, nodes: 2, perNode: perNode) * 1e6, f = m.flatSeconds(bytes: b, nodes: 2, perNode: perNode) * 1e6
            return "RESULT {\"workload\": \"allreduce\", \"nodes\": 2, \"ranks_per_node\": \(perNode), \"bytes\": \(b), \"hierarchical_us\": \(h), \"flat_us\": \(f)}"
        }
    }

    @Test func interNodeFitAndErrorTable() throws {
        let truth = TwoLevelAllreduce(intra: intra, inter: inter)
        let measured = lines(truth, perNode: 1) + lines(truth, perNode: 2) + ["noise"]
        let fit = try TwoLevelAllreduce.interNodeFit(measured, path: "x")
        #expect(abs(fit.alpha / inter.alpha - 1) < 1e-6 && abs(fit.beta / inter.beta - 1) < 1e-6, "\(fit)")
        let md = TwoLevelAllreduce(intra: intra, inter: fit).markdown(measured: measured, nodes: [2, 16], perNode: 8, networkGbps: [10, 100],
                                                                      latencySeconds: 10e-6, bucketBytes: 25_000_000)
        #expect(md.contains("| 2 × 2 | 16777216 |") && md.contains("Largest error on the measured points: 0.0 %"), "\(md)")
        #expect(md.contains("| 16 | "), "\(md)")
        // Only multi-rank-per-node points are checked; without one-rank-per-node points there is no fit.
        #expect(!md.contains("| 2 × 1 |"))
        #expect(throws: (any Error).self) { try TwoLevelAllreduce.interNodeFit(lines(truth, perNode: 2), path: "y") }
    }
}
