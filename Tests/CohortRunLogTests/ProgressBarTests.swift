// The progress bar rendered as strings: the live line (fits the width, bar,
// percent, ETA, throughput, loss; redraws at most 10 times a second; ends with
// a newline) and the plain lines (every N steps or 30 s; no control characters).
import Foundation
import Testing
@testable import CohortRunLog

/// A clock the test advances by hand.
final class ManualClock: @unchecked Sendable {
    var now = 1000.0
}

@Suite struct ProgressBarTests {
    @Test func liveLineFieldsAndWidth() {
        let s = ProgressBar.Snapshot(step: 250, total: 1000, elapsed: 50, samplesPerSecond: 640, loss: 0.31416, eta: 150)
        let line = ProgressBar.liveLine(s, width: 100)
        #expect(line.count == 99)
        #expect(line.hasPrefix("250/1000 [======>      "))
        #expect(line.contains("]  25% 00:50<02:30 640 samples/s loss 0.3142"))
        // Narrow terminals drop the loss, then the rate, never exceed width - 1.
        for w in [20, 30, 40, 50, 60, 80] {
            let l = ProgressBar.liveLine(s, width: w)
            #expect(l.count == max(w - 1, 10), "width \(w): \(l)")
            #expect(l.hasPrefix("250/1000"))
        }
        #expect(!ProgressBar.liveLine(s, width: 40).contains("loss"))
        #expect(ProgressBar.liveLine(s, width: 40).contains("25%"))
        // Unknown total: no bar, no ETA.
        let open = ProgressBar.liveLine(.init(step: 7, total: nil, elapsed: 3725, samplesPerSecond: 12.5, loss: nil, eta: nil), width: 60)
        #expect(open.trimmingCharacters(in: .whitespaces) == "step 7 1:02:05 12.5 samples/s")
    }

    @Test func liveModeRedrawsAtMostTenTimesASecondAndFinishes() {
        let clock = ManualClock()
        var out = ""
        let bar = ProgressBar(total: 100, samplesPerStep: 32, mode: .live(width: { 72 }), clock: { clock.now }, output: { out += $0 })
        for step in 1...100 {
            clock.now += 0.02  // 50 steps per second
            bar.update(step: step, loss: 1 / Double(step))
        }
        let redraws = out.filter { $0 == "\r" }.count
        #expect(redraws >= 14 && redraws <= 22, "\(redraws) redraws in 2 s")
        bar.finish()
        #expect(out.hasSuffix("\n") && !out.dropLast().contains("\n"))
        let last = out.split(separator: "\r").last!
        #expect(last.hasPrefix("100/100 [====") && last.contains("100% 00:02<00:00 1600 samples/s loss 0.01"))
    }

    @Test func plainLinesEveryNStepsOrThirtySeconds() {
        let clock = ManualClock()
        var out = ""
        let bar = ProgressBar(total: 50, startStep: 10, samplesPerStep: 8, mode: .lines(everySteps: 20, interval: 30),
                              clock: { clock.now }, output: { out += $0 })
        for step in 11...50 {
            clock.now += step == 25 ? 31 : 0.5  // one slow step: the 30 s rule prints step 25
            bar.update(step: step, loss: 2)
        }
        bar.finish()
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.map { $0.split(separator: " ")[1] } == ["20/50", "25/50", "40/50", "50/50"])
        #expect(lines[0] == "step 20/50 (40%) elapsed 00:05 eta 00:15 16.0 samples/s loss 2")
        #expect(!out.contains("\r") && !out.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(out.hasSuffix("\n"))
    }

    @Test func logLineKeepsTheLiveLineAndSilentPrintsNothing() {
        var out = ""
        let bar = ProgressBar(total: 10, samplesPerStep: 1, mode: .live(width: { 40 }), clock: { 0 }, output: { out += $0 })
        bar.update(step: 1, loss: nil)
        bar.log("checkpoint saved")
        #expect(out.contains("\r" + String(repeating: " ", count: 39) + "\rcheckpoint saved\n\r1/10"))
        var quiet = ""
        let silent = ProgressBar(total: 10, samplesPerStep: 1, mode: .silent, output: { quiet += $0 })
        silent.update(step: 10, loss: 1); silent.log("x"); silent.finish()
        #expect(quiet.isEmpty)
        if case .silent = ProgressBar.Mode.detect(everySteps: 10, rank: 1) {} else { Issue.record("rank 1 must be silent") }
        // Not a terminal: no TTY, the fallback width.
        #expect(!Terminal.isTerminal(-1) && Terminal.width(-1, fallback: 77) == 77)
    }
}
