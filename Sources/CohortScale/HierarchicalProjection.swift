// The hierarchical allreduce in the projection: two latency–bandwidth fits, one inside a
// node (2 ranks on one host) and one across nodes (one rank per node over the network),
// price Open MPI's own flat algorithm (MPIAllreduceAlgorithm) and the hierarchical form
// (node-local reduce-scatter and allgather around L cross-node allreduces of n/L bytes that
// share each node's link). The fits never see the multi-rank-per-node points the model is
// checked on (bench/allreduce-netns.sh --json); docs/scaling.md has figures.
import CohortCore
import Foundation

/// One measured size of `bench/allreduce-netns.sh --json`: median seconds of both forms.
public struct MeasuredAllreduce: Sendable, Equatable {
    public var nodes: Int, perNode: Int, bytes: Int
    /// Median seconds of the hierarchical allreduce and of flat `MPI_Allreduce`.
    public var hierarchical: Double, flat: Double
    /// The load average (1, 5, 15 min) before and after the measurement, when recorded.
    public var load: String

    public init(nodes: Int, perNode: Int, bytes: Int, hierarchical: Double, flat: Double, load: String = "") {
        self.nodes = nodes; self.perNode = perNode; self.bytes = bytes; self.hierarchical = hierarchical; self.flat = flat; self.load = load
    }

    /// Parses `RESULT {"nodes", "ranks_per_node", "bytes", "hierarchical_us", "flat_us", …}` lines; skips others.
    public static func parse(_ lines: [String]) -> [MeasuredAllreduce] {
        lines.compactMap { line in
            let text = line.hasPrefix("RESULT ") ? String(line.dropFirst(7)) : line
            guard let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  let nodes = o["nodes"] as? Int, let l = o["ranks_per_node"] as? Int, let b = o["bytes"] as? Int,
                  let h = o["hierarchical_us"] as? Double, let f = o["flat_us"] as? Double else { return nil }
            let load = [o["load_avg_start"], o["load_avg_end"]].compactMap { $0 as? String }.joined(separator: " → ")
            return MeasuredAllreduce(nodes: nodes, perNode: l, bytes: b, hierarchical: h * 1e-6, flat: f * 1e-6, load: load)
        }
    }
}

/// A two-level (intra-node, inter-node) model of flat and hierarchical allreduce.
public struct TwoLevelAllreduce: Sendable {
    /// Inside one node (shared memory) and between nodes (the network, one rank per node): the cost
    /// of a 2-rank allreduce of n bytes is 2α + n·β, so one exchange step of m bytes costs α + m·β.
    public var intra: AllreduceFit, inter: AllreduceFit
    /// The hierarchical form's own node-local stages (reduce-scatter, allgather; Open MPI picks their
    /// algorithms, and they copy through a scratch block), fitted to its 1 host × 2 ranks times; nil: `intra`.
    public var stages: AllreduceFit?

    public init(intra: AllreduceFit, inter: AllreduceFit, stages: AllreduceFit? = nil) { self.intra = intra; self.inter = inter; self.stages = stages }

    /// Hierarchical allreduce of `bytes` over `nodes` × `perNode` ranks: reduce-scatter and allgather
    /// inside the node, 2(L−1)·(α_i + n/L·β_i), around L concurrent cross-node allreduces of n/L bytes
    /// (Open MPI's algorithm for N ranks and n/L bytes), which share the node's link.
    public func hierarchicalSeconds(bytes n: Int, nodes: Int, perNode: Int) -> Double {
        let l = Double(perNode), x = Double(n), node = stages ?? intra
        let local = perNode > 1 ? 2 * (l - 1) * (node.alpha + x / l * node.beta) : 0
        guard nodes > 1 else { return local }
        let block = (n + perNode - 1) / perNode
        return local + seconds(MPIAllreduceAlgorithm.openMPI41(ranks: nodes, bytes: block), bytes: block, nodes: nodes, perNode: 1, share: perNode)
    }

    /// Flat `MPI_Allreduce` over all `nodes` × `perNode` ranks placed node by node: the algorithm Open
    /// MPI 4.1 picks for that many ranks and bytes (`MPIAllreduceAlgorithm.openMPI41`).
    public func flatSeconds(bytes n: Int, nodes: Int, perNode: Int) -> Double {
        seconds(MPIAllreduceAlgorithm.openMPI41(ranks: nodes * perNode, bytes: n), bytes: n, nodes: nodes, perNode: perNode)
    }

