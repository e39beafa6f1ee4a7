// `--summary-json PATH`: one JSON object with the run's outcome (loss, metrics, speed,
// weights hash, timing split, best checkpoint), written by rank 0 of the job (or fold group).
import CohortCollectives
import CohortCore
import CohortKernels
import CohortNN
import CohortRuntime
import CohortTrainer
import Foundation

extension Train {
    /// Writes the run's summary for `fit` to `path`.
    func writeSummary(_ fit: FitResult, to path: String, task: any TrainTask, net: any Module, shape: ModelShape,
                      comm: any Communicator, totalSteps: Int, usedThreads: Int) throws {
        let stepsPerEpoch = task.count / batchSize, localBatch = batchSize / comm.size
        var summary: [String: Any] = [
            "model": model, "dataset": task.name, "train_loss": Double(fit.trainLoss),
            "steps": fit.steps, "epochs": Double(fit.steps) / Double(stepsPerEpoch), "batch_size": batchSize,
            "samples_per_sec": fit.samplesPerSecond, "world_size": comm.size, "weights_sha256": fit.weightsSHA256,
            "local_batch": localBatch, "gradient_transport": fit.transport, "gradient_wire": gradComm.gradComm,
            "allreduce": allreduce.allreduce,
            "deterministic": deterministic, "virtual_shards": deterministic ? virtualShards : 0, "comm_wait_seconds": fit.commSeconds, "data_wait_seconds": fit.dataSeconds,
            "compute_seconds": fit.trainSeconds - fit.commSeconds - fit.dataSeconds, "train_seconds": fit.trainSeconds, "accumulate": accumulate,
            "parameters": net.parameterCount, "prefetch": prefetch, "seed": seed, "blas_kernel": BLAS.coreName, "blas_threads": usedThreads,
            "skipped_updates": fit.skippedUpdates, "planned_steps": totalSteps,
            "zero": fit.zeroStage, "optimizer_state_elements": fit.optimizerStateElements, "peak_rss_mib": fit.peakResidentMiB,
        ]
        if let why = fit.finishedEarly { summary["finished_early"] = why }
        for m in fit.metrics { summary[m.name] = m.value }
        summary["val_split"] = valSplit
        if let best = fit.best {
            for (name, value) in best.logged { summary[name] = value }
            summary["best_step"] = best.step
        }
        if let perRankTimes = fit.stepTimes {
            summary["step_time_phases"] = StepTimes.phases
            summary["step_times"] = perRankTimes
            summary["first_timed_step"] = fit.startStep + 1
            summary["gradient_bytes"] = net.parameterCount * (gradComm.gradComm == "fp32" ? 4 : 2)
            summary["tokens_per_sample"] = shape.sequence ? shape.inputs : 0
        }
        try writeJSON(summary, to: path)
    }
}

/// Writes `object` as pretty, key-sorted JSON, creating parent directories.
func writeJSON(_ object: [String: Any], to path: String) throws {
    let url = URL(fileURLWithPath: path)
    do {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: url, options: .atomic)
    } catch {
        throw CohortError.badFile(path: path, "cannot write the summary: \(error.localizedDescription)")
    }
}
