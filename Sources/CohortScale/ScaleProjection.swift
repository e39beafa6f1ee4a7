// Projection past one machine: a latency–bandwidth (alpha–beta) model of the
// gradient all-reduce and a compute model from the sweep's 1-rank run predict
// the step time, throughput and efficiency at world sizes and network speeds
// this machine cannot run. The same model, with this machine's fitted alpha and
// beta, predicts the configurations that were measured: its error there is
// printed next to every projection (docs/scaling.md explains the model and its limits).
import CohortCore
import CohortStats
import Foundation

/// `T(n bytes) = α + β·n` for one all-reduce of `ranks` ranks, fitted by least squares.
public struct AllreduceFit: Sendable, Equatable {
    /// Seconds per message step (latency).
    public var alpha: Double
    /// Seconds per byte on one link.
    public var beta: Double
    /// Ranks of the measurement the fit came from.
    public var ranks: Int
    /// Root-mean-square relative error of the fit on its points.
    public var relativeRMS: Double

    /// Fits `cohort bench allreduce --json` lines (`bytes`, `wrapper_us`, `ranks`) of sizes ≥ `minimumBytes`
    /// with the ring all-reduce's form: time = 2(p−1)·α + 2(p−1)/p · bytes · β.
    /// - Throws: `CohortError.badFile` when fewer than two usable points are found.
    public static func fit(benchLines: [String], path: String, minimumBytes: Int = 4096) throws -> AllreduceFit {
        var points: [(x: Double, y: Double)] = []
        var ranks = 0
        for line in benchLines {
            let text = line.hasPrefix("RESULT ") ? String(line.dropFirst(7)) : line
            guard let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  obj["workload"] as? String == "allreduce", let bytes = obj["bytes"] as? Int, let us = obj["wrapper_us"] as? Double,
                  let p = obj["ranks"] as? Int, bytes >= minimumBytes else { continue }
            ranks = p
            points.append((Double(bytes), us * 1e-6))
        }
        guard points.count >= 2, ranks >= 2 else {
            throw CohortError.badFile(path: path, "needs at least two `cohort bench allreduce --json` results of ≥ \(minimumBytes) bytes at ≥ 2 ranks")
        }
        // Weighted least squares on relative error (large and small messages count alike).
        var sw = 0.0, sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0
        for (x, y) in points { let w = 1 / (y * y); sw += w; sx += w * x; sy += w * y; sxx += w * x * x; sxy += w * x * y }
        let slope = (sw * sxy - sx * sy) / (sw * sxx - sx * sx)
        let intercept = max((sy - slope * sx) / sw, 0)
        let p = Double(ranks)
        let fit = AllreduceFit(alpha: intercept / (2 * (p - 1)), beta: max(slope, 0) / (2 * (p - 1) / p), ranks: ranks, relativeRMS: 0)
        let rms = (points.map { pow(fit.seconds(bytes: Int($0.x), ranks: ranks, messages: 1) / $0.y - 1, 2) }.reduce(0, +) / Double(points.count)).squareRoot()
        return AllreduceFit(alpha: fit.alpha, beta: fit.beta, ranks: ranks, relativeRMS: rms)
    }

    /// Ring all-reduce of `bytes` in `messages` buckets over `ranks` ranks.
    public func seconds(bytes: Int, ranks p: Int, messages: Int) -> Double {
        guard p > 1 else { return 0 }
        let q = Double(p)
        return Double(messages) * 2 * (q - 1) * alpha + 2 * (q - 1) / q * Double(bytes) * beta
    }
}

/// The step-time model: compute from the 1-rank run, plus the part of the bucketed
/// all-reduce that backward cannot hide, plus the per-step agreement collective.
public struct StepModel: Sendable {
    /// Seconds per step at 1 rank outside communication (data + compute + optimizer).
    public var computeSeconds: Double
    /// Samples per step at 1 rank (strong: the global batch; weak: per rank).
    public var batch: Int
    public var mode: ScaleMode
    public var gradientBytes: Int
    /// Backward's share of compute (the window that hides all but the last bucket).
    public var backwardShare = 2.0 / 3.0

    public init(computeSeconds: Double, batch: Int, mode: ScaleMode, gradientBytes: Int) {
        self.computeSeconds = computeSeconds; self.batch = batch; self.mode = mode; self.gradientBytes = gradientBytes
    }

    /// Predicted seconds per step at `ranks` ranks. `coresPerNode`/`ranksPerNode` model
    /// oversubscription on one node (compute slows by ranks per core when they exceed the cores).
    public func stepSeconds(ranks p: Int, network: AllreduceFit, bucketBytes: Int, oversubscription: Double = 1) -> Double {
        let compute = (mode == .strong ? computeSeconds / Double(p) : computeSeconds) * oversubscription
        let buckets = max(1, (gradientBytes + bucketBytes - 1) / max(bucketBytes, 1))
        let allreduce = network.seconds(bytes: gradientBytes, ranks: p, messages: buckets)
        let last = allreduce / Double(buckets)
        let exposed = p > 1 ? max(allreduce - backwardShare * compute, last) : 0
        // The loss agreement: a tiny all-reduce, recursive doubling.
        let agreement = p > 1 ? 2 * ceil(log2(Double(p))) * network.alpha : 0
        return compute + exposed + agreement
    }

