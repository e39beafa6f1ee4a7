// Name maps: what another framework calls a model's tensors. A map is ordered rules
// `pattern → replacement` (regular expressions; `$1` or `\1` for groups) from Cohort's
// names to the other side's, each optionally transposing a 2-D tensor (layouts that
// differ, e.g. Hugging Face's Conv1D), plus source names to ignore on import and tied
// names (a second name the other side gives one Cohort tensor, like nanoGPT's
// `lm_head.weight`). Export applies the rules forward; import inverts them by mapping
// the model's own names, so every rule works both ways. docs/parameter-names.md.
import CohortCore
import CohortNN

/// Renames tensors between Cohort's names and another framework's.
public struct NameMap {
    /// One rename: the first rule whose pattern occurs in a Cohort name renames it.
    public struct Rule: Sendable, Equatable {
        /// A regular expression searched in the Cohort name.
        public var pattern: String
        /// What every occurrence becomes; `$1`/`\1` … insert the pattern's groups.
        public var replacement: String
        /// The other side stores the tensor transposed (2-D only).
        public var transpose: Bool

        public init(_ pattern: String, _ replacement: String, transpose: Bool = false) {
            (self.pattern, self.replacement, self.transpose) = (pattern, replacement, transpose)
        }
    }

    /// A second name the other side gives a Cohort tensor (a tied weight).
    public struct Tie: Sendable, Equatable {
        /// The other side's extra name (`lm_head.weight`).
        public var name: String
        /// The Cohort tensor it shares storage with (`wte.weight`).
        public var cohortName: String

        public init(_ name: String, to cohortName: String) { (self.name, self.cohortName) = (name, cohortName) }
    }

    /// Where the map came from (`torch`, a file), for messages.
    public let origin: String
    public let rules: [Rule]
    /// Patterns of source names dropped on import (PyTorch's `num_batches_tracked`).
    public let ignored: [String]
    public let ties: [Tie]
    private let compiled: [Regex<AnyRegexOutput>]
    private let compiledIgnored: [Regex<AnyRegexOutput>]

    /// - Throws: `CohortError.invalidParameter(name: "nameMap", …)` naming `origin` and a pattern
    ///   that is not a regular expression.
    public init(origin: String, rules: [Rule], ignored: [String] = [], ties: [Tie] = []) throws {
        func compile(_ p: String) throws -> Regex<AnyRegexOutput> {
            do { return try Regex(p) } catch {
                throw CohortError.invalidParameter(name: "nameMap", "\(origin): '\(p)' is not a regular expression: \(error)")
            }
        }
        (self.origin, self.rules, self.ignored, self.ties) = (origin, rules, ignored, ties)
        compiled = try rules.map { try compile($0.pattern) }
        compiledIgnored = try ignored.map { try compile($0) }
    }

    /// The other side's name for Cohort tensor `name`, and whether it is stored transposed
    /// (unchanged when no rule matches).
    public func external(_ name: String) -> (name: String, transpose: Bool) {
        for (rule, regex) in zip(rules, compiled) where (try? regex.firstMatch(in: name)) != nil {
            let renamed = name.replacing(regex) { match in Self.expand(rule.replacement, match) }
            return (renamed, rule.transpose)
        }
        return (name, false)
    }

    /// Whether import drops a source tensor of this name.
    public func ignores(_ name: String) -> Bool {
        compiledIgnored.contains { (try? $0.firstMatch(in: name)) != nil }
    }

    /// `template` with `$N` and `\N` replaced by group N of `match`.
    static func expand(_ template: String, _ match: Regex<AnyRegexOutput>.Match) -> String {
        var out = ""
        var chars = Array(template)[...]
        while let c = chars.popFirst() {
            if (c == "$" || c == "\\"), let d = chars.first, let n = d.wholeNumberValue {
                chars.removeFirst()
                if n < match.output.count, let s = match.output[n].substring { out += s }
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// Source arrays renamed to the model's names, ready for `Module.load`.
    public struct Mapped {
        /// The arrays under the model's names (transposed where a rule says so); a source array
        /// no model tensor maps to keeps its own name (reported as unexpected).
        public var arrays: [NamedArray]
        /// Each model tensor's name in the source, where it differs.
        public var sourceNames: [String: String]
        /// What the map did besides renaming (ignored and tied tensors), one line each.
        public var notes: [String]
    }

    /// Renames `arrays` (named the other side's way) to the names of `modelNames`.
    /// - Throws: `CohortError.invalidParameter(name: "nameMap", …)` naming a tied tensor whose
    ///   values differ from the tensor it is tied to, or a transposed tensor that is not 2-D.
    public func importing(_ arrays: [NamedArray], modelNames: [String], source: String) throws -> Mapped {
        var notes: [String] = []
        var kept = arrays.filter { a in
            guard ignores(a.name) else { return true }
            notes.append("ignored: the source's \(a.name) (name map \(origin))")
            return false
        }
        for tie in ties {
            guard let i = kept.firstIndex(where: { $0.name == tie.name }) else { continue }
            let primary = external(tie.cohortName).name
            if let p = kept.first(where: { $0.name == primary }) {
                guard p.shape == kept[i].shape, p.values == kept[i].values else {
                    throw CohortError.invalidParameter(name: "nameMap", "\(source): \(tie.name) differs from \(primary); "
                        + "this model ties them (one tensor, \(tie.cohortName)), so an untied source cannot load into it")
                }
                notes.append("tied: the source's \(tie.name) equals \(primary) (one tensor here, \(tie.cohortName)); not loaded twice")
                kept.remove(at: i)
            } else {
                kept[i].name = primary
            }
        }
        var reverse: [String: (name: String, transpose: Bool)] = [:]
        var sourceNames: [String: String] = [:]
        for m in modelNames {
            let (x, t) = external(m)
            reverse[x] = (m, t)
            if x != m { sourceNames[m] = x }
        }
        let model = Set(modelNames)
        let mapped = try kept.map { a -> NamedArray in
            guard let (m, t) = reverse[a.name] else {
                // A name that is the model's own but which the map gives to another tensor.
                return model.contains(a.name) ? NamedArray(name: a.name + " (not a name this map uses)", shape: a.shape, values: a.values) : a
            }
            guard t else { return NamedArray(name: m, shape: a.shape, values: a.values) }
            guard a.shape.count == 2 else {
                throw CohortError.invalidParameter(name: "nameMap", "\(source): \(a.name) is \(describeShape(a.shape)); name map \(origin) transposes it, which needs 2 dimensions")
            }
            return NamedArray(name: m, shape: [a.shape[1], a.shape[0]], values: Self.transposed(a.values, rows: a.shape[0], columns: a.shape[1]))
        }
        return Mapped(arrays: mapped, sourceNames: sourceNames, notes: notes)
    }

    /// A row-major `rows × columns` matrix transposed.
    public static func transposed(_ v: [Float], rows: Int, columns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: v.count)
        for r in 0..<rows { for c in 0..<columns { out[c * rows + r] = v[r * columns + c] } }
        return out
    }
}
