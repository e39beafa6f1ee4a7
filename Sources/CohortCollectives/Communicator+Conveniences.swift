// Conveniences over the `Communicator` requirements, written once for every
// backend: collectives of Swift arrays and single values, and the mean over the
// group (a sum allreduce followed by `Mean.scale`, blocking or non-blocking).
import CohortCore

extension Communicator {
    /// Allreduce of a Swift array (convenience for small metadata).
    public func allreduce<T: CollectiveElement>(_ values: [T], op: ReduceOperation) throws -> [T] {
        var v = values
        try v.withUnsafeMutableBufferPointer { try allreduce($0, op: op) }
        return v
    }

    /// Allgather of one value per rank.
    public func allgather<T: CollectiveElement & Numeric>(_ value: T) throws -> [T] {
        var out = [T](repeating: 0, count: size)
        try [value].withUnsafeBufferPointer { s in try out.withUnsafeMutableBufferPointer { try allgather(s, into: $0) } }
        return out
    }

    /// Every rank's `bytes` (any length, also none), in rank order, on every rank.
    public func allgatherBytes(_ bytes: [UInt8]) throws -> [[UInt8]] {
        let counts = try allgather(Int64(bytes.count)).map { Int($0) }
        var all = [UInt8](repeating: 0, count: counts.reduce(0, +))
        try bytes.withUnsafeBufferPointer { b in try all.withUnsafeMutableBufferPointer { try allgatherv(b, counts: counts, into: $0) } }
        var out: [[UInt8]] = [], start = 0
        for c in counts { out.append(Array(all[start..<(start + c)])); start += c }
        return out
    }

    /// `root`'s `bytes` on every rank (the others' arguments are ignored).
    public func broadcastBytes(_ bytes: [UInt8], root: Int) throws -> [UInt8] {
        var count = [Int64(bytes.count)]
        try count.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
        var out = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        if !out.isEmpty { try out.withUnsafeMutableBufferPointer { try broadcast($0, root: root) } }
        return out
    }

    /// Replaces `buffer` with its element-wise mean over the ranks: a sum allreduce,
    /// then `Mean.scale` (every element times `1 / size`), bitwise the same on every rank.
    public func allreduceMean<T: CollectiveElement & BinaryFloatingPoint>(_ buffer: UnsafeMutableBufferPointer<T>) throws {
        try allreduce(buffer, op: .sum)
        Mean.scale(buffer, by: size)
    }

    /// Starts `allreduceMean` without blocking: the returned request scales the summed
    /// buffer when it completes (in `test()` or a `wait`), so the ÷N overlaps whatever
    /// runs until then. The buffer must stay valid until the request completes.
    public func allreduceMeanAsync<T: CollectiveElement & BinaryFloatingPoint>(_ buffer: UnsafeMutableBufferPointer<T>) throws -> any CommunicationRequest {
        MeanRequest(summing: try allreduceAsync(buffer, op: .sum), buffer: buffer, ranks: size)
    }
}
