// The hierarchical allreduce in the projection: two latency–bandwidth fits, one inside
// a node (the machine's own `cohort bench allreduce`, shared memory) and one across
// nodes (one rank per node over the network), predict a flat ring over N nodes × L ranks
// and the hierarchical form (node-local reduce-scatter and allgather, L cross-node
// allreduces of n/L bytes sharing each node's link). Checked against measured
// hierarchical-vs-flat points (bench/allreduce-netns.sh --json); docs/scaling.md.
import CohortCore
import Foundation

/// A two-level (intra-node, inter-node) model of flat and hierarchical allreduce.
public struct TwoLevelAllreduce: Sendable {
    /// Inside one node (shared memory) and between nodes (the network, one rank per node).
    public var intra: AllreduceFit, inter: AllreduceFit

    public init(intra: AllreduceFit, inter: AllreduceFit) { self.intra = intra; self.inter = inter }

    /// Hierarchical allreduce of `bytes` over `nodes` × `perNode` ranks: reduce-scatter and allgather
    /// inside the node, 2(L−1)·α_i + 2(L−1)/L·n·β_i, plus L concurrent allreduces of n/L bytes across
    /// the nodes, which share the node's link: 2(N−1)·α_e + 2(N−1)/N·n·β_e.
    public func hierarchicalSeconds(bytes n: Int, nodes: Int, perNode: Int) -> Double {
        let l = Double(perNode), x = Double(n)
        let local = perNode > 1 ? 2 * (l - 1) * intra.alpha + 2 * (l - 1) / l * x * intra.beta : 0
        return local + inter.seconds(bytes: n, ranks: nodes, messages: 1)
    }

    /// A flat ring over all `nodes` × `perNode` ranks placed node by node: 2(p−1) steps of n/p bytes,
    /// each as slow as its slowest link — the one leaving a node when there are several nodes.
    public func flatSeconds(bytes n: Int, nodes: Int, perNode: Int) -> Double {
        let link = nodes > 1 ? inter : intra
        return link.seconds(bytes: n, ranks: nodes * perNode, messages: 1)
    }

    /// Measured points of `bench/allreduce-netns.sh --json` (`RESULT {"nodes", "ranks_per_node", "bytes",
    /// "hierarchical_us", "flat_us"}`) of at least `minimumBytes`.
    public static func measuredPoints(_ lines: [String], minimumBytes: Int) -> [(nodes: Int, perNode: Int, bytes: Int, hierarchical: Double, flat: Double)] {
        lines.compactMap { line in
            let text = line.hasPrefix("RESULT ") ? String(line.dropFirst(7)) : line
            guard let o = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  let nodes = o["nodes"] as? Int, let l = o["ranks_per_node"] as? Int, let b = o["bytes"] as? Int,
                  let h = o["hierarchical_us"] as? Double, let f = o["flat_us"] as? Double, b >= minimumBytes else { return nil }
            return (nodes, l, b, h * 1e-6, f * 1e-6)
        }
    }

    /// The inter-node fit: the flat times of the one-rank-per-node points in `lines`.
    /// - Throws: `CohortError.badFile` when fewer than two such points of ≥ `minimumBytes` are found.
    public static func interNodeFit(_ lines: [String], path: String, minimumBytes: Int = 4096) throws -> AllreduceFit {
        let single = measuredPoints(lines, minimumBytes: minimumBytes).filter { $0.perNode == 1 && $0.nodes >= 2 }
        let asBench = single.map { "{\"workload\": \"allreduce\", \"bytes\": \($0.bytes), \"wrapper_us\": \($0.flat * 1e6), \"ranks\": \($0.nodes)}" }
        guard asBench.count >= 2 else {
            throw CohortError.badFile(path: path, "needs bench/allreduce-netns.sh --json results at one rank per node (HOSTS 1 rank each) of ≥ \(minimumBytes) bytes")
        }
        return try AllreduceFit.fit(benchLines: asBench, path: path, minimumBytes: minimumBytes)
    }

    /// The model's section of projection.md: its error on every measured multi-rank-per-node point
    /// of ≥ 1 MiB (hierarchical and flat), then predicted times of a `bucketBytes` allreduce at
    /// `nodes` × `perNode` ranks for each network speed.
    public func markdown(measured lines: [String], nodes: [Int], perNode: Int, networkGbps: [Double], latencySeconds: Double,
                         bucketBytes: Int) -> String {
        var md = "\n## Hierarchical allreduce\n\n"
        md += String(format: "Two-level model: inside a node α = %.2f µs, β = %.3f ns/byte (the all-reduce fit above); between nodes "
                     + "α = %.2f µs, β = %.3f ns/byte (%.2f GB/s), fitted to %d-node, one-rank-per-node flat times (%.1f %% RMS). "
                     + "Hierarchical = 2(L−1)·α_i + 2(L−1)/L·n·β_i + 2(N−1)·α_e + 2(N−1)/N·n·β_e; flat ring over N·L ranks = "
                     + "2(NL−1)·α_e + 2(NL−1)/(NL)·n·β_e.\n\n",
                     intra.alpha * 1e6, intra.beta * 1e9, inter.alpha * 1e6, inter.beta * 1e9, 1 / max(inter.beta, 1e-30) / 1e9,
                     inter.ranks, inter.relativeRMS * 100)
        let points = TwoLevelAllreduce.measuredPoints(lines, minimumBytes: 1 << 20).filter { $0.perNode > 1 }
        if !points.isEmpty {
            md += "| layout | bytes | hierarchical µs measured | predicted | error | flat µs measured | predicted | error |\n|---|---|---|---|---|---|---|---|\n"
            var worst = 0.0
            for p in points {
                let h = hierarchicalSeconds(bytes: p.bytes, nodes: p.nodes, perNode: p.perNode)
                let f = flatSeconds(bytes: p.bytes, nodes: p.nodes, perNode: p.perNode)
                let eh = h / p.hierarchical - 1, ef = f / p.flat - 1
                worst = max(worst, abs(eh), abs(ef))
                md += String(format: "| %d × %d | %d | %.0f | %.0f | %+.1f %% | %.0f | %.0f | %+.1f %% |\n", p.nodes, p.perNode, p.bytes,
                             p.hierarchical * 1e6, h * 1e6, eh * 100, p.flat * 1e6, f * 1e6, ef * 100)
            }
            md += String(format: "\nLargest error on the measured points: %.1f %%.\n", worst * 100)
        }
        md += String(format: "\n### Predicted %g MB allreduce, %d ranks per node, %.0f µs latency: flat ÷ hierarchical time\n\n",
                     Double(bucketBytes) / 1e6, perNode, latencySeconds * 1e6)
        md += "| nodes | " + networkGbps.map { String(format: "%g Gb/s", $0) }.joined(separator: " | ") + " |\n"
        md += "|---|" + networkGbps.map { _ in "---" }.joined(separator: "|") + "|\n"
        for n in nodes {
            let cells = networkGbps.map { g -> String in
                let net = TwoLevelAllreduce(intra: intra, inter: AllreduceFit(alpha: latencySeconds, beta: 8 / (g * 1e9), ranks: n, relativeRMS: 0))
                let h = net.hierarchicalSeconds(bytes: bucketBytes, nodes: n, perNode: perNode)
                let f = net.flatSeconds(bytes: bucketBytes, nodes: n, perNode: perNode)
                return String(format: "%.2f (%.1f vs %.1f ms)", f / h, f * 1e3, h * 1e3)
            }
            md += "| \(n) | " + cells.joined(separator: " | ") + " |\n"
        }
        return md
    }
}
