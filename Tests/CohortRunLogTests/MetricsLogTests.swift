// metrics.jsonl: write/read round trip (order, NaN as null, escaping), a torn
// last line skipped by the reader and cut by the writer, a corrupt middle line
// reported as file:line, and resuming at a checkpoint step.
import CohortCore
import Foundation
import Testing
@testable import CohortRunLog

func temporaryDirectory(_ name: String = #function) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-runlog-\(name.filter(\.isLetter))-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite struct MetricsLogTests {
    @Test func roundTripKeepsOrderValuesAndNaN() throws {
        let dir = try temporaryDirectory()
        let log = try MetricsLog(runDirectory: dir)
        try log.append(step: 100, wallTime: 1700000000.123, ["train_loss": 0.31, "lr": 0.001])
        try log.append(step: 200, wallTime: 1700000001.5, ["train_loss": .nan, "val \"loss\"": 1e-5, "lr": 2])
        let text = try String(contentsOfFile: log.path, encoding: .utf8)
        #expect(text == """
            {"step": 100, "wall_time": 1700000000.123, "train_loss": 0.31, "lr": 0.001}
            {"step": 200, "wall_time": 1700000001.5, "train_loss": null, "val \\"loss\\"": 1e-05, "lr": 2.0}

            """)
        let records = try MetricsLog.read(log.path)
        #expect(records.count == 2)
        #expect(records[0] == MetricRecord(step: 100, wallTime: 1700000000.123, metrics: [.init(name: "train_loss", value: 0.31), .init(name: "lr", value: 0.001)]))
        #expect(records[1].metrics.map(\.name) == ["train_loss", "val \"loss\"", "lr"])
        #expect(records[1]["train_loss"]!.isNaN && records[1]["val \"loss\""] == 1e-5 && records[1]["missing"] == nil)
    }

    @Test func tornLastLineIsSkippedAndCutOnReopen() throws {
        let dir = try temporaryDirectory()
        let path = (dir as NSString).appendingPathComponent("metrics.jsonl")
        try Data("{\"step\": 1, \"wall_time\": 5, \"loss\": 2}\n{\"step\": 2, \"wall_ti".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try MetricsLog.read(path).map(\.step) == [1])
        // Appending after a crash first removes the torn fragment, so the new line is not glued to it.
        try MetricsLog(runDirectory: dir).append(step: 2, wallTime: 6, ["loss": 1])
        #expect(try MetricsLog.read(path).map(\.step) == [1, 2])
        #expect(try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n").count == 3)
    }

    @Test func corruptMiddleLineNamesFileAndLine() throws {
        let dir = try temporaryDirectory()
        let path = (dir as NSString).appendingPathComponent("metrics.jsonl")
        try Data("{\"step\": 1, \"wall_time\": 5, \"loss\": 2}\n\n{\"step\": 2, \"wall_time\": 6, \"loss\": \"x\"}\n{\"step\": 3, \"wall_time\": 7}\n".utf8)
            .write(to: URL(fileURLWithPath: path))
        #expect(throws: CohortError.badFile(path: "\(path):3", "column 37: \"loss\" is not a number")) { try MetricsLog.read(path) }
        // A bad last line that did end with a newline was complete when written: an error too.
        try Data("{\"step\": 1, \"wall_time\": 5}\n{\"wall_time\": 6}\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CohortError.badFile(path: "\(path):2", "no \"step\" field")) { try MetricsLog.read(path) }
        try Data("{\"step\": 1.5, \"wall_time\": 5}\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CohortError.badFile(path: "\(path):1", "\"step\" must be an integer, not 1.5")) { try MetricsLog.read(path) }
        #expect(throws: CohortError.badFile(path: dir + "/nope.jsonl", "no such file")) { try MetricsLog.read(dir + "/nope.jsonl") }
    }

    @Test func resumingDropsLaterStepsAndReservedNamesAreRejected() throws {
        let dir = try temporaryDirectory()
        let log = try MetricsLog(runDirectory: dir)
        for s in [10, 20, 30, 40] { try log.append(step: s, wallTime: Double(s), ["loss": Double(s)]) }
        #expect(throws: CohortError.self) { try log.append(step: 50, ["step": 1]) }
        let resumed = try MetricsLog(runDirectory: dir, resumingAt: 20)
        try resumed.append(step: 30, wallTime: 99, ["loss": 0.5])
        let records = try MetricsLog.read(resumed.path)
        #expect(records.map(\.step) == [10, 20, 30] && records[2]["loss"] == 0.5)
    }
}
