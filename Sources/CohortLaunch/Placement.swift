// How many ranks the next attempt gets and where they go: the largest world
// size the available slots allow that divides the global batch (and, in
// deterministic mode, the number of virtual shards), filled host by host.

/// Ranks assigned to hosts: ranks 0… fill the first host's slots, then the next host's.
public struct Placement: Sendable, Equatable {
    /// Number of ranks (`-np`).
    public let worldSize: Int
    /// Hosts that get ranks, in rank order, each with the number of ranks placed on it.
    public let hosts: [HostSlots]

    /// Places `worldSize` ranks on `available`, filling hosts in list order; hosts
    /// left without ranks are omitted. nil when the slots do not suffice or `worldSize` < 1.
    public init?(worldSize: Int, available: [HostSlots]) {
        guard worldSize >= 1 else { return nil }
        var left = worldSize
        var used: [HostSlots] = []
        for host in available where left > 0 && host.slots > 0 {
            let n = min(host.slots, left)
            used.append(HostSlots(host: host.host, slots: n))
            left -= n
        }
        guard left == 0 else { return nil }
        self.worldSize = worldSize
        self.hosts = used
    }

    /// OpenMPI's `--host` value: `h1:2,h2:1`.
    public var hostArgument: String { hosts.map(\.description).joined(separator: ",") }

    /// The host running `rank` (0 ≤ rank < worldSize), nil outside that range.
    public func host(ofRank rank: Int) -> String? {
        guard rank >= 0 else { return nil }
        var first = 0
        for h in hosts {
            if rank < first + h.slots { return h.host }
            first += h.slots
        }
        return nil
    }
}

/// Chooses the world size for the next attempt and places it.
///
/// The largest n in [minNP, min(maxNP, total slots)] such that
/// `globalBatch % n == 0` and, when `virtualShards` K is given (deterministic
/// mode), `K % n == 0`. nil when there is none; `explainNoWorldSize` says why.
public func chooseWorldSize(available: [HostSlots], minNP: Int, maxNP: Int,
                            globalBatch: Int, virtualShards: Int?) -> Placement? {
    let upper = min(maxNP, HostSlots.totalSlots(available))
    guard minNP >= 1, globalBatch >= 1, upper >= minNP else { return nil }
    if let k = virtualShards, k < 1 { return nil }
    for n in stride(from: upper, through: minNP, by: -1)
    where globalBatch % n == 0 && (virtualShards.map { $0 % n == 0 } ?? true) {
        return Placement(worldSize: n, available: available)
    }
    return nil
}

/// Why `chooseWorldSize` found nothing, in one sentence for the user, e.g.
/// "need at least 2 ranks, 1 slot available (h1:1)". Returns nil when it would find a size.
public func explainNoWorldSize(available: [HostSlots], minNP: Int, maxNP: Int,
                               globalBatch: Int, virtualShards: Int?) -> String? {
    if chooseWorldSize(available: available, minNP: minNP, maxNP: maxNP,
                       globalBatch: globalBatch, virtualShards: virtualShards) != nil { return nil }
    if minNP < 1 { return "the minimum number of ranks must be at least 1 (got \(minNP))" }
    if maxNP < minNP { return "the maximum number of ranks (\(maxNP)) is below the minimum (\(minNP))" }
    if globalBatch < 1 { return "the global batch must be at least 1 (got \(globalBatch))" }
    if let k = virtualShards, k < 1 { return "the number of virtual shards must be at least 1 (got \(k))" }
    let total = HostSlots.totalSlots(available)
    if total < minNP {
        let list = available.isEmpty ? "no hosts" : available.map(\.description).joined(separator: ",")
        return "need at least \(minNP) \(minNP == 1 ? "rank" : "ranks"), \(total) \(total == 1 ? "slot" : "slots") available (\(list))"
    }
    let upper = min(maxNP, total)
    let range = upper == minNP ? "\(minNP) ranks" : "\(minNP)…\(upper) ranks"
    if let k = virtualShards {
        return "no world size of \(range) divides both the global batch \(globalBatch) and the \(k) virtual shards"
    }
    return "no world size of \(range) divides the global batch \(globalBatch)"
}
