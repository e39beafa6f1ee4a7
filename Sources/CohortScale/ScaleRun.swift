// One measured run of a sweep, as stored in results.jsonl: its configuration and
// round, throughput over the timed steps, and the per-phase time per step
// (mean over ranks and timed steps) read from the run's `--step-times` summary.
import CohortCore
import Foundation

/// The result of one run (one configuration in one round).
public struct ScaleRun: Codable, Sendable, Equatable {
    public var configuration: ScaleConfiguration
    /// 0-based round (repeat).
    public var round: Int
    /// "ok", or "failed" with `error` set.
    public var status: String
    public var error: String?
    public var globalBatch: Int
    /// Steps timed (after the warm-up).
    public var timedSteps: Int
    public var samplesPerSecond: Double
    /// Tokens per second for sequence models (samples × context), else nil.
    public var tokensPerSecond: Double?
    /// Seconds per step by phase (data, compute, comm_wait, optimizer, total): mean over ranks and timed steps.
    public var phases: [String: Double]
    /// Bytes of gradients averaged per step (each rank's arena).
    public var gradientBytes: Int
    public var transport: String
    public var blasKernel: String
    public var blasThreads: Int
    /// Wall seconds of the whole job (start-up and evaluation included).
    public var wallSeconds: Double
    /// Unix time the run started.
    public var started: Double

    public var ok: Bool { status == "ok" }

    /// A failed run (kept in the results so a resumed sweep does not retry it forever).
    public static func failed(_ c: ScaleConfiguration, round: Int, globalBatch: Int, error: String, wallSeconds: Double, started: Double) -> ScaleRun {
        ScaleRun(configuration: c, round: round, status: "failed", error: error, globalBatch: globalBatch, timedSteps: 0,
                 samplesPerSecond: 0, tokensPerSecond: nil, phases: [:], gradientBytes: 0, transport: "", blasKernel: "",
                 blasThreads: 0, wallSeconds: wallSeconds, started: started)
    }

    /// Reads a `cohort train --step-times --summary-json` file; the first `warmup` steps are not timed.
    /// - Throws: `CohortError.badFile` naming the file when it lacks the step times or is malformed.
    public static func parse(summary path: String, configuration c: ScaleConfiguration, round: Int, warmup: Int,
                             wallSeconds: Double, started: Double) throws -> ScaleRun {
        guard let data = FileManager.default.contents(atPath: path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CohortError.badFile(path: path, "no JSON summary (did the run finish?)")
        }
        guard let phaseNames = json["step_time_phases"] as? [String],
              let perRank = json["step_times"] as? [[[Double]]], let rank0 = perRank.first,
              let batch = json["batch_size"] as? Int else {
            throw CohortError.badFile(path: path, "the summary has no step_times (run without --step-times?)")
        }
        guard let totalIndex = phaseNames.firstIndex(of: "total"), rank0.count > warmup else {
            throw CohortError.badFile(path: path, "\(rank0.count) steps recorded, not more than the \(warmup) warm-up steps")
        }
        let timed = rank0.count - warmup
        // Steps end with collectives, so rank 0's step times are the job's.
        let seconds = rank0[warmup...].reduce(0) { $0 + $1[totalIndex] }
        var phases: [String: Double] = [:]
        for (p, name) in phaseNames.enumerated() {
            let sum = perRank.reduce(0.0) { acc, rows in acc + rows[warmup...].reduce(0) { $0 + $1[p] } }
            phases[name] = sum / Double(perRank.count * timed)
        }
        let samplesPerSecond = Double(batch * timed) / max(seconds, 1e-12)
        let tokens = (json["tokens_per_sample"] as? Int).flatMap { $0 > 0 ? Double($0) * samplesPerSecond : nil }
        return ScaleRun(configuration: c, round: round, status: "ok", error: nil, globalBatch: batch, timedSteps: timed,
                        samplesPerSecond: samplesPerSecond, tokensPerSecond: tokens, phases: phases,
                        gradientBytes: json["gradient_bytes"] as? Int ?? 0, transport: json["gradient_transport"] as? String ?? "",
                        blasKernel: json["blas_kernel"] as? String ?? "", blasThreads: json["blas_threads"] as? Int ?? 0,
                        wallSeconds: wallSeconds, started: started)
    }
}