    /// Fits α and β to the flat (or `hierarchical`) times of the `nodes` × `perNode` points of ≥ `minimumBytes` (both
    /// 2-rank layouts: 2 × 1 across the network, 1 × 2 inside a host). - Throws: `CohortError.badFile` with fewer than two points.
    public static func fit(_ points: [MeasuredAllreduce], nodes: Int, perNode: Int, path: String, minimumBytes: Int,
                           hierarchical: Bool = false) throws -> AllreduceFit {
        let asBench = points.filter { $0.nodes == nodes && $0.perNode == perNode && $0.bytes >= minimumBytes }
            .map { "{\"workload\": \"allreduce\", \"bytes\": \($0.bytes), \"wrapper_us\": \((hierarchical ? $0.hierarchical : $0.flat) * 1e6), \"ranks\": \(nodes * perNode)}" }
        guard asBench.count >= 2 else {
            throw CohortError.badFile(path: path, "needs bench/allreduce-netns.sh --json results at \(nodes) host(s) × \(perNode) rank(s) of ≥ \(minimumBytes) bytes")
        }
        return try AllreduceFit.fit(benchLines: asBench, path: path, minimumBytes: minimumBytes)
    }

    /// The model from `points`: inter-node from the 2 × 1 points, intra-node from the 1 × 2 points' flat times and
    /// the hierarchical stages from their hierarchical times, or `local` (this machine's `cohort bench allreduce`)
    /// when there are none. Returns whether 1 × 2 points were used.
    /// - Throws: `CohortError.badFile` without two 2 × 1 points of ≥ `minimumBytes`.
    public static func fitted(_ points: [MeasuredAllreduce], local: AllreduceFit, path: String, minimumBytes: Int) throws -> (model: TwoLevelAllreduce, intraFromPoints: Bool) {
        let inter = try fit(points, nodes: 2, perNode: 1, path: path, minimumBytes: minimumBytes)
        let intra = try? fit(points, nodes: 1, perNode: 2, path: path, minimumBytes: minimumBytes)
        let stages = try? fit(points, nodes: 1, perNode: 2, path: path, minimumBytes: minimumBytes, hierarchical: true)
        return (TwoLevelAllreduce(intra: intra ?? local, inter: inter, stages: stages), intra != nil)
    }

    /// The model's error on every point of ≥ `minimumBytes`: fit points (2 ranks) show the fits' residuals, check
    /// points (several nodes × several ranks, never fitted) are predictions. Largest absolute check error.
    public func errors(_ points: [MeasuredAllreduce], minimumBytes: Int) -> (rows: [(point: MeasuredAllreduce, check: Bool, hierarchical: Double, flat: Double)], worstCheck: Double?) {
        let rows = points.filter { $0.bytes >= minimumBytes }.map { p in
            (point: p, check: p.nodes > 1 && p.perNode > 1,
             hierarchical: hierarchicalSeconds(bytes: p.bytes, nodes: p.nodes, perNode: p.perNode),
             flat: flatSeconds(bytes: p.bytes, nodes: p.nodes, perNode: p.perNode))
        }
        let checks = rows.filter { $0.check }.flatMap { [abs($0.hierarchical / $0.point.hierarchical - 1), abs($0.flat / $0.point.flat - 1)] }
        return (rows, checks.max())
    }

    /// The model with the 2-rank layouts' own median times at `bytes` as its links (α = 0, β = time ÷ bytes), so
    /// that it reproduces them exactly at that size: what is left of a check point's error is the composition's,
    /// not the straight lines'. Nil when `points` lack a 2 × 1 or 1 × 2 point of that size.
    public static func atSize(_ points: [MeasuredAllreduce], bytes: Int) -> TwoLevelAllreduce? {
        func at(_ n: Int, _ l: Int) -> MeasuredAllreduce? { points.first { $0.nodes == n && $0.perNode == l && $0.bytes == bytes } }
        guard let e = at(2, 1), let i = at(1, 2), bytes > 0 else { return nil }
        let link = { (t: Double) in AllreduceFit(alpha: 0, beta: t / Double(bytes), ranks: 2, relativeRMS: 0) }
        return TwoLevelAllreduce(intra: link(i.flat), inter: link(e.flat), stages: link(i.hierarchical))
    }

