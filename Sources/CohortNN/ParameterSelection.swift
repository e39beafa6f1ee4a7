// Choosing parameters by name, for fine-tuning: shell-style globs over dotted
// parameter names (`--freeze`, `--param-group`, `--reinit`), and the parameters
// that the common default exempts from weight decay (biases, norm gains and
// embedding tables, as nanoGPT, timm and Hugging Face do).
#if canImport(Glibc)
import Glibc
#endif
import CohortTensor

/// Whether the shell-style `glob` (`*`, `?`, `[…]`; `*` also crosses dots) matches all of `name`.
public func globMatches(_ glob: String, _ name: String) -> Bool { fnmatch(glob, name, 0) == 0 }

/// A module whose own parameters include embedding tables (looked up by index, not multiplied).
public protocol EmbeddingTables {
    /// The local names (as in `localParameters`) of the tables.
    var embeddingTableNames: [String] { get }
}

extension Embedding: EmbeddingTables {
    public var embeddingTableNames: [String] { ["weight"] }
}

extension GPT: EmbeddingTables {
    public var embeddingTableNames: [String] { ["wte.weight", "wpe.weight"] }
}

extension Module {
    /// The dotted names (as `namedParameters()` gives them) of the parameters that get no weight
    /// decay by default: every parameter of fewer than two dimensions (biases, LayerNorm and
    /// BatchNorm gains and shifts, LSTM biases) and every embedding table.
    public func weightDecayExemptNames() -> Set<String> {
        var out = Set<String>()
        var seen = Set<ObjectIdentifier>()
        func visit(_ m: any Module, _ prefix: String) {
            let tables = Set((m as? EmbeddingTables)?.embeddingTableNames ?? [])
            for (n, t) in m.localParameters where seen.insert(ObjectIdentifier(t)).inserted {
                if t.shape.count < 2 || tables.contains(n) { out.insert(prefix + n) }
            }
            for (n, c) in m.children { visit(c, prefix + n + ".") }
        }
        visit(self, "")
        return out
    }

    /// The dotted names of the parameters matching any of `globs`, in `namedParameters()` order.
    public func parameterNames(matching globs: [String]) -> [String] {
        namedParameters().map(\.name).filter { name in globs.contains { globMatches($0, name) } }
    }
}