    /// Samples per second at `ranks` ranks.
    public func throughput(ranks p: Int, network: AllreduceFit, bucketBytes: Int, oversubscription: Double = 1) -> Double {
        Double(mode == .strong ? batch : batch * p) / stepSeconds(ranks: p, network: network, bucketBytes: bucketBytes, oversubscription: oversubscription)
    }
}

/// Builds the model from a sweep and checks it on the measured points.
public enum ScaleProjection {
    /// The model for `plan`'s default knob values, from the median 1-rank run (phases).
    /// - Throws: `CohortError.badFile` when the sweep has no successful 1-rank run.
    public static func model(_ plan: ScalePlan, _ runs: [ScaleRun], directory: String) throws -> StepModel {
        let ones = runs.filter { $0.ok && $0.configuration.ranks == 1 }
        guard !ones.isEmpty else { throw CohortError.badFile(path: directory, "has no successful 1-rank run to model compute from") }
        let compute = try median(ones.map { ($0.phases["total"] ?? 0) - ($0.phases["comm_wait"] ?? 0) })
        let grads = runs.first { $0.ok && $0.gradientBytes > 0 }?.gradientBytes ?? 0
        return StepModel(computeSeconds: compute, batch: plan.batch, mode: plan.mode, gradientBytes: grads)
    }

    /// (configuration label, measured samples/s, predicted samples/s) for every measured configuration,
    /// using this machine's fitted all-reduce and `cores` to model oversubscription.
    public static func validate(_ plan: ScalePlan, _ runs: [ScaleRun], model: StepModel, local: AllreduceFit, cores: Int,
                                bucketBytes: Int) -> [(label: String, measured: Double, predicted: Double)] {
        ScaleAnalysis.summarize(plan, runs).map { s in
            let p = s.configuration.ranks
            let over = max(1, Double(p) / Double(max(cores, 1)))
            let bucket = s.configuration.values["bucket-mb"].flatMap(Double.init).map { Int($0 * 1e6) } ?? bucketBytes
            return (s.configuration.label, s.median, model.throughput(ranks: p, network: local, bucketBytes: bucket, oversubscription: over))
        }
    }
}

extension ScaleProjection {
    /// The projection as markdown: the model's error on the measured configurations, then
    /// efficiency and samples/s at `ranks` for each network speed and bucket size.
    public static func markdown(_ plan: ScalePlan, _ runs: [ScaleRun], local: AllreduceFit, cores: Int, ranks: [Int],
                                networkGbps: [Double], latencySeconds: Double, bucketMB: [Double], directory: String) throws -> String {
        let model = try model(plan, runs, directory: directory)
        let checks = validate(plan, runs, model: model, local: local, cores: cores, bucketBytes: Int((bucketMB.first ?? 25) * 1e6))
        var md = "# Projection\n\n"
        md += String(format: "Model: step = compute (1-rank run: %.2f ms%@) + the all-reduce backward cannot hide "
                     + "(ring, %d-byte gradients in buckets; backward = 2/3 of compute hides all but the last bucket) + "
                     + "a small agreement all-reduce. This machine's all-reduce fit: α = %.2f µs, β = %.3f ns/byte "
                     + "(%.1f GB/s per link), %.1f %% RMS error on its %d-rank benchmark.\n\n",
                     model.computeSeconds * 1e3, plan.mode == .strong ? ", divided by ranks (strong)" : "", model.gradientBytes,
                     local.alpha * 1e6, local.beta * 1e9, 1 / max(local.beta, 1e-30) / 1e9, local.relativeRMS * 100, local.ranks)
        md += "## Error on the measured configurations\n\n| configuration | measured samples/s | predicted | error |\n|---|---|---|---|\n"
        var worst = 0.0
        for c in checks {
            let e = c.predicted / c.measured - 1
            worst = max(worst, abs(e))
            md += String(format: "| %@ | %.0f | %.0f | %+.1f %% |\n", c.label, c.measured, c.predicted, e * 100)
        }
        md += String(format: "\nLargest error: %.1f %%.\n", worst * 100)
        for bucket in bucketMB {
            md += String(format: "\n## Predicted efficiency, %g MB buckets, %.0f µs latency, one rank per node\n\n", bucket, latencySeconds * 1e6)
            md += "| ranks | " + networkGbps.map { String(format: "%g Gb/s", $0) }.joined(separator: " | ") + " |\n"
            md += "|---|" + networkGbps.map { _ in "---" }.joined(separator: "|") + "|\n"
            for p in ranks {
                let cells = networkGbps.map { g -> String in
                    let net = AllreduceFit(alpha: latencySeconds, beta: 8 / (g * 1e9), ranks: p, relativeRMS: 0)
                    let thr = model.throughput(ranks: p, network: net, bucketBytes: Int(bucket * 1e6))
                    let one = model.throughput(ranks: 1, network: net, bucketBytes: Int(bucket * 1e6))
                    return String(format: "%.3f (%.0f samples/s)", thr / (Double(p) * one), thr)
                }
                md += "| \(p) | " + cells.joined(separator: " | ") + " |\n"
            }
        }
        md += "\nLimits: one rank per node and a non-blocking network (no congestion, no topology), a ring all-reduce "
            + "(bandwidth term 2(p−1)/p·n/B, latency term 2(p−1)·α per bucket), compute that does not change with the world "
            + "size (weak) or shrinks exactly with it (strong), backward hiding communication perfectly up to 2/3 of compute. "
            + "See docs/scaling.md.\n"
        return md
    }
}
