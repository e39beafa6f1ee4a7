// Parameter groups, as in PyTorch's `param_groups`: sets of arena entries, each
// updated with its own learning-rate multiplier and weight decay. An entry in no
// group is frozen: the optimizer never touches it (no update, no weight decay).
// The optimizers run their kernels once per contiguous run of entries of one group,
// so the default — one group over everything — is the single pass it always was.
import CohortCore
import CohortNN

/// A set of parameters (arena entries) sharing a learning-rate multiplier and a weight decay.
public struct ParameterGroup: Sendable, Equatable {
    /// Indices into `ParameterArena.entries`.
    public var entries: [Int]
    /// The group's learning rate is the optimizer's (scheduled) `learningRate` times this,
    /// so a schedule scales every group by the same factor, as PyTorch's schedulers do.
    public var lrScale: Float
    /// The group's weight decay (L2 or decoupled, as the optimizer applies it).
    public var weightDecay: Float

    public init(entries: [Int], lrScale: Float = 1, weightDecay: Float) {
        self.entries = entries
        self.lrScale = lrScale
        self.weightDecay = weightDecay
    }
}

/// One contiguous element range of the arena updated with one group's settings.
struct GroupSegment {
    let range: Range<Int>
    let lrScale: Float
    let weightDecay: Float
}

/// An optimizer's groups and the contiguous segments its kernels run over.
struct GroupLayout {
    private(set) var groups: [ParameterGroup]
    private(set) var segments: [GroupSegment]

    /// One group over every entry with `weightDecay`: a single segment over the whole arena.
    init(everything arena: ParameterArena, weightDecay: Float) {
        groups = [ParameterGroup(entries: Array(arena.entries.indices), weightDecay: weightDecay)]
        segments = [GroupSegment(range: 0..<arena.count, lrScale: 1, weightDecay: weightDecay)]
    }

    /// Checks `groups` against `arena` (every index valid, no entry in two groups) and cuts the
    /// arena into segments: an entry's segment runs to the next entry's offset (its alignment
    /// padding, always zero, goes with it); neighbouring entries of one group merge.
    /// - Throws: `CohortError.invalidParameter(name: "parameterGroups")` naming the entry at fault.
    init(_ groups: [ParameterGroup], arena: ParameterArena) throws {
        var owner = [Int?](repeating: nil, count: arena.entries.count)
        for (g, group) in groups.enumerated() {
            for e in group.entries {
                guard arena.entries.indices.contains(e) else {
                    throw CohortError.invalidParameter(name: "parameterGroups", "group \(g) names entry \(e); the arena has \(arena.entries.count)")
                }
                if let other = owner[e] {
                    throw CohortError.invalidParameter(name: "parameterGroups", "\(arena.entries[e].name) is in groups \(other) and \(g)")
                }
                owner[e] = g
            }
        }
        var segments: [GroupSegment] = []
        for (e, entry) in arena.entries.enumerated() {
            guard let g = owner[e] else { continue }
            let end = e + 1 < arena.entries.count ? arena.entries[e + 1].offset : arena.count
            let start = e == 0 ? 0 : entry.offset
            if let last = segments.last, last.range.upperBound == start, e > 0, owner[e - 1] == g {
                segments[segments.count - 1] = GroupSegment(range: last.range.lowerBound..<end, lrScale: last.lrScale, weightDecay: last.weightDecay)
            } else {
                segments.append(GroupSegment(range: start..<end, lrScale: groups[g].lrScale, weightDecay: groups[g].weightDecay))
            }
        }
        self.groups = groups
        self.segments = segments
    }

    /// The same groups with their segments cut to the arena elements `range` (a ZeRO shard).
    func restricted(to range: Range<Int>) -> GroupLayout {
        var copy = self
        copy.segments = segments.compactMap { s in
            let r = s.range.clamped(to: range)
            return r.isEmpty ? nil : GroupSegment(range: r, lrScale: s.lrScale, weightDecay: s.weightDecay)
        }
        return copy
    }
}

extension Optimizer {
    /// How the groups are recorded in a checkpoint's optimizer hyper-parameters: nothing for the
    /// default (one group over every parameter, multiplier 1, the optimizer's own weight decay), so
    /// such checkpoints are unchanged; otherwise `param_group.K.lr_scale`, `param_group.K.weight_decay`
    /// for each group K and `param_group/NAME` = K for each parameter (−1: frozen, in no group).
    public var parameterGroupRecord: [HyperParameter] {
        let groups = parameterGroups
        let decay = hyperParameters.first { $0.name == "weight_decay" }.map { Float($0.value) } ?? 0
        if groups.count == 1, groups[0].entries == Array(arena.entries.indices), groups[0].lrScale == 1, groups[0].weightDecay == decay { return [] }
        var record: [HyperParameter] = []
        var owner = [Int](repeating: -1, count: arena.entries.count)
        for (k, g) in groups.enumerated() {
            record += [.init("param_group.\(k).lr_scale", Double(g.lrScale)), .init("param_group.\(k).weight_decay", Double(g.weightDecay))]
            for e in g.entries { owner[e] = k }
        }
        return record + zip(arena.entries, owner).map { .init("param_group/\($0.name)", Double($1)) }
    }

