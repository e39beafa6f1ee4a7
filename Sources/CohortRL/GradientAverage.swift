// The gradient average of RL's data-parallel updates: the communicator's allreduceMean,
// or in deterministic mode every rank's gradient gathered and summed in rank order
// (then scaled by 1/P as `Mean` does), so the bits do not depend on MPI's algorithm.
import CohortCollectives

enum GradientAverage {
    /// Replaces `gradients` by the mean over the ranks of `communicator`.
    static func average(_ gradients: UnsafeMutableBufferPointer<Float>, communicator: any Communicator, ordered: Bool,
                        scratch: inout [Float]) throws {
        let p = communicator.size, n = gradients.count
        guard p > 1 else { return }
        guard ordered else { return try communicator.allreduceMean(gradients) }
        if scratch.count != n * p { scratch = [Float](repeating: 0, count: n * p) }
        try scratch.withUnsafeMutableBufferPointer { all in
            try communicator.allgather(UnsafeBufferPointer(gradients), into: all)
            for i in 0..<n {
                var s = all[i]
                for r in 1..<p { s += all[r * n + i] }
                gradients[i] = s
            }
        }
        Mean.scale(gradients.baseAddress!, count: n, by: p)
    }
}
