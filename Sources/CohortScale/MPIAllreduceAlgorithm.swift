// Which allreduce Open MPI actually runs, and what it costs on ranks placed node by node.
// Open MPI 4.1's tuned collective component picks an algorithm from fixed rules on the
// communicator size and the message size; a flat MPI_Allreduce over 2 × 2 ranks is
// Rabenseifner's, not a ring (traced with gdb: bench/ompi-allreduce-algorithms.sh). The
// cost walks the algorithm's exchanges step by step, so a step that crosses nodes pays the
// inter-node link, shared by every rank of the node that crosses at the same time.
import Foundation

/// An allreduce algorithm of Open MPI's tuned collective component (coll/tuned).
public enum MPIAllreduceAlgorithm: String, Sendable, CaseIterable {
    case recursiveDoubling = "recursive doubling"
    case ring = "ring"
    case segmentedRing = "segmented ring"
    /// Recursive-halving reduce-scatter, then recursive-doubling allgather (`redscat_allgather`).
    case rabenseifner = "Rabenseifner"
    /// A reduce to rank 0, then a broadcast (`nonoverlapping`).
    case reduceBroadcast = "reduce + broadcast"

    /// Open MPI 4.1's fixed choice for a commutative reduction (a float sum) of `bytes` over `ranks`
    /// ranks, in elements of `elementSize` bytes (a ring needs at least one element per rank, else it
    /// runs recursive doubling). Traced on this machine at 2 and 4 ranks, 4 B … 64 MiB.
    public static func openMPI41(ranks: Int, bytes: Int, elementSize: Int = 4) -> MPIAllreduceAlgorithm {
        // (ranks below, [(bytes below, algorithm)], algorithm above the last size): the decision
        // table of coll_tuned_decision_fixed.c, commutative branch.
        let rd = recursiveDoubling, sr = segmentedRing, rb = rabenseifner, nb = reduceBroadcast
        let rules: [(Int, [(Int, MPIAllreduceAlgorithm)])] = [
            (4, [(8, .ring), (4096, rd), (8192, .ring), (16384, rd), (65536, .ring), (262_144, sr)]),
            (8, [(16, .ring), (8192, rd)]),
            (16, [(8192, rd)]),
            (32, [(64, sr), (4096, rd)]),
            (64, [(128, sr)]),
            (128, [(262_144, rd)]),
            (256, [(131_072, nb), (262_144, rd)]),
            (512, [(4096, nb)]),
            (2048, [(2048, nb), (16384, rd)]),
            (4096, [(2048, nb), (4096, sr), (16384, rd)]),
            (Int.max, [(2048, nb), (16384, sr), (32768, rd)]),
        ]
        let sizes = rules.first { ranks < $0.0 }?.1 ?? []
        let chosen = sizes.first { bytes < $0.0 }?.1 ?? rb
        if (chosen == .ring || chosen == .segmentedRing) && bytes / max(elementSize, 1) < ranks { return rd }
        return chosen
    }
}

extension TwoLevelAllreduce {
    /// Seconds of `algorithm` for `bytes` over `nodes` × `perNode` ranks placed node by node (ranks
    /// 0 … L−1 on the first node). A step exchanging m bytes costs α + m·β of its link; a step some rank
    /// takes across nodes costs α_e + c·m·β_e, with c the ranks of that node crossing at once times
    /// `share` (allreduces running at the same time on every node, sharing its link). A step lasts as
    /// long as its slowest rank.
    public func seconds(_ algorithm: MPIAllreduceAlgorithm, bytes: Int, nodes: Int, perNode: Int, share: Int = 1) -> Double {
        let p = nodes * perNode, n = Double(bytes)
        guard p > 1 else { return 0 }
        /// One step in which every rank r in `active` exchanges m bytes with partner(r).
        func step(_ m: Double, _ active: [Int], _ partner: (Int) -> Int) -> Double {
            var crossing = [Int](repeating: 0, count: nodes)
            for r in active where partner(r) / perNode != r / perNode { crossing[r / perNode] += 1 }
            return active.map { r -> Double in
                partner(r) / perNode == r / perNode ? intra.alpha + m * intra.beta
                    : inter.alpha + Double(crossing[r / perNode] * share) * m * inter.beta
            }.max() ?? 0
        }
        switch algorithm {
        case .ring, .segmentedRing:
            return 2 * Double(p - 1) * step(n / Double(p), Array(0..<p)) { ($0 + 1) % p }
        case .recursiveDoubling, .rabenseifner, .reduceBroadcast:
            // A power of two p' takes part; the first 2·(p − p') ranks fold in pairs before and after.
            var pof2 = 1
            while pof2 * 2 <= p { pof2 *= 2 }
            let rem = p - pof2
            let real = { (v: Int) in v < rem ? 2 * v + 1 : v + rem }
            let fold = rem > 0 ? 2 * step(n, (0..<rem).map { 2 * $0 }) { $0 + 1 } : 0
            var total = fold, mask = 1, block = n
            while mask < pof2 {
                let m = mask
                let bytesThisStep: Double
                switch algorithm {
                case .rabenseifner: block /= 2; bytesThisStep = block
                default: bytesThisStep = n
                }
                // Rabenseifner's halving and doubling take the same pairs twice; a reduce and a broadcast tree likewise.
                let twice = algorithm == .recursiveDoubling ? 1.0 : 2.0
                total += twice * step(bytesThisStep, (0..<pof2).map(real)) { r in real(((r < 2 * rem ? r / 2 : r - rem)) ^ m) }
                mask *= 2
            }
            return total
        }
    }
}
