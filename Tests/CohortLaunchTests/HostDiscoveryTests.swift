// Host discovery: parallel, time-bounded probes of a static list (localhost is
// never probed), exclusions, and a discovery command with a timeout.
import Foundation
import Testing
@testable import CohortLaunch

@Suite struct HostDiscoveryTests {
    func h(_ host: String, _ slots: Int) -> HostSlots { HostSlots(host: host, slots: slots) }

    /// A stand-in for `ssh {host} true`: good* answer, bad* refuse, slow* hang.
    let probe = ["/bin/sh", "-c",
                 "case {host} in bad*) echo \"ssh: connect to host {host} port 22: Connection refused\" >&2; exit 255;; slow*) sleep 30;; esac; exit 0"]

    @Test func probesInParallelWithATimeout() throws {
        let d = HostDiscovery(source: .fixed([h("localhost", 2), h("good1", 2), h("bad1", 1), h("slow1", 4), h("slow2", 4), h("good2", 1)]),
                              probe: probe, probeTimeout: 0.5)
        let start = Date()
        let found = try d.discover()
        #expect(Date().timeIntervalSince(start) < 2.5)
        #expect(found.healthy == [h("localhost", 2), h("good1", 2), h("good2", 1)])
        #expect(found.unreachable == [
            ProbeFailure(host: "bad1", reason: "probe failed with exit code 255: ssh: connect to host bad1 port 22: Connection refused"),
            ProbeFailure(host: "slow1", reason: "probe timed out after 0.5 s"),
            ProbeFailure(host: "slow2", reason: "probe timed out after 0.5 s"),
        ])
    }

    @Test func localHostsAreNeverProbed() throws {
        let d = HostDiscovery(source: .fixed([h("localhost", 1), h("127.0.0.1", 1), h("other", 1)]), probe: ["/bin/false", "{host}"])
        let found = try d.discover()
        #expect(found.healthy == [h("localhost", 1), h("127.0.0.1", 1)])
        #expect(found.unreachable.map(\.host) == ["other"])
    }

    @Test func excludedHostsAreSkipped() throws {
        let clock = ManualClock()
        var exclusions = HostExclusions(clock: clock.now)
        exclusions.recordFailure(host: "good1")
        let d = HostDiscovery(source: .fixed([h("good1", 2), h("good2", 2)]), probe: probe)
        #expect(try d.discover(excluding: exclusions).healthy == [h("good2", 2)])
        clock.advance(10)
        #expect(try d.discover(excluding: exclusions).healthy == [h("good1", 2), h("good2", 2)])
    }

    @Test func noProbeMeansAllHealthy() throws {
        #expect(try HostDiscovery(source: .fixed([h("a", 1)])).discover().healthy == [h("a", 1)])
    }

    @Test func probeTemplateNeedsThePlaceholder() {
        let d = HostDiscovery(source: .fixed([h("a", 1)]), probe: ["ssh", "true"])
        #expect { try d.discover() } throws: { "\($0)" == "probe command ssh true has no {host} placeholder" }
    }

    @Test func discoveryCommand() throws {
        let d = HostDiscovery(source: .command("printf 'h1:2\\nh2\\n'"), defaultSlots: 4)
        #expect(try d.discover() == DiscoveredHosts(healthy: [h("h1", 2), h("h2", 4)], unreachable: []))
    }

    @Test func discoveryCommandFailuresNameTheCommand() {
        let failing = HostDiscovery(source: .command("echo oops >&2; exit 3"))
        #expect { try failing.discover() } throws: {
            "\($0)" == "`echo oops >&2; exit 3`: discovery command failed with exit code 3: oops"
        }
        let slow = HostDiscovery(source: .command("sleep 30"), commandTimeout: 0.3)
        let start = Date()
        #expect { try slow.discover() } throws: { "\($0)" == "`sleep 30`: discovery command timed out after 0.3 s" }
        #expect(Date().timeIntervalSince(start) < 2)
        let garbage = HostDiscovery(source: .command("echo 'h1:two'"))
        #expect { try garbage.discover() } throws: { "\($0)" == "echo 'h1:two':1: slot count 'two' is not a positive integer" }
    }
}
