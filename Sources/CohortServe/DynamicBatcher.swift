// Dynamic batching: requests queue their rows; compute threads take the queue's head, wait up
// to --max-delay-ms for more rows (up to --max-batch), run one forward on the slot's current
// model and hand each request its slice. Threads, not tasks: a forward blocks for milliseconds.
import Foundation

/// The answer to one request: its output rows and the model (name, version) that computed them.
public struct BatchResult: Sendable {
    /// `count × output.elementsPerRow` values.
    public var outputs: [Float]
    /// The model that ran the batch.
    public var model: any ServableModel
    /// Rows in the batch this request rode in.
    public var batchRows: Int
}

/// Coalesces concurrent requests into batched forwards on `threads` compute threads.
public final class DynamicBatcher: @unchecked Sendable {
    private struct Pending {
        let rows: [Float]
        let count: Int
        let enqueued: Date
        let reply: @Sendable (Result<BatchResult, ServeError>) -> Void
    }

    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var head = 0
    private var queuedRows = 0
    private var arriving = 0
    private var stopping = false
    private var running = 0
    /// Rows of the last 16 batches: how many requests are in play under the current load.
    private var recentRows = [Int](repeating: 1, count: 16)
    private var recentIndex = 0
    /// The rows a filling batch waits for (the largest recent batch).
    private var expectedRows = 1
    private let slot: ModelSlot
    private let configuration: ServeConfiguration
    private let metrics: ServeMetrics
    private var threads: [Thread] = []

    /// Starts `configuration.threads` compute threads serving `slot`'s model.
    public init(slot: ModelSlot, configuration: ServeConfiguration, metrics: ServeMetrics) {
        self.slot = slot
        self.configuration = configuration
        self.metrics = metrics
        for i in 0..<configuration.threads {
            let t = Thread { [unowned self] in self.workLoop() }
            t.name = "cohort-serve-compute-\(i)"
            t.stackSize = 8 << 20
            threads.append(t)
        }
        condition.lock(); running = threads.count; condition.unlock()
        threads.forEach { $0.start() }
    }

    /// Rows waiting for a batch.
    public var queueDepth: Int { condition.withLock { queuedRows } }

    /// Notes a request being read: while any is, a batch may wait (up to the delay window) for it to join.
    public func announce() { condition.withLock { arriving += 1 } }

    /// Ends an `announce` of a request that will not be queued (refused before `infer`).
    public func withdraw() {
        condition.withLock { arriving -= 1; condition.broadcast() }
    }

    /// Queues `count` rows (`rows.count == count × input.elementsPerRow`) and waits for their outputs;
    /// ends the caller's `announce`.
    /// - Throws: `ServeError.queueFull` when the queue would pass `maxQueuedRows`, `.shuttingDown` after `stop`,
    ///   `.inference` when the model fails on the batch.
    public func infer(rows: [Float], count: Int) async throws -> BatchResult {
        let result: Result<BatchResult, ServeError> = await withCheckedContinuation { continuation in
            let pending = Pending(rows: rows, count: count, enqueued: Date(), reply: { continuation.resume(returning: $0) })
            if let refusal = enqueue(pending) { continuation.resume(returning: .failure(refusal)) }
        }
        return try result.get()
    }

    private func enqueue(_ p: Pending) -> ServeError? {
        condition.lock()
        defer { condition.unlock() }
        arriving -= 1
        if stopping { return .shuttingDown }
        guard queuedRows + p.count <= configuration.maxQueuedRows else {
            return .queueFull(queuedRows: queuedRows, limit: configuration.maxQueuedRows)
        }
        let wasEmpty = head == queue.count
        queue.append(p)
        queuedRows += p.count
        metrics.queueDepth.set(Double(queuedRows))
        // Wake a compute thread only when it can act (each needless wake-up is a context switch per
        // request): new work for an idle thread, or a filling batch that may now run.
        if queuedRows >= configuration.maxBatch || (arriving == 0 && queuedRows >= expectedRows) {
            condition.broadcast()
        } else if wasEmpty {
            condition.signal()
        }
        return nil
    }

    /// Refuses new requests, lets the compute threads finish every queued one, then returns.
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    /// Takes the next batch: the queue's head plus whatever else fits within the delay window.
    /// Returns nil when stopping with an empty queue. Called with the lock held.
    private func nextBatch() -> [Pending]? {
        while head == queue.count {
            if stopping { return nil }
            condition.wait()
        }
        let deadline = queue[head].enqueued.addingTimeInterval(configuration.maxDelayMilliseconds / 1000)
        // Wait for requests being parsed, and, under concurrent load, until the batch is as large as
        // the recent ones (their clients are about to send again: one large forward costs less than
        // two halves). A lone client's batches hold 1 row, so its requests never wait.
        expectedRows = min(recentRows.max() ?? 1, configuration.maxBatch)
        while queuedRows < configuration.maxBatch && (arriving > 0 || queuedRows < expectedRows) && !stopping {
            if !condition.wait(until: deadline) { break }
            if head == queue.count { return [] }   // another thread took them
        }
        guard head < queue.count else { return [] }
        var batch: [Pending] = [queue[head]]
        var rows = queue[head].count
        head += 1
        while head < queue.count && rows + queue[head].count <= configuration.maxBatch {
            rows += queue[head].count
            batch.append(queue[head])
            head += 1
        }
        queuedRows -= rows
        recentRows[recentIndex] = rows
        recentIndex = (recentIndex + 1) % recentRows.count
        if head > 1024 && head * 2 > queue.count { queue.removeFirst(head); head = 0 }
        if head == queue.count { queue.removeAll(keepingCapacity: true); head = 0 }
        metrics.queueDepth.set(Double(queuedRows))
        return batch
    }

    private func workLoop() {
        while true {
            condition.lock()
            let taken = nextBatch()
            condition.unlock()
            guard let batch = taken else { break }
            if !batch.isEmpty { run(batch) }
        }
        condition.lock()
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    private func run(_ batch: [Pending]) {
        let model = slot.current
        let rows = batch.reduce(0) { $0 + $1.count }
        let width = model.input.elementsPerRow, outWidth = model.output.elementsPerRow
        var input = [Float]()
        input.reserveCapacity(rows * width)
        for p in batch { input.append(contentsOf: p.rows) }
        metrics.batchSize.record(Double(rows))
        do {
            guard input.count == rows * width else {
                throw ServeError.inference("batch holds \(input.count) values, \(rows) rows of \(width) expected")
            }
            let output = try model.infer(rows: input, count: rows)
            guard output.count == rows * outWidth else {
                throw ServeError.inference("model returned \(output.count) values for \(rows) rows of \(outWidth)")
            }
            var offset = 0
            for p in batch {
                let n = p.count * outWidth
                p.reply(.success(BatchResult(outputs: Array(output[offset..<offset + n]), model: model, batchRows: rows)))
                offset += n
            }
        } catch {
            let failure = (error as? ServeError) ?? .inference("\(error)")
            batch.forEach { $0.reply(.failure(failure)) }
        }
    }
}
