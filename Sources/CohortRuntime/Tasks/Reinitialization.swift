// `cohort train --init-from SOURCE --reinit GLOB`: start from pretrained weights but keep
// the network's own seeded initialisation for the tensors matching GLOB (a new head, e.g.
// for another class count). The source's tensors of those names are set aside, so their
// shape mismatches are expected, not problems, even under a strict load.
import CohortCheckpoint
import CohortCore
import CohortNN

extension InitialWeights {
    /// Loads the source into `network` except the parameters and buffers matching `globs`,
    /// which keep the network's own (seeded) initialisation; strictness applies to the rest.
    /// - Throws: `CohortError.invalidParameter(name: "reinit")` for a glob matching no tensor of
    ///   the network; otherwise what `load(into:)` throws.
    @discardableResult
    public func load(into network: any Module, reinitializing globs: [String]) throws -> LoadReport {
        guard !globs.isEmpty else { return try load(into: network) }
        let tensors = network.namedParameters() + network.namedBuffers()
        for glob in globs where !tensors.contains(where: { globMatches(glob, $0.name) }) {
            let names = tensors.map(\.name)
            throw CohortError.invalidParameter(name: "reinit", "'\(glob)' matches no tensor of the model (its names: "
                                               + names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", …" : "") + ")")
        }
        let own = tensors.filter { t in globs.contains { globMatches($0, t.name) } }
        let (arrays, _) = try PretrainedWeights.read(source)
        let kept = arrays.filter { a in !globs.contains { globMatches($0, a.name) } }
        // The re-initialised tensors are given their own values: a strict load then checks only the rest.
        let report = try network.load(kept + own.map { NamedArray(name: $0.name, shape: $0.tensor.shape, values: $0.tensor.scalars) },
                                      strict: strict, source: source)
        Log.main("initial weights from \(source), re-initialising \(own.map(\.name).joined(separator: ", ")) (the model's own initialisation): "
                 + report.description.replacingOccurrences(of: "\n", with: "\n  "))
        return report
    }
}
