// The server's Prometheus metrics (swift-prometheus): requests by endpoint and status, request
// latency, batch sizes, queue depth and model swaps; `GET /metrics` renders them as text.
import Foundation
import Prometheus
import Synchronization

/// The metrics of one server, in their own registry.
public final class ServeMetrics: Sendable {
    /// The registry `GET /metrics` renders.
    public let registry = PrometheusCollectorRegistry()
    /// Rows waiting for a batch.
    public let queueDepth: Gauge
    /// Rows per batched forward.
    public let batchSize: ValueHistogram
    /// Seconds from a request's arrival to its response, per endpoint.
    private let latencyBuckets: [Duration] = [.microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
                                              .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                              .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)]
    /// Model swaps made by --watch.
    public let modelSwaps: Counter
    /// Requests whose handler runs (being read, queued, computed or answered).
    public let inFlight: Gauge
    /// The counter and histogram of each (endpoint, status) seen, so a request costs no registry lookup.
    private let recorders = Mutex<[String: (Counter, DurationHistogram)]>([:])

    /// A registry sized for batches of at most `maxBatch` rows.
    public init(maxBatch: Int) {
        queueDepth = registry.makeGauge(descriptor: Self.name("queue_depth", "rows", "Rows waiting for a batch"), labels: [])
        var buckets: [Double] = []
        var b = 1
        while b < maxBatch { buckets.append(Double(b)); b *= 2 }
        buckets.append(Double(maxBatch))
        batchSize = registry.makeValueHistogram(descriptor: Self.name("batch_size", "rows", "Rows per batched forward"),
                                                labels: [], buckets: buckets)
        inFlight = registry.makeGauge(descriptor: Self.name("requests_in_flight", "", "Requests being read, queued, computed or answered"), labels: [])
        modelSwaps = registry.makeCounter(descriptor: Self.name("model_swaps", "total", "Models swapped in by --watch"), labels: [])
    }

    /// Counts one answered request and its latency.
    public func record(endpoint: String, status: Int, duration: Duration) {
        let key = "\(endpoint) \(status)"
        let (counter, histogram) = recorders.withLock { cache in
            if let known = cache[key] { return known }
            let made = (registry.makeCounter(descriptor: Self.requests, labels: [("endpoint", endpoint), ("status", String(status))]),
                        registry.makeDurationHistogram(descriptor: Self.latency, labels: [("endpoint", endpoint)], buckets: latencyBuckets))
            cache[key] = made
            return made
        }
        counter.increment()
        histogram.record(duration)
    }

    private static var requests: MetricNameDescriptor { name("requests", "total", "Requests answered, by endpoint and HTTP status") }
    private static var latency: MetricNameDescriptor { name("request_duration", "seconds", "Seconds from a request's arrival to its response") }

    /// `cohort_serve_METRIC_UNIT`.
    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "cohort", subsystem: "serve", metricName: metric, unitName: unit, helpText: help)
    }

    /// The Prometheus text exposition of every metric.
    public func render() -> String { registry.emitToString() }
}
