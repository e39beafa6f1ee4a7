// Choosing the world size (largest n dividing the global batch and the virtual
// shards) and filling hosts in list order.
import Testing
@testable import CohortLaunch

@Suite struct PlacementTests {
    let hosts = [HostSlots(host: "h1", slots: 2), HostSlots(host: "h2", slots: 2), HostSlots(host: "h3", slots: 1)]

    func np(_ available: [HostSlots], min: Int = 1, max: Int = 64, batch: Int, shards: Int? = nil) -> Int? {
        chooseWorldSize(available: available, minNP: min, maxNP: max, globalBatch: batch, virtualShards: shards)?.worldSize
    }

    @Test func largestDivisorWithinSlotsAndBounds() {
        #expect(np(hosts, batch: 60) == 5)
        #expect(np(hosts, batch: 64) == 4)
        #expect(np(hosts, batch: 64, shards: 8) == 4)
        #expect(np(hosts, batch: 48, shards: 6) == 3)
        #expect(np(hosts, batch: 60, shards: 4) == 4)
        #expect(np(hosts, max: 3, batch: 60) == 3)
        #expect(np(hosts, batch: 7) == 1)
        #expect(np(hosts, min: 2, batch: 7) == nil)
        #expect(np(hosts, min: 2, batch: 60, shards: 7) == nil)
        #expect(np([], batch: 8) == nil)
    }

    @Test func placementFillsHostsInOrder() throws {
        let p = try #require(chooseWorldSize(available: hosts, minNP: 1, maxNP: 8, globalBatch: 21, virtualShards: nil))
        #expect(p.worldSize == 3)
        #expect(p.hosts == [HostSlots(host: "h1", slots: 2), HostSlots(host: "h2", slots: 1)])
        #expect(p.hostArgument == "h1:2,h2:1")
        #expect((0..<4).map { p.host(ofRank: $0) } == ["h1", "h1", "h2", nil])
        #expect(Placement(worldSize: 6, available: hosts) == nil)
        #expect(Placement(worldSize: 5, available: hosts)?.hostArgument == "h1:2,h2:2,h3:1")
    }

    @Test func explanations() {
        func why(_ available: [HostSlots], min: Int = 1, max: Int = 64, batch: Int, shards: Int? = nil) -> String? {
            explainNoWorldSize(available: available, minNP: min, maxNP: max, globalBatch: batch, virtualShards: shards)
        }
        #expect(why([HostSlots(host: "h1", slots: 1)], min: 2, batch: 8) == "need at least 2 ranks, 1 slot available (h1:1)")
        #expect(why([], min: 1, batch: 8) == "need at least 1 rank, 0 slots available (no hosts)")
        #expect(why(hosts, min: 2, batch: 7) == "no world size of 2…5 ranks divides the global batch 7")
        #expect(why(hosts, min: 2, max: 4, batch: 60, shards: 7) == "no world size of 2…4 ranks divides both the global batch 60 and the 7 virtual shards")
        #expect(why(hosts, min: 3, max: 2, batch: 8) == "the maximum number of ranks (2) is below the minimum (3)")
        #expect(why(hosts, min: 5, batch: 12) == "no world size of 5 ranks divides the global batch 12")
        #expect(why(hosts, batch: 8) == nil)
    }
}
