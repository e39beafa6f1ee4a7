// Loads Fixtures/stats_fixtures.json (written by Fixtures/make_fixtures.py from scipy).
import Foundation

/// The parsed fixture file: a JSON object.
nonisolated(unsafe) let statsFixtures: [String: Any] = {   // read-only after its one initialisation
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/stats_fixtures.json")
    guard let data = try? Data(contentsOf: url),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
    return object
}()

/// The rows of a fixture table (arguments…, expected); empty when missing, which the tests treat as failure.
func fixtureRows(_ name: String) -> [[Double]] {
    (statsFixtures[name] as? [[Any]])?.map { $0.compactMap { ($0 as? NSNumber)?.doubleValue } } ?? []
}

/// A value from the `tests` section.
func fixtureTest(_ name: String) -> Any? { (statsFixtures["tests"] as? [String: Any])?[name] }

/// A `tests` entry as an array of doubles.
func fixtureDoubles(_ name: String) -> [Double] { (fixtureTest(name) as? [NSNumber])?.map(\.doubleValue) ?? [] }

/// A `tests` entry as a table of doubles.
func fixtureTable(_ name: String, in object: Any? = nil) -> [[Double]] {
    ((object ?? fixtureTest(name)) as? [[NSNumber]])?.map { $0.map(\.doubleValue) } ?? []
}

/// A JSON array of numbers as doubles (empty if it is not one).
func doubles(_ object: Any?) -> [Double] { (object as? [NSNumber])?.map(\.doubleValue) ?? [] }

/// A JSON number as a double (NaN if it is not one, which fails any comparison).
func number(_ object: Any?) -> Double { (object as? NSNumber)?.doubleValue ?? .nan }
