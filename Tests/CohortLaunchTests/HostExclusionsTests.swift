// Exponential back-off for failing hosts, on a clock the test moves.
import Testing
@testable import CohortLaunch

@Suite struct HostExclusionsTests {
    @Test func backoffDoublesUpToTheCap() {
        let e = HostExclusions()
        #expect((0...7).map { e.backoff(afterFailures: $0) } == [0, 10, 20, 40, 80, 160, 300, 300])
        #expect(e.backoff(afterFailures: 200) == 300)
        let custom = HostExclusions(baseBackoff: 1, maxBackoff: 5)
        #expect((1...5).map { custom.backoff(afterFailures: $0) } == [1, 2, 4, 5, 5])
    }

    @Test func excludedUntilTheBackoffExpires() {
        let clock = ManualClock()
        var e = HostExclusions(clock: clock.now)
        let hosts = [HostSlots(host: "h1", slots: 2), HostSlots(host: "h2", slots: 2), HostSlots(host: "h3", slots: 1)]
        #expect(e.recordFailure(host: "h2") == 10)
        #expect(e.isExcluded("h2") && !e.isExcluded("h1"))
        #expect(e.filter(hosts).map(\.host) == ["h1", "h3"])
        clock.advance(9.5)
        #expect(e.remainingExclusion(host: "h2") == 0.5)
        clock.advance(0.5)
        #expect(!e.isExcluded("h2") && e.filter(hosts) == hosts)   // readmitted; a probe decides
        #expect(e.recordFailure(host: "h2") == 20)
        #expect(e.recordFailure(host: "h3") == 10)
        #expect(e.excludedHosts == ["h2", "h3"])
        #expect(e.failureCount(host: "h2") == 2)
        clock.advance(15)
        #expect(e.excludedHosts == ["h2"])
        e.reset(host: "h2")
        #expect(e.failureCount(host: "h2") == 0 && e.excludedHosts.isEmpty)
    }
}
