// A run's per-step training loss, kept bounded so that checkpoints stay readable
// however long the run: every step of a recent window, and the older steps as the
// means of equal blocks whose size doubles whenever there are too many of them
// (docs/checkpoint-format.md, "Loss history"). Old checkpoints, which stored the
// loss of every step, restore into the same form.

/// The per-step loss of a run: the last `recentCapacity` steps exactly, older steps as means
/// of equal blocks of `blockSteps` steps (at most `maxBlocks` of them) plus one partly filled block.
public struct LossHistory: Sendable, Equatable {
    /// Steps kept at full resolution unless a run asks for more (an epoch's worth).
    public static let defaultRecentSteps = 10_000
    /// Most steps kept at full resolution (about 21 MB of manifest).
    public static let maxRecentSteps = 1_000_000
    /// Most block means; when there would be more, neighbours merge and blocks double in size.
    public static let maxBlocks = 1024
    /// Manifest metric names: the loss of one step; the mean of one block (at its last step);
    /// the partly filled block's sum of finite losses and their count (at its last step); and the
    /// last step of which nothing is known (only in histories restored from an incomplete record).
    public static let lossMetric = "loss", blockMetric = "loss_block_mean", openSumMetric = "loss_open_block_sum",
                      openCountMetric = "loss_open_block_finite", startMetric = "loss_history_start"

    /// The full-resolution window for a run with `stepsPerEpoch` steps per epoch: at least an
    /// epoch (so the last epoch's mean loss survives a resume), within the bounds above.
    public static func recentCapacity(stepsPerEpoch: Int) -> Int {
        min(max(defaultRecentSteps, stepsPerEpoch), maxRecentSteps)
    }

    /// Steps kept at full resolution.
    public let recentCapacity: Int
    /// The last step recorded (1-based; 0: none).
    public private(set) var lastStep = 0
    /// Steps `1...origin` are unknown (only after restoring an incomplete record); blocks start after it.
    public private(set) var origin = 0
    /// Block means, oldest first: block `i` covers steps `origin + i·blockSteps + 1 … origin + (i+1)·blockSteps`.
    /// A mean leaves out non-finite losses (NaN when the block has none).
    public private(set) var blockMeans: [Double] = []
    /// Steps per block (a power of two).
    public private(set) var blockSteps = 1
    /// The block being filled (fewer than `blockSteps` steps, right after the full blocks): its
    /// number of steps, and the sum and count of its finite losses.
    public private(set) var openSteps = 0, openSum = 0.0, openFinite = 0
    /// Full-resolution losses from `recent[head]` on.
    private var recent: [Float] = []
    private var head = 0

    /// An empty history keeping `recentCapacity` (at least 1) steps at full resolution.
    public init(recentCapacity: Int = LossHistory.defaultRecentSteps) {
        self.recentCapacity = max(1, recentCapacity)
    }

    /// The first step of `recentLosses`.
    public var firstRecentStep: Int { lastStep - (recent.count - head) + 1 }
    /// The full-resolution losses, oldest first; the last is step `lastStep`.
    public var recentLosses: [Float] { Array(recent[head...]) }

    /// Records the loss of step `lastStep + 1`.
    public mutating func append(_ loss: Float) {
        recent.append(loss)
        lastStep += 1
        settle()
    }

    /// Records the losses of the next `losses.count` steps (the same as appending each).
    public mutating func append<C: Collection>(contentsOf losses: C) where C.Element == Float {
        recent.append(contentsOf: losses)
        lastStep += losses.count
        settle()
    }

    /// Moves the losses beyond the window into the open block, closing and merging blocks.
    private mutating func settle() {
        let excess = recent.count - head - recentCapacity
        guard excess > 0 else { return }
        for i in head..<(head + excess) {
            let v = recent[i]
            if v.isFinite { openSum += Double(v); openFinite += 1 }
            openSteps += 1
            if openSteps == blockSteps { closeBlock() }
        }
        head += excess
        if head >= max(recentCapacity, recent.count / 2) { recent.removeFirst(head); head = 0 }
    }

    private mutating func closeBlock() {
        blockMeans.append(openFinite > 0 ? openSum / Double(openFinite) : .nan)
        (openSteps, openSum, openFinite) = (0, 0, 0)
        if blockMeans.count >= LossHistory.maxBlocks {
            blockMeans = stride(from: 0, to: blockMeans.count - 1, by: 2).map { LossHistory.merged(blockMeans[$0], blockMeans[$0 + 1]) }
            blockSteps *= 2
        }
    }

    /// The mean of two equal blocks' means (a NaN mean, a block without finite losses, counts as absent).
    static func merged(_ a: Double, _ b: Double) -> Double { a.isNaN ? b : b.isNaN ? a : (a + b) / 2 }

