// Rank 0's training progress on standard error. On a terminal: one live line
// redrawn with \r at most ~10 times a second (step/total, bar, percent, elapsed
// and ETA, samples/s, loss), fitted to the width. Otherwise (a log file, a pipe,
// `cohort launch`): a plain line every N steps or every ~30 s, no control characters.
import CohortCore
import Foundation

/// A training progress display; confined to the training thread.
public final class ProgressBar {
    /// How the bar renders, decided once (injectable so tests can render both).
    public enum Mode {
        /// A live line redrawn in place; `width` gives the terminal's columns at each redraw.
        case live(width: () -> Int)
        /// Plain lines every `everySteps` steps or every `interval` seconds, whichever comes first.
        case lines(everySteps: Int, interval: Double)
        /// No output (ranks other than 0).
        case silent

        /// `.silent` off rank 0, `.live` when standard error is a terminal, else `.lines(everySteps:interval: 30)`.
        public static func detect(everySteps: Int, rank: Int = RunInfo.current.rank) -> Mode {
            guard rank == 0 else { return .silent }
            return Terminal.isTerminal() ? .live(width: { Terminal.width() }) : .lines(everySteps: max(1, everySteps), interval: 30)
        }
    }

    /// What one rendering shows.
    public struct Snapshot: Sendable, Equatable {
        public var step: Int
        /// Total steps, or nil when unknown (no bar, no ETA).
        public var total: Int?
        public var elapsed: Double
        /// Samples per second since the bar started (nil before the first timed step).
        public var samplesPerSecond: Double?
        public var loss: Double?
        /// Seconds left at the current pace (nil when unknown).
        public var eta: Double?

        public init(step: Int, total: Int?, elapsed: Double, samplesPerSecond: Double?, loss: Double?, eta: Double?) {
            self.step = step; self.total = total; self.elapsed = elapsed
            self.samplesPerSecond = samplesPerSecond; self.loss = loss; self.eta = eta
        }
    }

    private let mode: Mode
    private let total: Int?
    private let samplesPerStep: Int
    private let clock: () -> Double
    private let output: (String) -> Void
    private let start: Double
    private let startStep: Int
    private var lastDraw = -Double.infinity
    private var lastPrintedStep: Int?
    private var latest: Snapshot?
    private var liveLineShown = false

    /// - Parameters:
    ///   - total: the step the run ends at (nil if unknown); `startStep` is where it starts (resume).
    ///   - samplesPerStep: the global batch, for samples/s.
    ///   - clock: seconds, monotonic; `output` receives raw text (default: standard error, unbuffered).
    public init(total: Int?, startStep: Int = 0, samplesPerStep: Int, mode: Mode,
                clock: @escaping () -> Double = { ProcessInfo.processInfo.systemUptime },
                output: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.total = total; self.startStep = startStep; self.samplesPerStep = samplesPerStep
        self.mode = mode; self.clock = clock; self.output = output
        start = clock()
        // Plain lines wait for the first N steps or interval; the live line draws at once.
        if case .lines = mode { lastDraw = start }
    }

    /// Records that `step` finished with `loss`; redraws or prints when due.
    public func update(step: Int, loss: Double?) {
        let now = clock()
        let snap = snapshot(step: step, loss: loss, now: now)
        latest = snap
        switch mode {
        case .silent: return
        case .live(let width):
            guard now - lastDraw >= 0.1 || step == total else { return }
            lastDraw = now
            output("\r" + Self.liveLine(snap, width: width()))
            liveLineShown = true
        case .lines(let every, let interval):
            guard step % every == 0 || now - lastDraw >= interval || step == total else { return }
            lastDraw = now
            lastPrintedStep = step
            output(Self.plainLine(snap) + "\n")
        }
    }

    /// Prints a log line without breaking the live line (which is redrawn under it).
    public func log(_ message: String) {
        switch mode {
        case .silent: return
        case .live(let width):
            let w = max(width() - 1, 1)
            output(liveLineShown ? "\r" + String(repeating: " ", count: w) + "\r" + message + "\n" : message + "\n")
            if let snap = latest { output("\r" + Self.liveLine(snap, width: width())) }
        case .lines: output(message + "\n")
        }
    }

    /// Draws the final state and ends the line with a newline.
    public func finish() {
        guard let snap = latest else { return }
        switch mode {
        case .silent: return
        case .live(let width): output("\r" + Self.liveLine(snap, width: width()) + "\n")
        case .lines: if lastPrintedStep != snap.step { output(Self.plainLine(snap) + "\n") }
        }
        latest = nil
    }

