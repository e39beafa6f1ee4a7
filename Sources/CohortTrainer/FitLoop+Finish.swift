// The end phases of the training loop: validation (during the run and final),
// the agreement on an early finish, the save of a preempted or early-finished
// run, the test split, and the `FitResult`.
import CohortCheckpoint
import CohortCore
import CohortNN
import CohortOptim
import CohortTensor
import Foundation

extension FitLoop {
    /// Validate phase, collective: BatchNorm statistics averaged first, then the module's metrics, told to the callbacks.
    func validate(at completed: Int) throws -> [Metric] {
        try traced(.validation, argument: Int64(completed)) { try validatePhase(at: completed) }
    }

    private func validatePhase(at completed: Int) throws -> [Metric] {
        try ddp.averageBuffers()   // every rank: BatchNorm statistics become one model's
        net.eval()
        defer { net.train() }
        let metrics = try withNoGrad { try module.validate(evaluation) }
        if let stateful = schedule as? any StatefulLRSchedule, !metrics.isEmpty { try stateful.observe(metrics.map { ($0.name, $0.value) }) }
        for c in trainer.callbacks { try c.onValidationEnd(trainer, step: completed, metrics: metrics) }
        if !metrics.isEmpty {
            for c in trainer.callbacks { try c.onLog(trainer, step: completed, phase: .validation, values: metrics.map { ($0.name, $0.value) }) }
        }
        return metrics
    }

    /// The test split, for reporting only (after the final validation; BatchNorm statistics already averaged).
    func test() throws -> [Metric] {
        net.eval()
        defer { net.train() }
        return try traced(tracing?.test ?? .validation) { try withNoGrad { try module.test(evaluation) } }
    }

    /// Finish phase after a preemption: a checkpoint of the last completed step (unless it has
    /// one), and no validation.
    func finishPreempted(_ reason: String) throws -> FitResult {
        if options.checkpointDirectory != nil && checkpoints.lastSavedStep != completed {
            try traced(.checkpoint, argument: Int64(completed)) { try saveCheckpoint(after: completed) }
        } else {
            try ddp.averageBuffers()
        }
        try checkpoints.finish()
        let stopped = result(preemption: reason)
        ddp.close()   // collective frees on the success path only (never while an error unwinds)
        return stopped
    }

    /// Finish phase: an early finish's checkpoint, the final validation, the test split (for the
    /// final weights and the best checkpoint), the step times, and `onFitEnd`.
    func finish() throws -> FitResult {
        let finishedEarly = completed < totalSteps ? trainer.finishReason : nil
        if let finishedEarly {
            Log.main("finishing at step \(completed) of \(totalSteps): \(finishedEarly)")
            if options.checkpointDirectory != nil && checkpoints.lastSavedStep != completed {
                try saveCheckpoint(after: completed)
            } else {
                try ddp.averageBuffers()
            }
        }
        try checkpoints.finish()
        // After an early finish right at a validation, that validation is the final one
        // (`validate` averages the BatchNorm statistics first).
        let metrics = lastValidation?.step == completed ? lastValidation!.metrics : try validate(at: completed)
        // The test split, once for the final weights and once for the best checkpoint, after every selection is made.
        let best = try trainer.evaluateBest(arena: arena, collectiveGuard: collectiveGuard, test: test)   // first, so outputs of `test` (confusion.json) end as the final model's
        let testMetrics = try test()
        let reported: [(name: String, value: Double)] = testMetrics.map { (name: $0.name, value: $0.value) } + (best?.logged ?? [])
        if !reported.isEmpty { for c in trainer.callbacks { try c.onLog(trainer, step: completed, phase: .test, values: reported) } }
        let times = options.recordStepTimes ? try collectiveGuard("allreduce of the step times") { try phases.gathered(comm) } : nil
        var fit = result(preemption: nil, metrics: metrics + testMetrics, stepTimes: times)
        (fit.validationMetrics, fit.testMetrics, fit.best) = (metrics, testMetrics, best)
        fit.finishedEarly = finishedEarly
        fit.peakResidentMiB = try collectiveGuard("allgather of the peak memory") { try comm.allgather(ProcessMemory.peakResidentMiB()) }
        for c in trainer.callbacks { try c.onFitEnd(trainer, fit) }
        ddp.close()
        return fit
    }

    /// The run's outcome so far.
    func result(preemption: String?, metrics: [Metric] = [], stepTimes: [[[Double]]]? = nil) -> FitResult {
        let losses = history.recentLosses
        let recent = losses.suffix(stepsPerEpoch).filter(\.isFinite)
        let ran = completed - startStep
        let transport = comm.size == 1 ? "none" : reducer != nil ? "virtual shards" : ddp.transport
        return FitResult(steps: completed, startStep: startStep, totalSteps: totalSteps, losses: losses,
                         trainLoss: recent.reduce(0, +) / Float(max(recent.count, 1)), metrics: metrics,
                         trainSeconds: trainSeconds, commSeconds: commSeconds, dataSeconds: dataSeconds,
                         samplesPerSecond: Double(ran * options.globalBatch) / max(trainSeconds, 1e-9), stepTimes: stepTimes,
                         transport: transport, preemption: preemption, finishedEarly: nil, skippedUpdates: skippedUpdates,
                         weightsSHA256: arena.sha256(), zeroStage: zero?.stage ?? 0, optimizerStateElements: optimizer.shardRange.count)
    }

    /// Ends the fit on every path, an error's too: no more save requests, and a background save
    /// finishes before the directory's lock is released.
    func close() {
        trainer.saveInto = nil
        try? checkpoints.finish()
        tracing?.writeAfterError()   // after `run` wrote it: nothing; on an error: what was recorded
    }
}
