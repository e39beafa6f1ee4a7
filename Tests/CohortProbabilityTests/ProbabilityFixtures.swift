// Loads Fixtures/probability_fixtures.json (written by Fixtures/make_fixtures.py from scipy/numpy)
// and builds the distributions its cases name.
import CohortCore
import CohortProbability
import CohortTensor
import Foundation

/// The parsed fixture file; read-only after its one initialisation.
nonisolated(unsafe) let probabilityFixtures: [String: Any] = {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/probability_fixtures.json")
    guard let data = try? Data(contentsOf: url),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
    return object
}()

/// A JSON number as a double (NaN if it is not one, which fails any comparison).
func number(_ object: Any?) -> Double { (object as? NSNumber)?.doubleValue ?? .nan }

/// A JSON array of numbers (empty if it is not one).
func doubles(_ object: Any?) -> [Double] { (object as? [NSNumber])?.map(\.doubleValue) ?? [] }

/// A JSON array of arrays of numbers.
func table(_ object: Any?) -> [[Double]] { (object as? [[NSNumber]])?.map { $0.map(\.doubleValue) } ?? [] }

/// A JSON object.
func object(_ name: String) -> [String: Any] { probabilityFixtures[name] as? [String: Any] ?? [:] }

/// A one-dimensional Float tensor from doubles.
func tensor(_ values: [Double]) throws -> Tensor { try Tensor(values.map { Float($0) }, shape: [values.count]) }

/// The distribution a fixture case names, built from its parameters.
func makeDistribution(_ name: String, _ p: [String: Any]) throws -> any UnivariateDistribution {
    func f(_ key: String) -> Float { Float(number(p[key])) }
    switch name {
    case "Normal": return try Normal(loc: f("loc"), scale: f("scale"))
    case "Uniform": return try Uniform(low: f("low"), high: f("high"))
    case "Exponential": return try Exponential(rate: f("rate"))
    case "Gamma": return try Gamma(concentration: f("concentration"), rate: f("rate"))
    case "Beta": return try Beta(alpha: f("alpha"), beta: f("beta"))
    case "StudentT": return try StudentT(degreesOfFreedom: f("df"), loc: f("loc"), scale: f("scale"))
    case "Poisson": return try Poisson(rate: f("rate"))
    case "Binomial": return try Binomial(totalCount: Int(number(p["totalCount"])), probs: Tensor.full([], f("probs")))
    case "Bernoulli": return try Bernoulli(probs: Tensor.full([], f("probs")))
    default: throw CohortError.invalidArgument("unknown fixture distribution \(name)")
    }
}

/// |actual − expected| ≤ absolute + relative·|expected|.
func near(_ actual: Double, _ expected: Double, relative: Double, absolute: Double = 0) -> Bool {
    if actual == expected { return true }
    return abs(actual - expected) <= absolute + relative * abs(expected)
}