    /// Equal histories: the same steps, blocks and losses, bit for bit (NaN included).
    public static func == (a: LossHistory, b: LossHistory) -> Bool {
        a.recentCapacity == b.recentCapacity && a.lastStep == b.lastStep && a.origin == b.origin && a.blockSteps == b.blockSteps
            && a.openSteps == b.openSteps && a.openSum.bitPattern == b.openSum.bitPattern && a.openFinite == b.openFinite
            && a.blockMeans.map(\.bitPattern) == b.blockMeans.map(\.bitPattern)
            && a.recent[a.head...].map(\.bitPattern) == b.recent[b.head...].map(\.bitPattern)
    }

    /// The history as manifest metric points: the start marker (if any), block means, the open
    /// block (if any), then every recent step.
    public func metricPoints() -> [MetricPoint] {
        var out: [MetricPoint] = []
        out.reserveCapacity(blockMeans.count + recent.count - head + 3)
        if origin > 0 { out.append(MetricPoint(name: LossHistory.startMetric, step: origin, value: Double(origin))) }
        for (i, m) in blockMeans.enumerated() {
            out.append(MetricPoint(name: LossHistory.blockMetric, step: origin + (i + 1) * blockSteps, value: m))
        }
        if openSteps > 0 {
            let end = origin + blockMeans.count * blockSteps + openSteps
            out.append(MetricPoint(name: LossHistory.openSumMetric, step: end, value: openSum))
            out.append(MetricPoint(name: LossHistory.openCountMetric, step: end, value: Double(openFinite)))
        }
        let first = firstRecentStep
        for (j, v) in recent[head...].enumerated() { out.append(MetricPoint(name: LossHistory.lossMetric, step: first + j, value: Double(v))) }
        return out
    }

    /// Rebuilds the history of a checkpoint at step `step` from its metric points: this format,
    /// or the older one with a `loss` point for every step. Inconsistent records (a gap, blocks
    /// that do not tile) keep what still forms one history ending at `step`: the contiguous
    /// losses before it, with the earlier steps unknown.
    public init(restoring points: [MetricPoint], step: Int, recentCapacity: Int = LossHistory.defaultRecentSteps) {
        let start = points.first { $0.name == LossHistory.startMetric && $0.step >= 0 && $0.step <= step }?.step ?? 0
        let blocks = points.filter { $0.name == LossHistory.blockMetric }.sorted { $0.step < $1.step }
        let size = blocks.first.map { $0.step - start } ?? 1
        let blocksEnd = start + blocks.count * size
        let tiles = size > 0 && size & (size - 1) == 0 && blocks.count < LossHistory.maxBlocks && blocksEnd <= step
            && blocks.enumerated().allSatisfy { $0.element.step == start + ($0.offset + 1) * size }
        // The open block: a sum and a finite count at the same step, within one block after the full ones.
        var open = (steps: 0, sum: 0.0, finite: 0)
        if tiles, let sum = points.first(where: { $0.name == LossHistory.openSumMetric }),
           let count = points.first(where: { $0.name == LossHistory.openCountMetric }), sum.step == count.step,
           sum.step > blocksEnd, sum.step - blocksEnd < size, sum.step <= step,
           count.value >= 0, count.value <= Double(sum.step - blocksEnd), count.value == count.value.rounded() {
            open = (sum.step - blocksEnd, sum.value, Int(count.value))
        }
        let known = tiles ? blocksEnd + open.steps : 0
        self.init(restoringLosses: points, step: max(step, 0), after: known, recentCapacity: recentCapacity)
        if tiles && known > 0 && origin == known {
            // The losses continue the blocks: put the blocks back in front of them.
            let losses = recentLosses
            self = LossHistory(recentCapacity: recentCapacity)
            origin = start
            lastStep = known
            blockMeans = blocks.map(\.value)
            blockSteps = size
            (openSteps, openSum, openFinite) = open
            append(contentsOf: losses)
        }
    }

    /// The `loss` points after step `after`, up to `step`: the longest contiguous run ending at `step`.
    private init(restoringLosses points: [MetricPoint], step: Int, after: Int, recentCapacity: Int) {
        self.init(recentCapacity: recentCapacity)
        var byStep: [(step: Int, value: Float)] = points.filter { $0.name == LossHistory.lossMetric && $0.step > after && $0.step <= step }
            .map { ($0.step, Float($0.value)) }
        byStep.sort { $0.step < $1.step }
        var firstOfRun = byStep.count   // index where the contiguous run ending at `step` begins
        if byStep.last?.step == step {
            firstOfRun -= 1
            while firstOfRun > 0 && byStep[firstOfRun - 1].step >= byStep[firstOfRun].step - 1 { firstOfRun -= 1 }
        }
        var previous = Int.min
        origin = firstOfRun < byStep.count ? byStep[firstOfRun].step - 1 : step
        lastStep = origin
        for p in byStep[firstOfRun...] where p.step != previous {   // a repeated step keeps its first value
            append(p.value)
            previous = p.step
        }
    }
}