    private func snapshot(step: Int, loss: Double?, now: Double) -> Snapshot {
        let elapsed = max(now - start, 0), done = step - startStep
        let stepsPerSecond = elapsed > 0 && done > 0 ? Double(done) / elapsed : nil
        var eta: Double?
        if let rate = stepsPerSecond, let t = total { eta = Double(max(t - step, 0)) / rate }
        return Snapshot(step: step, total: total, elapsed: elapsed, samplesPerSecond: stepsPerSecond.map { $0 * Double(samplesPerStep) },
                        loss: loss, eta: eta)
    }

    // MARK: rendering (pure, tested as strings)

    /// The live line, padded with spaces to `width - 1` columns (the last column stays free so
    /// the terminal never wraps). Fields are dropped from the right, and the bar shrinks, to fit.
    public static func liveLine(_ s: Snapshot, width: Int) -> String {
        let columns = max(width - 1, 10)
        let head = s.total.map { "\(s.step)/\($0)" } ?? "step \(s.step)"
        let percent = s.total.map { t -> String in
            let p = t > 0 ? Int((Double(s.step) / Double(t) * 100).rounded(.down)) : 100
            return String(format: "%3d%%", min(max(p, 0), 100))
        }
        let time = s.total == nil ? duration(s.elapsed) : "\(duration(s.elapsed))<\(s.eta.map(duration) ?? "?")"
        var tail = [time]
        if let r = s.samplesPerSecond { tail.append("\(rate(r)) samples/s") }
        if let l = s.loss { tail.append("loss \(number(l))") }
        // Fit: drop trailing fields first, then the bar; the bar takes what is left (at most 30).
        while !tail.isEmpty {
            let fixed = ([head] + (percent.map { [$0] } ?? []) + tail).joined(separator: " ")
            if fixed.count + 13 <= columns || (s.total == nil && fixed.count <= columns) { break }
            tail.removeLast()
        }
        var parts = [head]
        let fixedLength = ([head] + (percent.map { [$0] } ?? []) + tail).joined(separator: " ").count
        if let t = s.total, columns - fixedLength - 1 >= 12 {
            parts.append(bar(fraction: t > 0 ? Double(s.step) / Double(t) : 1, width: min(columns - fixedLength - 1, 32)))
        }
        if let p = percent { parts.append(p) }
        parts += tail
        var line = parts.joined(separator: " ")
        if line.count > columns { line = String(line.prefix(columns)) }
        return line + String(repeating: " ", count: columns - line.count)
    }

    /// The plain line: `step 300/1000 (30%) elapsed 00:42 eta 01:38 3050 samples/s loss 0.3142`.
    public static func plainLine(_ s: Snapshot) -> String {
        var parts = [s.total.map { "step \(s.step)/\($0)" } ?? "step \(s.step)"]
        if let t = s.total, t > 0 { parts.append("(\(Int((Double(s.step) / Double(t) * 100).rounded(.down)))%)") }
        parts.append("elapsed \(duration(s.elapsed))")
        if let e = s.eta { parts.append("eta \(duration(e))") }
        if let r = s.samplesPerSecond { parts.append("\(rate(r)) samples/s") }
        if let l = s.loss { parts.append("loss \(number(l))") }
        return parts.joined(separator: " ")
    }

    /// `[=========>          ]` with `width` columns including the brackets.
    static func bar(fraction: Double, width: Int) -> String {
        let inner = max(width - 2, 1)
        let filled = Int((min(max(fraction, 0), 1) * Double(inner)).rounded(.down))
        let head = filled < inner ? (filled > 0 ? ">" : "") : ""
        let body = String(repeating: "=", count: filled < inner && filled > 0 ? filled - 1 : filled)
        return "[" + body + head + String(repeating: " ", count: inner - body.count - head.count) + "]"
    }

    /// `42:07` or `1:02:03`.
    static func duration(_ seconds: Double) -> String {
        let s = seconds.isFinite ? Int(seconds.rounded()) : 0
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }

    static func rate(_ r: Double) -> String { r >= 100 ? String(format: "%.0f", r) : String(format: "%.1f", r) }
    static func number(_ v: Double) -> String { v.isFinite ? String(format: "%.4g", v) : "\(v)" }
}
