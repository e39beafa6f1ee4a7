// Per-step phase times of a training run (`cohort train --step-times`), gathered
// from every rank to rank 0 for the summary JSON that `cohort scale` reads.
import CohortCollectives
import Foundation

/// One rank's seconds per step in each phase. `compute` is what remains of the
/// step after the others: forward, backward and the gradient hooks. The last column,
/// `comm_bytes`, is not a time: the bytes of gradient the step averaged across ranks
/// (0 on one rank; frozen parameters are not sent).
public struct StepTimes: Sendable {
    public static let phases = ["data", "compute", "comm_wait", "optimizer", "total", "comm_bytes"]
    public private(set) var rows: [[Double]] = []
    private var current = [Double](repeating: 0, count: phases.count)

    public init() {}

    public mutating func add(data seconds: Double) { current[0] += seconds }
    public mutating func add(comm seconds: Double) { current[2] += seconds }
    public mutating func add(optimizer seconds: Double) { current[3] += seconds }
    public mutating func add(bytes: Int) { current[5] += Double(bytes) }

    /// Closes the step that took `total` seconds.
    public mutating func finishStep(total: Double) {
        current[4] = total
        current[1] = max(total - current[0] - current[2] - current[3], 0)
        rows.append(current)
        current = [Double](repeating: 0, count: StepTimes.phases.count)
    }

    /// Every rank's rows, on every rank (`[rank][step][phase]`): one allreduce of a
    /// zero-filled array in which each rank writes its own slot. Ranks must have run
    /// the same number of steps (they do: steps are collective).
    public func gathered(_ comm: any Communicator) throws -> [[[Double]]] {
        let steps = rows.count, width = StepTimes.phases.count
        var all = [Double](repeating: 0, count: comm.size * steps * width)
        for (s, row) in rows.enumerated() {
            for (p, v) in row.enumerated() { all[(comm.rank * steps + s) * width + p] = v }
        }
        if comm.size > 1 { try all.withUnsafeMutableBufferPointer { try comm.allreduce($0, op: .sum) } }
        return (0..<comm.size).map { r in
            (0..<steps).map { s in Array(all[((r * steps + s) * width)..<((r * steps + s + 1) * width)]) }
        }
    }
}
