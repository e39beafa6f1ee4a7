// --watch: polls for a newer model (the executable's closure reads a checkpoint directory) and swaps
// it into the slot; a load that fails or does not fit the served signature is logged and skipped.
import Foundation
import Logging

/// Polls `load` every `interval` on a background thread and swaps each model it returns into `slot`.
public final class ModelWatcher: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false
    private var finished = false

    /// Starts polling. `load` returns a newer model, or nil when there is none; a thrown error is logged.
    public init(slot: ModelSlot, metrics: ServeMetrics?, interval: Double, logger: Logger,
                load: @escaping @Sendable () throws -> (any ServableModel)?) {
        let thread = Thread { [self] in
            while !self.waitOrStop(interval) {
                do {
                    guard let model = try load() else { continue }
                    try slot.replace(with: model)
                    metrics?.modelSwaps.increment()
                    logger.info("model swapped", metadata: ["model": "\(model.name)", "version": "\(model.version)"])
                } catch {
                    logger.warning("watch: \(error)")
                }
            }
            self.condition.withLock { self.finished = true; self.condition.broadcast() }
        }
        thread.name = "cohort-serve-watch"
        thread.start()
    }

    /// Stops polling and waits for a load in progress to end.
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// Waits `seconds` or until `stop`; true when stopped.
    private func waitOrStop(_ seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while !stopped { if !condition.wait(until: deadline) { break } }
        return stopped
    }
}
