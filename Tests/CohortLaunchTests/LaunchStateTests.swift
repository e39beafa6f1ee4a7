// The launch state machine: the allowed table, errors naming both states, and
// the transition records it appends to the event log.
import CohortProcessTestSupport
import Foundation
import Testing
@testable import CohortLaunch

@Suite struct LaunchStateTests {
    let context = LaunchContext(attempt: 1, worldSize: 4, hosts: [HostSlots(host: "h1", slots: 2), HostSlots(host: "h2", slots: 2)])

    /// A path from `starting` to every state.
    static let paths: [LaunchState: [LaunchState]] = [
        .starting: [],
        .healthy: [.healthy],
        .failed: [.failed],
        .restarting: [.failed, .restarting],
        .succeeded: [.succeeded],
        .gaveUp: [.failed, .gaveUp],
    ]

    @Test func allowedTable() {
        #expect(LaunchState.starting.successors == [.healthy, .failed, .succeeded])
        #expect(LaunchState.healthy.successors == [.failed, .succeeded, .restarting])
        #expect(LaunchState.failed.successors == [.restarting, .gaveUp])
        #expect(LaunchState.restarting.successors == [.starting])
        #expect(LaunchState.succeeded.isTerminal && LaunchState.gaveUp.isTerminal)
    }

    @Test func fullLifecycleWithScaleUpAndFailure() throws {
        var m = LaunchStateMachine()
        for (to, cause) in [(LaunchState.healthy, "all ranks reported"), (.restarting, "2 hosts joined"), (.starting, "attempt 2"),
                            (.failed, "rank 1 crashed"), (.restarting, "restart 1 of 3"), (.starting, "attempt 3"),
                            (.healthy, "all ranks reported"), (.succeeded, "training finished")] {
            try m.transition(to: to, cause: cause, context: context)
        }
        #expect(m.state == .succeeded)
        #expect(m.history.count == 8)
        #expect(m.history[1] == LaunchTransition(from: .healthy, to: .restarting, cause: "2 hosts joined", context: context))
    }

    @Test func everyDisallowedTransitionThrowsNamingBothStates() throws {
        var checked = 0
        for from in LaunchState.allCases {
            for to in LaunchState.allCases where !from.successors.contains(to) {
                var m = LaunchStateMachine()
                for step in Self.paths[from]! { try m.transition(to: step, cause: "setup", context: context) }
                #expect(m.state == from)
                do {
                    try m.transition(to: to, cause: "bad idea", context: context)
                    Issue.record("\(from) → \(to) was accepted")
                } catch let error as LaunchError {
                    #expect(error == .invalidTransition(from: from, to: to, cause: "bad idea"))
                    #expect(error.description == "launch state: cannot go from \(from) to \(to) (cause: bad idea)")
                }
                #expect(m.state == from)
                checked += 1
            }
        }
        #expect(checked == 36 - 9)
    }

    @Test func transitionsAreAppendedToTheEventLog() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/events.jsonl"
        let log = try EventLog(path: path, now: { Date(timeIntervalSince1970: 1_700_000_000.25) })
        var m = LaunchStateMachine(log: log)
        try m.transition(to: .failed, cause: "rank 1 exited on signal 9 (Killed)", context: context)
        try m.transition(to: .gaveUp, cause: "no restarts left", context: LaunchContext(attempt: 1, worldSize: 0, hosts: []))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0] == #"{"time":"2023-11-14T22:13:20.250Z","event":"transition","from":"starting","to":"failed","cause":"rank 1 exited on signal 9 (Killed)","attempt":1,"np":4,"hosts":["h1:2","h2:2"]}"#)
        #expect(lines[1].hasSuffix(#""from":"failed","to":"gaveUp","cause":"no restarts left","attempt":1,"np":0,"hosts":[]}"#))
    }
}
