// Search spaces, grids, seeded draws, the successive-halving schedule and its budget,
// and the ranking that promotes trials.
import CohortCore
@testable import CohortTune
import Foundation
import Testing

@Suite struct SearchTests {
    @Test func gridIsTheCartesianProductInOrder() throws {
        let space = try SearchSpace([("hidden", .choice(["16", "32"])), ("optimizer", .choice(["sgd", "adam", "rmsprop"]))])
        let grid = try space.grid()
        #expect(grid.count == 6)
        #expect(grid.map { $0.map(\.value) } == [["16", "sgd"], ["16", "adam"], ["16", "rmsprop"], ["32", "sgd"], ["32", "adam"], ["32", "rmsprop"]])
        let ranged = try SearchSpace([("lr", .logUniform(1e-4, 1e-1))])
        #expect { try ranged.grid() } throws: { "\($0)".contains("'lr' is a range") }
    }

    @Test func drawsAreSeededAndInsideTheirDomains() throws {
        let space = try SearchSpace([("lr", .logUniform(1e-4, 1e-1)), ("momentum", .uniform(0.5, 0.99)), ("layers", .integer(1, 4)),
                                     ("optimizer", .choice(["sgd", "adam"]))])
        let a = space.sample(400, seed: 7), b = space.sample(400, seed: 7), c = space.sample(400, seed: 8)
        #expect(a.map { $0.map(\.value) } == b.map { $0.map(\.value) })
        #expect(a.map { $0.map(\.value) } != c.map { $0.map(\.value) })
        let lrs = a.map { Double($0[0].value)! }, momenta = a.map { Double($0[1].value)! }, layers = a.map { Int($0[2].value)! }
        #expect(lrs.allSatisfy { $0 >= 1e-4 * 0.9999 && $0 <= 0.1 * 1.0001 })
        // Log-uniform: about a third of the draws in each decade.
        for decade in [(1e-4, 1e-3), (1e-3, 1e-2), (1e-2, 1e-1)] {
            let share = Double(lrs.filter { $0 >= decade.0 && $0 < decade.1 }.count) / 400
            #expect(abs(share - 1.0 / 3) < 0.08, "decade \(decade): \(share)")
        }
        #expect(momenta.allSatisfy { $0 >= 0.5 && $0 <= 0.99 } && Set(layers) == [1, 2, 3, 4])
        #expect(Set(a.map { $0[3].value }) == ["sgd", "adam"])
    }

    @Test func badDomainsAreRefused() {
        #expect(throws: CohortError.self) { try SearchSpace([("lr", .logUniform(0, 1))]) }
        #expect(throws: CohortError.self) { try SearchSpace([("lr", .uniform(2, 1))]) }
        #expect(throws: CohortError.self) { try SearchSpace([("hidden", .choice([]))]) }
        #expect(throws: CohortError.self) { try SearchSpace([]) }
    }

    @Test func halvingScheduleAndBudget() throws {
        let s = try HalvingSchedule(trials: 27, minSteps: 10, maxSteps: 270, eta: 3)
        #expect(s.rungSteps == [10, 30, 90, 270] && s.rungTrials == [27, 9, 3, 1])
        // 27×10 + 9×20 + 3×60 + 1×180: promoted trials continue from their checkpoints.
        #expect(s.budget == 270 + 180 + 180 + 180)
        let short = try HalvingSchedule(trials: 5, minSteps: 40, maxSteps: 100, eta: 2)
        #expect(short.rungSteps == [40, 80, 100] && short.rungTrials == [5, 2, 1])
        #expect { try HalvingSchedule(trials: 4, minSteps: 200, maxSteps: 100, eta: 3) } throws: { "\($0)".contains("minSteps") }
        #expect { try HalvingSchedule(trials: 4, minSteps: 10, maxSteps: 100, eta: 1) } throws: { "\($0)".contains("eta: must be ≥ 2") }
    }

    @Test func rankingKeepsTheBestAndBreaksTiesByID() {
        let scores: [(id: Int, score: Double)] = [(1, 0.5), (2, .nan), (3, 0.9), (4, 0.9), (5, 0.1)]
        #expect(best(scores, keep: 2, goal: .maximize) == [3, 4])
        #expect(best(scores, keep: 2, goal: .minimize) == [5, 1])
        #expect(best(scores, keep: 5, goal: .maximize).last == 2)   // a trial without a score ranks last
    }
}
