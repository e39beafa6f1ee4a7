// The learning-rate schedules against PyTorch's: the values below are what
// torch.optim.lr_scheduler (StepLR, MultiStepLR, ExponentialLR, OneCycleLR with
// cycle_momentum=False, ReduceLROnPlateau mode min) gives at base rate 1, step by step.
import CohortOptim
import Testing

@Suite struct LRScheduleTests {
    func values(_ s: any LRSchedule, _ n: Int) -> [Float] { (0..<n).map { s.learningRate(at: $0) } }
    func close(_ a: [Float], _ b: [Double], _ what: String) {
        #expect(a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= 1e-6 * max(1, abs($1)) }, "\(what): \(a) vs \(b)")
    }

    @Test func stepMultiStepExponentialAndOneCycleMatchPyTorch() {
        close(values(StepLR(base: 1, stepSize: 3, gamma: 0.5), 8), [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25], "StepLR")
        close(values(MultiStepLR(base: 1, milestones: [5, 2], gamma: 0.1), 7), [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01], "MultiStepLR")
        close(values(ExponentialLR(base: 1, gamma: 0.9), 5), [1, 0.9, 0.81, 0.729, 0.6561], "ExponentialLR")
        close(values(OneCycleLR(maximum: 1, total: 10, pctStart: 0.3), 10),
              [0.04, 0.52, 1.0, 0.9504846320134737, 0.8117456539497631, 0.6112620219362893, 0.38874197806371075,
               0.18825834605023697, 0.049519367986526286, 4e-06], "OneCycleLR")
    }

    @Test func plateauMatchesPyTorchAndItsStateRoundTrips() throws {
        let plateau = ReduceLROnPlateau(base: 1, factor: 0.5, patience: 1, monitors: ["val_loss", "val_log_loss"])
        // 0.99995 and 0.9999 are not below 1·(1 − 1e-4): two bad validations, more than the patience of 1.
        let losses = [1.0, 0.99995, 0.9999, 0.5, 0.6, 0.6, 0.49, 0.5]
        var seen: [Float] = []
        for v in losses {
            seen.append(plateau.learningRate(at: 0))
            try plateau.observe([("val_accuracy", 0.5), ("val_log_loss", v)])
        }
        close(seen, [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25], "ReduceLROnPlateau")
        let copy = ReduceLROnPlateau(base: 1, factor: 0.5, patience: 1)
        copy.restore(plateau.state)
        #expect(copy.rate == plateau.rate && copy.best == plateau.best && copy.bad == plateau.bad)
        #expect(throws: (any Error).self) { try plateau.observe([("val_accuracy", 0.5)]) }
    }

    @Test func warmupScalesTheFirstStepsOnly() {
        close(values(LinearWarmup(StepLR(base: 1, stepSize: 3, gamma: 0.5), steps: 4), 6), [0.25, 0.5, 0.75, 0.5, 0.5, 0.5], "warm-up")
        let warm = WarmupStateful(ReduceLROnPlateau(base: 2), steps: 2)
        close(values(warm, 3), [1, 2, 2], "warm-up of plateau")
        // Cosine's default warm-up (5 % of the run) is unchanged: 100 steps, 5 of warm-up.
        close(values(CosineWithWarmup(base: 1, warmup: 5, total: 100, minimum: 0.01), 6), [0.2, 0.4, 0.6, 0.8, 1, 1], "cosine")
    }
}