    /// The model's section of projection.md: its fits, its error per measured point of ≥ `minimumBytes`
    /// (against the ≤ 15 % target on the check points), then predicted flat ÷ hierarchical time of a
    /// `bucketBytes` allreduce at `nodes` × `perNode` ranks for each network speed.
    public func markdown(measured points: [MeasuredAllreduce], source: String, intraFromPoints: Bool, nodes: [Int], perNode: Int,
                         networkGbps: [Double], latencySeconds: Double, bucketBytes: Int, minimumBytes: Int) -> String {
        var md = "\n## Hierarchical allreduce (\(source))\n\n"
        let node = stages ?? intra
        md += String(format: "Two-level model: inside a node α = %.2f µs, β = %.3f ns/byte (%@ flat, %.1f %% RMS); the hierarchical "
                     + "form's node-local stages α = %.2f µs, β = %.3f ns/byte (%.1f %% RMS); between nodes α = %.2f µs, β = %.3f ns/byte "
                     + "(2 hosts × 1 rank, %.1f %% RMS); all fitted on ≥ %d bytes. A step exchanging m bytes costs α + m·β of its link, "
                     + "α_e + c·m·β_e when c ranks of a node cross at once. Flat: the algorithm Open MPI 4.1 picks (coll/tuned fixed "
                     + "rules); hierarchical: 2(L−1)·(α_s + n/L·β_s) + Open MPI's allreduce of n/L bytes over the N nodes, L at once "
                     + "on every node's link.\n\n",
                     intra.alpha * 1e6, intra.beta * 1e9, intraFromPoints ? "1 host × 2 ranks" : "this machine's 2-rank `cohort bench allreduce`",
                     intra.relativeRMS * 100, node.alpha * 1e6, node.beta * 1e9, node.relativeRMS * 100,
                     inter.alpha * 1e6, inter.beta * 1e9, inter.relativeRMS * 100, minimumBytes)
        let (rows, worst) = errors(points, minimumBytes: minimumBytes)
        if !rows.isEmpty {
            md += "| layout | role | bytes | flat algorithm | hierarchical µs measured | predicted | error | flat µs measured | predicted | error | load |\n"
            md += "|---|---|---|---|---|---|---|---|---|---|---|\n"
            for r in rows {
                let p = r.point
                let alg = MPIAllreduceAlgorithm.openMPI41(ranks: p.nodes * p.perNode, bytes: p.bytes).rawValue
                md += String(format: "| %d × %d | %@ | %d | %@ | %.0f | %.0f | %+.1f %% | %.0f | %.0f | %+.1f %% | %@ |\n", p.nodes, p.perNode,
                             r.check ? "check" : "fit", p.bytes, alg, p.hierarchical * 1e6, r.hierarchical * 1e6,
                             (r.hierarchical / p.hierarchical - 1) * 100, p.flat * 1e6, r.flat * 1e6, (r.flat / p.flat - 1) * 100, p.load)
            }
            if let worst {
                md += String(format: "\nLargest error on the check points (predicted, not fitted): %.1f %% — the ≤ 15 %% target is %@.\n",
                             worst * 100, worst <= 0.15 ? "met" : "not met")
            } else {
                md += "\nNo check points (several hosts × several ranks) of this size: the model is not checked.\n"
            }
            let same = rows.filter { $0.check }.compactMap { r in TwoLevelAllreduce.atSize(points, bytes: r.point.bytes).map { (r.point, $0) } }
            if !same.isEmpty {
                md += "\nThe same check points with the 2-rank layouts' own times at each size instead of the fitted lines "
                    + "(the error left is the composition's):\n\n| layout | bytes | hierarchical predicted µs | error | flat predicted µs | error |\n|---|---|---|---|---|---|\n"
                for (p, m) in same {
                    let h = m.hierarchicalSeconds(bytes: p.bytes, nodes: p.nodes, perNode: p.perNode), f = m.flatSeconds(bytes: p.bytes, nodes: p.nodes, perNode: p.perNode)
                    md += String(format: "| %d × %d | %d | %.0f | %+.1f %% | %.0f | %+.1f %% |\n", p.nodes, p.perNode, p.bytes,
                                 h * 1e6, (h / p.hierarchical - 1) * 100, f * 1e6, (f / p.flat - 1) * 100)
                }
            }
        }
        md += String(format: "\n### Predicted %g MB allreduce, %d ranks per node, %.0f µs latency: flat ÷ hierarchical time\n\n",
                     Double(bucketBytes) / 1e6, perNode, latencySeconds * 1e6)
        md += "| nodes | flat algorithm | " + networkGbps.map { String(format: "%g Gb/s", $0) }.joined(separator: " | ") + " |\n"
        md += "|---|---|" + networkGbps.map { _ in "---" }.joined(separator: "|") + "|\n"
        for n in nodes {
            let cells = networkGbps.map { g -> String in
                let net = TwoLevelAllreduce(intra: intra, inter: AllreduceFit(alpha: latencySeconds, beta: 8 / (g * 1e9), ranks: 2, relativeRMS: 0), stages: stages)
                let h = net.hierarchicalSeconds(bytes: bucketBytes, nodes: n, perNode: perNode)
                let f = net.flatSeconds(bytes: bucketBytes, nodes: n, perNode: perNode)
                return String(format: "%.2f (%.1f vs %.1f ms)", f / h, f * 1e3, h * 1e3)
            }
            md += "| \(n) | \(MPIAllreduceAlgorithm.openMPI41(ranks: n * perNode, bytes: bucketBytes).rawValue) | " + cells.joined(separator: " | ") + " |\n"
        }
        return md
    }
}
