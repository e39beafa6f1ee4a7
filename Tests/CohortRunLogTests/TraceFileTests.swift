// The timeline files: the rank-file naming rule, a recorder's events written as Chrome
// trace JSON (metadata, µs timestamps that keep nesting, the step window, the buffer cap),
// and `TraceMerge` joining ranks and refusing files of other runs, repeated ranks and
// files that are no Cohort trace — each error naming the file.
import CohortCore
import Foundation
import Testing
@testable import CohortRunLog

@Suite struct TraceFileTests {
    @Test func rankFileNames() {
        #expect(TraceFile.rankPath("trace.json", rank: 0) == "trace.rank0.json")
        #expect(TraceFile.rankPath("/tmp/run/t.json", rank: 3) == "/tmp/run/t.rank3.json")
        #expect(TraceFile.rankPath("/tmp/run.d/trace", rank: 1) == "/tmp/run.d/trace.rank1")
        #expect(TraceFile.rankPath(".trace", rank: 2) == ".trace.rank2")
    }

    /// A recorder with a few nested events on this thread, as rank `rank` of a 2-rank run `run`.
    func recorded(_ path: String, rank: Int, run: String, window: ClosedRange<Int>? = nil, capacity: Int = 1000, stepCount: Int = 3) throws -> (events: [[String: Any]], dropped: Int) {
        let r = TraceRecorder(capacityPerThread: capacity, steps: window)
        for step in 1...stepCount {
            r.beginStep(step)
            r.span(.step, argument: Int64(step)) {
                r.span(.forward) { usleep(200) }
                r.span(.backward) { r.span(.bucketLaunch, argument: 0) {} }
                r.span(.optimizer) { usleep(100) }
            }
        }
        let dropped = try TraceFile.write(r, identity: .init(rank: rank, worldSize: 2, runID: run, barrierWallMicroseconds: 5), to: path)
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
        #expect(root["displayTimeUnit"] as? String == "ms")
        return (root["traceEvents"] as? [[String: Any]] ?? [], dropped)
    }

    @Test func eventsAreNestedCompleteEventsWithMetadata() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (events, dropped) = try recorded(dir + "/t.rank1.json", rank: 1, run: "abc")
        #expect(dropped == 0)
        #expect(events.contains { $0["ph"] as? String == "M" && $0["name"] as? String == "process_name" && ($0["args"] as? [String: Any])?["name"] as? String == "rank 1" })
        let complete = events.filter { $0["ph"] as? String == "X" }
        #expect(complete.count == 15)
        #expect(complete.allSatisfy { $0["pid"] as? Int == 1 && $0["ts"] is Int && $0["dur"] is Int })
        let steps = complete.filter { $0["name"] as? String == "step" }
        for e in complete where e["name"] as? String != "step" {
            let (ts, end) = (e["ts"] as! Int, (e["ts"] as! Int) + (e["dur"] as! Int))
            #expect(steps.contains { ($0["ts"] as! Int) <= ts && end <= ($0["ts"] as! Int) + ($0["dur"] as! Int) }, "\(e) lies in a step")
        }
        // Wall-clock µs since the Unix epoch: within a minute of now.
        let now = Int(Date().timeIntervalSince1970 * 1e6)
        #expect(abs((steps[0]["ts"] as! Int) - now) < 60_000_000)
    }

    @Test func stepWindowAndBufferCap() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let window = try recorded(dir + "/w.json", rank: 0, run: "r", window: 2...2).events.filter { $0["ph"] as? String == "X" }
        #expect(window.count == 5)
        #expect(window.filter { $0["name"] as? String == "step" }.compactMap { ($0["args"] as? [String: Any])?["step"] as? Int } == [2])
        let capped = try recorded(dir + "/c.json", rank: 0, run: "r", capacity: 16, stepCount: 5)   // 25 events
        #expect(capped.events.filter { $0["ph"] as? String == "X" }.count == 16)
        #expect(capped.dropped == 9)
    }

    @Test func mergeJoinsRanksAndNamesTheFileAtFault() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try recorded(dir + "/t.rank0.json", rank: 0, run: "run1")
        _ = try recorded(dir + "/t.rank1.json", rank: 1, run: "run1")
        let inputs = try TraceMerge.inputs([dir + "/t.json"])
        #expect(inputs == [dir + "/t.rank0.json", dir + "/t.rank1.json"])
        let report = try TraceMerge.merge(inputs, into: dir + "/m.json")
        #expect(report.ranks == [0, 1] && report.missingRanks.isEmpty && report.events == 2 * 19)
        #expect(report.barrierSpreadMicroseconds == 0)
        _ = try recorded(dir + "/x.rank1.json", rank: 1, run: "run2")
        #expect(throws: CohortError.self) { try TraceMerge.merge([dir + "/t.rank0.json", dir + "/x.rank1.json"], into: dir + "/m.json") }
        do { _ = try TraceMerge.merge([dir + "/t.rank0.json", dir + "/x.rank1.json"], into: dir + "/m.json") } catch {
            #expect("\(error)".contains(dir + "/x.rank1.json") && "\(error)".contains("another run"))
        }
        do { _ = try TraceMerge.merge([dir + "/t.rank1.json", dir + "/t.rank1.json"], into: dir + "/m.json") } catch {
            #expect("\(error)".contains("rank 1 again"))
        }
        try "{}".write(toFile: dir + "/e.json", atomically: true, encoding: .utf8)
        #expect(throws: CohortError.badFile(path: dir + "/e.json", "not a Chrome trace file (a JSON object with a \"traceEvents\" array)")) {
            try TraceMerge.merge([dir + "/e.json"], into: dir + "/m.json")
        }
        #expect(throws: CohortError.self) { try TraceMerge.inputs([dir + "/none.json"]) }
    }
}
