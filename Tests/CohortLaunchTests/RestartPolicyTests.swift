// The restart budget (failures count, membership changes do not) and the
// failure summary printed when the coordinator gives up.
import Foundation
import Testing
@testable import CohortLaunch

@Suite struct RestartPolicyTests {
    let hosts = [HostSlots(host: "h1", slots: 2), HostSlots(host: "h2", slots: 2)]

    func failure(_ attempt: Int, _ kind: FailureKind) -> FailureRecord {
        FailureRecord(attempt: attempt, time: Date(timeIntervalSince1970: 1_700_000_000 + Double(attempt) * 60),
                      worldSize: 4, hosts: hosts, kind: kind)
    }

    @Test func budgetCountsFailuresOnly() {
        var p = RestartPolicy(maxRestarts: 2)
        #expect(p.recordFailure(failure(0, .rankCrashed(rank: 1, detail: "rank 1 on node h2 exited on signal 9 (Killed)"))) == .restart(restartsUsed: 1))
        // A scale-up (healthy → restarting) records nothing here, so the budget is unchanged.
        #expect(p.restartsRemaining == 1)
        #expect(p.recordFailure(failure(2, .nodeLost(host: "h2", detail: "lost"))) == .restart(restartsUsed: 2))
        #expect(p.recordFailure(failure(3, .hang(detail: "no heartbeat for 120 s"))) == .giveUp(reason: "attempt 3 failed and all 2 restarts are used up"))
        #expect(p.history.records.count == 3)
    }

    @Test func notRetryableGivesUpAtOnce() {
        var p = RestartPolicy(maxRestarts: 5)
        #expect(p.recordFailure(failure(0, .userError(detail: "rank 0: --lr: not a number"))) ==
                .giveUp(reason: "attempt 0 failed with a userError, which a restart cannot fix: rank 0: --lr: not a number"))
        #expect(p.restartsUsed == 0)
        var zero = RestartPolicy(maxRestarts: 0)
        #expect(zero.recordFailure(failure(0, .preempted(detail: "rank 0: SIGTERM"))) == .giveUp(reason: "attempt 0 failed and all 0 restarts are used up"))
    }

    @Test func summaryListsEveryFailure() {
        var p = RestartPolicy(maxRestarts: 1)
        _ = p.recordFailure(failure(0, .rankCrashed(rank: 1, detail: "rank 1 on node h2 exited on signal 9 (Killed)")))
        guard case let .giveUp(reason) = p.recordFailure(failure(1, .collectiveTimeout(detail: "rank 0: allreduce exceeded 600 s"))) else {
            Issue.record("expected to give up"); return
        }
        #expect(p.gaveUpSummary(reason: reason) == """
        cohort launch gave up: attempt 1 failed and all 1 restart is used up
        2 failures:
          attempt 0 at 2023-11-14T22:13:20.000Z, np=4 on h1:2,h2:2: rankCrashed: rank 1 on node h2 exited on signal 9 (Killed)
          attempt 1 at 2023-11-14T22:14:20.000Z, np=4 on h1:2,h2:2: collectiveTimeout: rank 0: allreduce exceeded 600 s
        """)
        #expect(FailureHistory().summary() == "no failures")
    }
}
