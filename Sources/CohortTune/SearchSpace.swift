// What a hyperparameter search may vary: each `cohort train` option with a
// domain (a list of choices, or a uniform, log-uniform or integer range), the
// grid over the choices, and seeded random draws.
import CohortCore
import CohortStats
import Foundation

/// The values one option may take.
public enum Domain: Sendable, Equatable {
    /// One of these values (as `cohort train` flag text).
    case choice([String])
    /// Uniform on [low, high].
    case uniform(Double, Double)
    /// Log-uniform on [low, high] (both > 0).
    case logUniform(Double, Double)
    /// A uniform integer in low...high.
    case integer(Int, Int)

    /// Checks the bounds; `what` names the option in errors.
    func validated(_ what: String) throws -> Domain {
        switch self {
        case .choice(let values):
            guard !values.isEmpty else { throw CohortError.invalidArgument("\(what): an empty list of choices") }
        case let .uniform(lo, hi):
            guard lo.isFinite, hi.isFinite, lo <= hi else { throw CohortError.invalidArgument("\(what): uniform needs low ≤ high, got [\(lo), \(hi)]") }
        case let .logUniform(lo, hi):
            guard lo > 0, hi.isFinite, lo <= hi else { throw CohortError.invalidArgument("\(what): log-uniform needs 0 < low ≤ high, got [\(lo), \(hi)]") }
        case let .integer(lo, hi):
            guard lo <= hi else { throw CohortError.invalidArgument("\(what): int needs low ≤ high, got [\(lo), \(hi)]") }
        }
        return self
    }

    /// A seeded draw, as flag text (reals with 4 significant digits, so tables and configs stay readable).
    func draw(_ g: inout SplitMix64) -> String {
        switch self {
        case .choice(let values): return values[g.nextIndex(below: values.count)]
        case let .uniform(lo, hi): return Domain.format(lo + (hi - lo) * g.nextDouble())
        case let .logUniform(lo, hi): return Domain.format(exp(log(lo) + (log(hi) - log(lo)) * g.nextDouble()))
        case let .integer(lo, hi): return String(lo + g.nextIndex(below: hi - lo + 1))
        }
    }

    static func format(_ x: Double) -> String { String(format: "%.4g", x) }
}

/// The options a search varies, in the order the space file lists them.
public struct SearchSpace: Sendable, Equatable {
    public var options: [(name: String, domain: Domain)]

    public init(_ options: [(name: String, domain: Domain)]) throws {
        guard !options.isEmpty else { throw CohortError.invalidArgument("the search space is empty: name at least one option") }
        self.options = try options.map { ($0.name, try $0.domain.validated($0.name)) }
    }

    public static func == (a: SearchSpace, b: SearchSpace) -> Bool {
        a.options.map(\.name) == b.options.map(\.name) && a.options.map(\.domain) == b.options.map(\.domain)
    }

    /// Every combination of the choices (first option varying slowest).
    /// - Throws: naming an option whose domain is a range (a grid needs lists).
    public func grid() throws -> [[(name: String, value: String)]] {
        var rows: [[(name: String, value: String)]] = [[]]
        for (name, domain) in options {
            guard case .choice(let values) = domain else {
                throw CohortError.invalidArgument("--strategy grid: '\(name)' is a range; a grid needs a list of values (or use random or halving)")
            }
            rows = rows.flatMap { row in values.map { row + [(name, $0)] } }
        }
        return rows
    }

    /// `count` independent draws from seed `seed` (the same seed gives the same trials).
    public func sample(_ count: Int, seed: UInt64) -> [[(name: String, value: String)]] {
        var g = SplitMix64(seed: seed)
        return (0..<count).map { _ in options.map { ($0.name, $0.domain.draw(&g)) } }
    }
}
