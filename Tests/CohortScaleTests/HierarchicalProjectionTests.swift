// The two-level (intra-node, inter-node) allreduce model: Open MPI 4.1's algorithm choice,
// the step-by-step costs of its algorithms on ranks placed node by node, the fits from the
// 2-rank layouts and the per-point error table on the layouts it was not fitted on.
import Foundation
import Testing
@testable import CohortScale

@Suite struct HierarchicalProjectionTests {
    let intra = AllreduceFit(alpha: 1e-6, beta: 0.2e-9, ranks: 2, relativeRMS: 0)
    let inter = AllreduceFit(alpha: 20e-6, beta: 1e-9, ranks: 2, relativeRMS: 0)

    @Test func openMPIChoiceMatchesTheTrace() {
        // bench/ompi-allreduce-algorithms.sh on Open MPI 4.1.4 (float sum).
        typealias A = MPIAllreduceAlgorithm
        for b in [8192, 65536, 1 << 20, 64 << 20] { #expect(A.openMPI41(ranks: 4, bytes: b) == .rabenseifner) }
        #expect(A.openMPI41(ranks: 4, bytes: 4096) == .recursiveDoubling)
        #expect(A.openMPI41(ranks: 4, bytes: 8) == .recursiveDoubling)  // a ring of 2 floats over 4 ranks falls back
        #expect(A.openMPI41(ranks: 2, bytes: 4096) == .ring)
        #expect(A.openMPI41(ranks: 2, bytes: 8192) == .recursiveDoubling)
        #expect(A.openMPI41(ranks: 2, bytes: 65536) == .segmentedRing)
        #expect(A.openMPI41(ranks: 2, bytes: 262_144) == .rabenseifner)
        #expect(A.openMPI41(ranks: 256, bytes: 1024) == .reduceBroadcast)
    }

    @Test func stepCostsFollowThePlacement() {
        let m = TwoLevelAllreduce(intra: intra, inter: inter)
        let n = 16 << 20, x = Double(n)
        // Rabenseifner on 2 × 2: halves of n/2 inside the host, quarters across it with both ranks of a host
        // sharing the link — the same bytes as the hierarchical form's stages, so the same time.
        let flat = 2 * (1e-6 + x / 2 * 0.2e-9) + 2 * (20e-6 + 2 * x / 4 * 1e-9)
        #expect(abs(m.flatSeconds(bytes: n, nodes: 2, perNode: 2) - flat) < 1e-12)
        #expect(abs(m.hierarchicalSeconds(bytes: n, nodes: 2, perNode: 2) - flat) < 1e-12)
        // The 2-rank layouts are the fits' own form: 2α + n·β.
        #expect(abs(m.flatSeconds(bytes: n, nodes: 2, perNode: 1) - (40e-6 + x * 1e-9)) < 1e-12)
        #expect(abs(m.flatSeconds(bytes: n, nodes: 1, perNode: 2) - (2e-6 + x * 0.2e-9)) < 1e-12)
        // A ring over 2 × 2: 6 steps of n/4, each as slow as the one crossing (one rank per host crosses).
        #expect(abs(m.seconds(.ring, bytes: n, nodes: 2, perNode: 2) - 6 * (20e-6 + x / 4 * 1e-9)) < 1e-12)
        // 3 nodes × 1: ranks 0 and 1 fold the whole buffer before and after a 2-rank Rabenseifner.
        #expect(abs(m.seconds(.rabenseifner, bytes: n, nodes: 3, perNode: 1) - (2 * (20e-6 + x * 1e-9) + 2 * (20e-6 + x / 2 * 1e-9))) < 1e-12)
        // Recursive doubling on 2 × 2: the whole buffer once inside, once across (two ranks per link).
        #expect(abs(m.seconds(.recursiveDoubling, bytes: n, nodes: 2, perNode: 2) - ((1e-6 + x * 0.2e-9) + (20e-6 + 2 * x * 1e-9))) < 1e-12)
        // The hierarchical form's own node-local stages, when fitted apart, replace the intra-node link there only.
        let staged = TwoLevelAllreduce(intra: intra, inter: inter, stages: AllreduceFit(alpha: 3e-6, beta: 0.5e-9, ranks: 2, relativeRMS: 0))
        #expect(abs(staged.hierarchicalSeconds(bytes: n, nodes: 2, perNode: 2) - (2 * (3e-6 + x / 2 * 0.5e-9) + 2 * (20e-6 + 2 * x / 4 * 1e-9))) < 1e-12)
        #expect(abs(staged.flatSeconds(bytes: n, nodes: 2, perNode: 2) - flat) < 1e-12)
    }

    /// bench/allreduce-netns.sh --json lines at `nodes` × `perNode` that `truth` would produce, flat times scaled by `slow`.
    func lines(_ truth: TwoLevelAllreduce, nodes: Int, perNode: Int, slow: Double = 1) -> [String] {
        [65536, 1 << 20, 4 << 20, 16 << 20, 64 << 20].map { b in
            let h = truth.hierarchicalSeconds(bytes: b, nodes: nodes, perNode: perNode) * 1e6
            let f = truth.flatSeconds(bytes: b, nodes: nodes, perNode: perNode) * 1e6 * slow
            return "RESULT {\"workload\": \"allreduce\", \"nodes\": \(nodes), \"ranks_per_node\": \(perNode), \"bytes\": \(b), "
                + "\"hierarchical_us\": \(h), \"flat_us\": \(f), \"load_avg_start\": \"0.10 0.20 0.30\", \"load_avg_end\": \"0.40 0.50 0.60\"}"
        }
    }

    @Test func fitsFromTwoRankLayoutsAndChecksTheRest() throws {
        let truth = TwoLevelAllreduce(intra: intra, inter: inter)
        let points = MeasuredAllreduce.parse(lines(truth, nodes: 2, perNode: 1) + lines(truth, nodes: 1, perNode: 2)
                                             + lines(truth, nodes: 2, perNode: 2) + ["noise"])
        #expect(points.count == 15 && points[0].load == "0.10 0.20 0.30 → 0.40 0.50 0.60")
        let local = AllreduceFit(alpha: 9e-6, beta: 9e-9, ranks: 2, relativeRMS: 0)
        let (model, fromPoints) = try TwoLevelAllreduce.fitted(points, local: local, path: "x", minimumBytes: 1 << 20)
        #expect(fromPoints)
        #expect(abs(model.inter.alpha / inter.alpha - 1) < 1e-6 && abs(model.inter.beta / inter.beta - 1) < 1e-6, "\(model.inter)")
        #expect(abs(model.intra.alpha / intra.alpha - 1) < 1e-6 && abs(model.intra.beta / intra.beta - 1) < 1e-6, "\(model.intra)")
        #expect(abs((model.stages?.beta ?? 0) / intra.beta - 1) < 1e-6, "the truth's 1 × 2 hierarchical stages cost its intra link")
        let md = model.markdown(measured: points, source: "x.jsonl", intraFromPoints: fromPoints, nodes: [2, 16], perNode: 8,
                                networkGbps: [10, 100], latencySeconds: 10e-6, bucketBytes: 25_000_000, minimumBytes: 1 << 20)
        #expect(md.contains("| 2 × 2 | check | 16777216 | Rabenseifner |"), "\(md)")
        #expect(md.contains("| 2 × 1 | fit | 16777216 |") && md.contains("| 1 × 2 | fit | 1048576 |"), "\(md)")
        #expect(md.contains("0.10 0.20 0.30 → 0.40 0.50 0.60"), "\(md)")
        #expect(md.contains("Largest error on the check points (predicted, not fitted): 0.0 % — the ≤ 15 % target is met."), "\(md)")
        #expect(!md.contains("| 65536 |"), "below the minimum size")
        #expect(md.contains("| 16 | Rabenseifner | "), "\(md)")
        // Without 1 × 2 points the intra-node link is this machine's own fit; without 2 × 1 there is no model.
        let noIntra = points.filter { $0.nodes != 1 }
        let (fallback, used) = try TwoLevelAllreduce.fitted(noIntra, local: local, path: "x", minimumBytes: 1 << 20)
        #expect(!used && fallback.intra == local && fallback.stages == nil)
        #expect(throws: (any Error).self) { try TwoLevelAllreduce.fitted(points.filter { $0.perNode != 1 }, local: local, path: "y", minimumBytes: 1 << 20) }
    }

    @Test func reportsAMissedTargetPerPoint() throws {
        let truth = TwoLevelAllreduce(intra: intra, inter: inter)
        // The 2 × 2 flat allreduce runs 1.3× slower than the 2-rank layouts predict.
        let points = MeasuredAllreduce.parse(lines(truth, nodes: 2, perNode: 1) + lines(truth, nodes: 1, perNode: 2)
                                             + lines(truth, nodes: 2, perNode: 2, slow: 1.3))
        let (model, _) = try TwoLevelAllreduce.fitted(points, local: intra, path: "x", minimumBytes: 1 << 20)
        let (rows, worst) = model.errors(points, minimumBytes: 1 << 20)
        #expect(rows.count == 12 && rows.filter { $0.check }.count == 4)
        #expect(abs((worst ?? 0) - (1 - 1 / 1.3)) < 1e-6, "\(String(describing: worst))")
        let md = model.markdown(measured: points, source: "x", intraFromPoints: true, nodes: [2], perNode: 2, networkGbps: [10],
                                latencySeconds: 10e-6, bucketBytes: 1 << 20, minimumBytes: 1 << 20)
        #expect(md.contains("-23.1 %") && md.contains("target is not met"), "\(md)")
        // With the 2-rank times at each size the composition reproduces the truth's hierarchical time exactly.
        let exact = try #require(TwoLevelAllreduce.atSize(points, bytes: 16 << 20))
        let p = try #require(points.first { $0.nodes == 2 && $0.perNode == 2 && $0.bytes == 16 << 20 })
        #expect(abs(exact.hierarchicalSeconds(bytes: p.bytes, nodes: 2, perNode: 2) / p.hierarchical - 1) < 1e-9)
        #expect(md.contains("own times at each size"), "\(md)")
        #expect(TwoLevelAllreduce.atSize(points, bytes: 12345) == nil)
    }
}