    /// Why a checkpoint whose optimizer recorded `saved` (its hyper-parameters) cannot continue
    /// with this optimizer's groups, or nil when the groups agree. `ignoringLearningRates` skips
    /// the groups' multipliers (an extended run may change learning rates).
    public func parameterGroupMismatch(_ saved: [HyperParameter], ignoringLearningRates: Bool = false) -> String? {
        func relevant(_ list: [HyperParameter]) -> [HyperParameter] {
            list.filter { $0.name.hasPrefix("param_group") && !(ignoringLearningRates && $0.name.hasSuffix(".lr_scale")) }
        }
        let old = relevant(saved), new = relevant(parameterGroupRecord)
        guard old != new else { return nil }
        func describe(_ list: [HyperParameter]) -> String {
            guard !list.isEmpty else { return "one group of every parameter" }
            let members = list.filter { $0.name.hasPrefix("param_group/") }
            let groups = list.filter { $0.name.hasSuffix(".weight_decay") }.enumerated().map { k, decay in
                let scale = list.first { $0.name == "param_group.\(k).lr_scale" }.map { "lr ×\(Float($0.value)), " } ?? ""
                return "group \(k): \(scale)weight decay \(Float(decay.value)), \(members.filter { Int($0.value) == k }.count) tensors"
            }
            let frozen = members.filter { $0.value < 0 }.count
            return groups.joined(separator: "; ") + (frozen > 0 ? "; \(frozen) frozen" : "")
        }
        let member = { (list: [HyperParameter], name: String) in list.first { $0.name == name }?.value }
        let firstMember = (old + new).map(\.name).first { $0.hasPrefix("param_group/") && member(old, $0) != member(new, $0) }
        let detail = firstMember.map { name -> String in
            func place(_ v: Double?) -> String { v.map { $0 < 0 ? "frozen" : "in group \(Int($0))" } ?? "in the only group" }
            return "; e.g. \(name.dropFirst(12)) is \(place(member(old, name))) there, \(place(member(new, name))) here"
        } ?? ""
        return "it was saved with parameter groups (\(describe(old))), this run has (\(describe(new)))\(detail)"
    }
}

/// Builds parameter groups from name patterns: `rules` in order (the first whose glob matches a
/// parameter's dotted name takes it), then a default group, split in two when `noDecay` names
/// parameters that get no weight decay. Parameters in `frozen` are in no group.
public struct ParameterGroupRules: Sendable, Equatable {
    /// One `GLOB:lr=…,weight-decay=…` setting; nil fields take the defaults.
    public struct Rule: Sendable, Equatable {
        public var glob: String
        public var lrScale: Float?
        public var weightDecay: Float?
        public init(glob: String, lrScale: Float? = nil, weightDecay: Float? = nil) {
            self.glob = glob; self.lrScale = lrScale; self.weightDecay = weightDecay
        }
    }

    public var rules: [Rule]
    public init(_ rules: [Rule] = []) { self.rules = rules }

    /// The groups over `arena`: each rule's group (rules matching nothing are dropped), then the
    /// remaining parameters with `weightDecay`, those in `noDecay` with none. Groups with equal
    /// settings merge, so with no rules and `weightDecay` 0 the result is the single default group.
    public func groups(_ arena: ParameterArena, weightDecay: Float, noDecay: Set<String>, frozen: Set<String> = []) -> [ParameterGroup] {
        var groups: [ParameterGroup] = []
        func add(_ e: Int, lrScale: Float, decay: Float) {
            if let i = groups.firstIndex(where: { $0.lrScale == lrScale && $0.weightDecay == decay }) { groups[i].entries.append(e) } else {
                groups.append(ParameterGroup(entries: [e], lrScale: lrScale, weightDecay: decay))
            }
        }
        for (e, entry) in arena.entries.enumerated() where !frozen.contains(entry.name) {
            let defaultDecay = noDecay.contains(entry.name) ? 0 : weightDecay
            if let rule = rules.first(where: { globMatches($0.glob, entry.name) }) {
                add(e, lrScale: rule.lrScale ?? 1, decay: rule.weightDecay ?? defaultDecay)
            } else {
                add(e, lrScale: 1, decay: defaultDecay)
            }
        }
        return groups
    }
}

extension ParameterGroupRules.Rule {
    /// Parses `GLOB:lr=X,weight-decay=Y` (also `lr-scale=S`; any subset of the settings, in any
    /// order). `lr=X` becomes the multiplier X / `baseLearningRate`, so the schedule scales it.
    /// - Throws: `CohortError.invalidParameter(name: "paramGroup")` naming the part at fault.
    public init(parsing spec: String, baseLearningRate: Float) throws {
        func bad(_ why: String) -> CohortError {
            .invalidParameter(name: "paramGroup", "'\(spec)': \(why); expected GLOB:lr=X,weight-decay=Y (e.g. '*.bias:weight-decay=0')")
        }
        guard let colon = spec.lastIndex(of: ":"), colon != spec.startIndex else { throw bad("no GLOB: before the settings") }
        self.init(glob: String(spec[..<colon]))
        let settings = spec[spec.index(after: colon)...].split(separator: ",")
        guard !settings.isEmpty else { throw bad("no settings after the colon") }
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1).map { String($0.filter { !$0.isWhitespace }) }
            guard parts.count == 2, let value = Float(parts[1]), value.isFinite, value >= 0 else {
                throw bad("'\(setting)' is not NAME=NUMBER with a number ≥ 0")
            }
            switch parts[0] {
            case "lr": lrScale = Float(Double(value) / Double(baseLearningRate))
            case "lr-scale": lrScale = value
            case "weight-decay": weightDecay = value
            default: throw bad("unknown setting '\(parts[0])' (lr, lr-scale, weight-decay)")
            }
        }
    }
}

extension ParameterGroupRules {
    /// Checks every rule's glob matches at least one of `names` (a typo would otherwise change nothing).
    /// - Throws: `CohortError.invalidParameter(name: "paramGroup")` naming the glob and some parameter names.
    public func check(against names: [String]) throws {
        for rule in rules where !names.contains(where: { globMatches(rule.glob, $0) }) {
            throw CohortError.invalidParameter(name: "paramGroup", "'\(rule.glob)' matches no parameter of the model (its names: "
                                               + names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", …" : "") + ")")
        }
    }
}
