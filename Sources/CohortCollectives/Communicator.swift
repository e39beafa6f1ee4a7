// The collective-communication interface the training code sees: the small set
// of operations a backend must provide, modelled on MLX's distributed Group
// (rank, size, sum/max/min allreduce, gather, broadcast, barrier, split, point to
// point). MPI is one implementation (CohortMPI); `SingleProcessCommunicator`
// makes the same program run alone. Conveniences built from these operations —
// averaging among them — live in Communicator+Conveniences.swift and Mean.swift.
import CohortCore

/// How `allreduce` combines values across ranks. Averaging is a `sum` followed by
/// `Mean.scale` (see `allreduceMean`), so the ÷N is written once, not per backend.
public enum ReduceOperation: String, Sendable {
    case sum, max, min
}

/// Element types the collectives carry.
public enum ElementKind: Sendable { case float32, float64, int32, int64, uint8, bfloat16, float16 }

/// A type that can travel through a collective.
public protocol CollectiveElement: Sendable {
    static var elementKind: ElementKind { get }
}
extension Float: CollectiveElement { public static var elementKind: ElementKind { .float32 } }
extension Double: CollectiveElement { public static var elementKind: ElementKind { .float64 } }
extension Int32: CollectiveElement { public static var elementKind: ElementKind { .int32 } }
extension Int64: CollectiveElement { public static var elementKind: ElementKind { .int64 } }
extension UInt8: CollectiveElement { public static var elementKind: ElementKind { .uint8 } }

/// A bfloat16 value as its 16 bits, for compressed gradient exchange: a `.sum` allreduce adds
/// the values as floats, rounding to bfloat16 after each addition; max and min are not offered.
public struct BFloat16Word: CollectiveElement, Equatable {
    public var bits: UInt16
    public init(bits: UInt16) { self.bits = bits }
    public static var elementKind: ElementKind { .bfloat16 }
}

/// An IEEE binary16 value as its 16 bits; a `.sum` allreduce adds as floats, rounding after each addition.
public struct Float16Word: CollectiveElement, Equatable {
    public var bits: UInt16
    public init(bits: UInt16) { self.bits = bits }
    public static var elementKind: ElementKind { .float16 }
}

/// Errors from collectives, carrying the backend's own message.
public enum CommunicationError: Error, CustomStringConvertible {
    /// The backend reported an error (for MPI: the `MPI_Error_string` text).
    case backend(operation: String, rank: Int, message: String)
    /// A wait passed its deadline.
    case timeout(operation: String, rank: Int, seconds: Double)
    /// A bad argument (count, root, rank).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .backend(op, rank, m): return "\(op) failed on rank \(rank): \(m)"
        case let .timeout(op, rank, s): return "\(op) on rank \(rank) did not complete within \(s) s"
        case let .invalidArgument(m): return m
        }
    }
}

/// A pending non-blocking operation.
public protocol CommunicationRequest: AnyObject {
    /// Blocks until the operation completes.
    func wait() throws
    /// Whether the operation has completed (completes it if so).
    func test() throws -> Bool
    /// Waits at most `seconds`; throws `CommunicationError.timeout` after that.
    func wait(timeout seconds: Double) throws
}

/// A group of ranks that communicate: what a backend must provide. Buffers are
/// in-place where noted.
public protocol Communicator: AnyObject {
    /// This process's index in the group.
    var rank: Int { get }
    /// Number of ranks in the group.
    var size: Int { get }

    /// Blocks until every rank arrives.
    func barrier() throws
    /// Copies `root`'s buffer to every rank (in place).
    func broadcast<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws
    /// Combines every rank's buffer element-wise, in place.
    func allreduce<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOperation) throws
    /// Starts an in-place allreduce; the buffer must stay valid until the request completes.
    func allreduceAsync<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOperation) throws -> any CommunicationRequest
    /// Gathers equal-sized pieces from every rank, in rank order, into `receive` (size × send.count).
    func allgather<T: CollectiveElement>(_ send: UnsafeBufferPointer<T>, into receive: UnsafeMutableBufferPointer<T>) throws
    /// Gathers pieces of different sizes: rank r contributes `counts[r]` elements; the
    /// result is their concatenation in rank order (receive.count == counts.sum()).
    func allgatherv<T: CollectiveElement>(_ send: UnsafeBufferPointer<T>, counts: [Int], into receive: UnsafeMutableBufferPointer<T>) throws
    /// Sends `buffer` to `destination` with `tag`.
    func send<T: CollectiveElement>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws
    /// Receives into `buffer` from `source` with `tag`.
    func receive<T: CollectiveElement>(into buffer: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int) throws
    /// Splits into sub-groups by `color`, ordered by `key` then rank.
    func split(color: Int, key: Int) throws -> any Communicator
    /// Gathers in place: rank r's block (`counts[r]` elements at offset `counts[..<r].sum()` of
    /// `buffer`, on rank r) reaches that place on every rank (buffer.count == counts.sum()).
    /// Default: through `allgatherv` and a copy of this rank's block.
    func allgatherInPlace<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, counts: [Int]) throws
    /// Starts a reduce-scatter in place: every rank's `buffer` is combined with `op`; when the request
    /// completes, block r (`counts[r]` elements at offset `counts[..<r].sum()`) holds the result on
    /// rank r, the rest of the buffer is unspecified. Default: an allreduce (every block everywhere).
    func reduceScatterAsync<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, counts: [Int], op: ReduceOperation) throws -> any CommunicationRequest
}

extension Communicator {
    public func allgatherInPlace<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, counts: [Int]) throws {
        try Self.checkBlocks(counts, total: buffer.count, ranks: size, "allgatherInPlace")
        let start = counts[..<rank].reduce(0, +)
        let mine = Array(buffer[start..<(start + counts[rank])])
        try mine.withUnsafeBufferPointer { try allgatherv($0, counts: counts, into: buffer) }
    }

    public func reduceScatterAsync<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, counts: [Int], op: ReduceOperation) throws -> any CommunicationRequest {
        try Self.checkBlocks(counts, total: buffer.count, ranks: size, "reduceScatterAsync")
        return try allreduceAsync(buffer, op: op)
    }

    /// Checks per-rank block counts against a buffer: one non-negative count per rank, summing to its length.
    public static func checkBlocks(_ counts: [Int], total: Int, ranks: Int, _ operation: String) throws {
        guard counts.count == ranks, counts.allSatisfy({ $0 >= 0 }), counts.reduce(0, +) == total else {
            throw CommunicationError.invalidArgument("\(operation): block counts \(counts) do not match \(ranks) ranks and a buffer of \(total) elements")
        }
    }
}

/// A pending operation followed, once, by `then` on the thread that sees it complete (in `test`
/// or a `wait`): e.g. moving a reduce-scatter's result into place, or scaling a sum into a mean.
public final class FollowedRequest: CommunicationRequest {
    private let inner: any CommunicationRequest
    private var then: (() -> Void)?

    public init(_ inner: any CommunicationRequest, then: @escaping () -> Void) {
        self.inner = inner
        self.then = then
    }

    private func complete() {
        guard let action = then else { return }
        then = nil
        action()
    }

    public func wait() throws { try inner.wait(); complete() }

    public func test() throws -> Bool {
        guard try inner.test() else { return false }
        complete()
        return true
    }

    public func wait(timeout seconds: Double) throws { try inner.wait(timeout: seconds); complete() }
}
