// Text generation off the event loop: a text request's prompts run one after another on one of
// --threads compute threads (generation is token by token, so there is no cross-request batch);
// at most --max-queue prompts wait, more → 503 with Retry-After.
import Foundation

/// Runs text requests on `threads` threads with a bounded queue.
final class TextWorkers: @unchecked Sendable {
    private struct Job {
        let prompts: Int
        let work: @Sendable () -> Void
    }

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var queuedPrompts = 0
    private var stopping = false
    private let limit: Int
    private let metrics: ServeMetrics

    /// Starts `threads` threads (0 for a row model: it never has text jobs); at most `maxQueuedPrompts` prompts wait.
    init(threads: Int, maxQueuedPrompts: Int, metrics: ServeMetrics) {
        limit = maxQueuedPrompts
        self.metrics = metrics
        for i in 0..<threads {   // none for a row model
            let t = Thread { [unowned self] in self.workLoop() }
            t.name = "cohort-serve-text-\(i)"
            t.stackSize = 8 << 20
            t.start()
        }
    }

    /// Continues each of `prompts` with `model` (`maxTokens` tokens each), in order.
    /// - Throws: `ServeError.queueFull` when the queue is full, `.shuttingDown` after `stop`, and the model's errors
    ///   (a prompt's fault names its index as `inputs[0].data[i]`).
    func generate(_ prompts: [String], maxTokens: Int, model: any ServableModel) async throws -> [String] {
        let result: Result<[String], ServeError> = await withCheckedContinuation { continuation in
            let job = Job(prompts: prompts.count) {
                do {
                    let texts = try prompts.enumerated().map { i, p in
                        do { return try model.generate(prompt: p, maxTokens: maxTokens) } catch let e as ServeError {
                            if case .badRequest(let why) = e { throw ServeError.badRequest("inputs[0].data[\(i)]: \(why)") }
                            throw e
                        }
                    }
                    continuation.resume(returning: .success(texts))
                } catch {
                    continuation.resume(returning: .failure((error as? ServeError) ?? .inference("\(error)")))
                }
            }
            if let refusal = enqueue(job) { continuation.resume(returning: .failure(refusal)) }
        }
        return try result.get()
    }

    /// Refuses new jobs; queued ones still run; threads exit once the queue is empty.
    func stop() { condition.withLock { stopping = true; condition.broadcast() } }

    private func enqueue(_ job: Job) -> ServeError? {
        condition.withLock {
            if stopping { return .shuttingDown }
            guard queuedPrompts + job.prompts <= limit else { return .queueFull(queuedRows: queuedPrompts, limit: limit) }
            jobs.append(job)
            queuedPrompts += job.prompts
            metrics.queueDepth.set(Double(queuedPrompts))
            condition.signal()
            return nil
        }
    }

    private func workLoop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty { condition.unlock(); return }
            let job = jobs.removeFirst()
            queuedPrompts -= job.prompts
            metrics.queueDepth.set(Double(queuedPrompts))
            condition.unlock()
            job.work()
        }
    }
}
