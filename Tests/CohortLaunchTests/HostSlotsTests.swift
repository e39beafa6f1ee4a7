// Parsing hosts from an OpenMPI hostfile, a `--hosts` flag and discovery output,
// with errors naming the source and line.
import CohortProcessTestSupport
import Foundation
import Testing
@testable import CohortLaunch

@Suite struct HostSlotsTests {
    func h(_ host: String, _ slots: Int) -> HostSlots { HostSlots(host: host, slots: slots) }

    @Test func hostfile() throws {
        let text = """
        # cluster nodes
        node1 slots=2 max_slots=4

        node2\t slots = 3   # trailing comment
        10.0.0.7
        node1 slots=1
        node3 max-slots=2
        """
        let hosts = try HostSlots.parseHostfile(text, source: "cluster/hostfile")
        #expect(hosts == [h("node1", 3), h("node2", 3), h("10.0.0.7", 1), h("node3", 1)])
        #expect(HostSlots.totalSlots(hosts) == 8)
        #expect(hosts.map(\.description) == ["node1:3", "node2:3", "10.0.0.7:1", "node3:1"])
    }

    @Test func hostfileErrorsNameFileAndLine() {
        let cases: [(String, String)] = [
            ("a slots=2\nb slots=x\n", "hf:2: slot count 'x' is not a positive integer"),
            ("a\n\n# c\nb slots=0", "hf:4: slot count '0' is not a positive integer"),
            ("a cores=2", "hf:1: unknown keyword 'cores' (expected slots=N or max_slots=N)"),
            ("a 2", "hf:1: expected key=value after the host, got '2'"),
            ("slots=2", "hf:1: expected a host name first, got 'slots=2'"),
        ]
        for (text, message) in cases {
            #expect { try HostSlots.parseHostfile(text, source: "hf") } throws: { "\($0)" == message }
        }
    }

    @Test func hostfileFromDisk() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "n1 slots=2\n".write(toFile: dir + "/hosts", atomically: true, encoding: .utf8)
        #expect(try HostSlots.parseHostfile(path: dir + "/hosts") == [h("n1", 2)])
        #expect { try HostSlots.parseHostfile(path: dir + "/missing") } throws: {
            "\($0)" == "\(dir)/missing: cannot read the hostfile"
        }
    }

    @Test func hostList() throws {
        #expect(try HostSlots.parseHostList("h1:2,h2:2") == [h("h1", 2), h("h2", 2)])
        #expect(try HostSlots.parseHostList("h1, h2:3 ,10.0.0.1") == [h("h1", 1), h("h2", 3), h("10.0.0.1", 1)])
    }

    @Test func hostListErrors() {
        let cases: [(String, String)] = [
            ("h1:,h2", "--hosts: slot count '' is not a positive integer"),
            ("h1:0", "--hosts: slot count '0' is not a positive integer"),
            ("h1,,h2", "--hosts: entry 2 is empty in 'h1,,h2'"),
            ("", "--hosts: entry 1 is empty in ''"),
            ("h1:2:3", "--hosts: entry 1 'h1:2:3' is not host or host:slots"),
            ("h1,h1:2", "--hosts: host h1 is listed twice"),
        ]
        for (spec, message) in cases {
            #expect { try HostSlots.parseHostList(spec) } throws: { "\($0)" == message }
        }
    }

    @Test func discoveryOutput() throws {
        let out = "h1:4\n\nh2\n  h3:1  \n# comment\n"
        #expect(try HostSlots.parseDiscoveryOutput(out, source: "discover.sh", defaultSlots: 2) == [h("h1", 4), h("h2", 2), h("h3", 1)])
        #expect(try HostSlots.parseDiscoveryOutput("", source: "discover.sh").isEmpty)
        #expect { try HostSlots.parseDiscoveryOutput("h1:4\nh2 4\n", source: "discover.sh") } throws: {
            "\($0)" == "discover.sh:2: line 'h2 4' is not host or host:slots"
        }
        #expect { try HostSlots.parseDiscoveryOutput("h1:4\nh1:2\n", source: "discover.sh") } throws: {
            "\($0)" == "discover.sh:2: host h1 is listed twice"
        }
    }
}
