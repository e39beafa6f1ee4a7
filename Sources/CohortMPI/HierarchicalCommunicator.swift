// Hierarchical allreduce (`--allreduce hierarchical|auto`): the ranks of each node
// reduce-scatter the buffer among themselves (Open MPI's shared-memory transport
// inside a node), node-local rank k then allreduces its block k with rank k of every
// other node (L concurrent inter-node allreduces of 1/L of the bytes each, for L
// ranks per node), and each node allgathers the blocks back. When nodes hold
// different numbers of ranks, the node reduces to its first rank, those leaders
// allreduce, and the leader broadcasts. Everything except allreduce delegates to
// the flat communicator, so the rest of Cohort uses it unchanged.
// MPI matches collectives on a communicator by call order, so non-blocking allreduces
// start each stage in the order they were started (a stage waits for its turn), the
// three stages run on three communicators, and blocking allreduces on their own two.
import CMPI
import CMPIShims
import CohortCollectives
import CohortCore
import Foundation

/// An MPI communicator whose allreduce runs hierarchically over nodes (see `AllreduceAlgorithm`).
/// Nodes are the shared-memory split of the flat communicator (`MPI_Comm_split_type`), or groups
/// of `ranksPerNode` consecutive ranks when given (`COHORT_NODE_SIZE`, for tests on one machine).
public final class HierarchicalCommunicator: Communicator, NodeSharedMemory {
    /// The communicator every other operation goes to.
    public let flat: MPICommunicator
    public let algorithm: AllreduceAlgorithm
    /// `auto` goes hierarchical from this many bytes per allreduce.
    public let thresholdBytes: Int
    /// Number of nodes; the largest number of ranks on one node; whether every node has as many.
    public let nodes: Int, maxRanksPerNode: Int, uniform: Bool
    /// This node's ranks.
    let node: MPICommunicator
    /// The ranks with this rank's node-local index on every node (uniform), or the node leaders.
    let cross: MPICommunicator
    /// The communicators of the stages (node, cross, node again) of non-blocking and of blocking allreduces.
    let asyncStages: [MPICommunicator], blockingStages: [MPICommunicator]
    /// Non-blocking allreduces not yet complete, in start order; the number started; per stage,
    /// the start number whose turn it is to start that stage.
    var inFlight: [HierarchicalRequest] = []
    var started = 0
    var turn = [Int](repeating: 0, count: HierarchicalPlan.stages)
    /// Blocking allreduces' scratch, grown on demand and kept.
    private var scratch: UnsafeMutableRawPointer?, scratchBytes = 0

    deinit { scratch?.deallocate() }

    /// At least `bytes` of scratch for one blocking allreduce at a time.
    func blockingScratch(bytes: Int) -> UnsafeMutableRawPointer {
        if let scratch, scratchBytes >= bytes { return scratch }
        scratch?.deallocate()
        let fresh = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        (scratch, scratchBytes) = (fresh, bytes)
        return fresh
    }
    public var rank: Int { flat.rank }
    public var size: Int { flat.size }
    /// This rank's index on its node, and the node's ranks.
    public var localRank: Int { node.rank }
    public var localSize: Int { node.size }

    /// `auto`'s default threshold (bytes): keeps latency-bound messages flat. Not a measured crossover —
    /// on 2 namespace hosts × 2 ranks hierarchical never beat flat up to 64 MiB (docs/scaling.md).
    public static let defaultThresholdBytes = 1 << 20

    /// Splits `flat` into nodes and cross-node groups. Collective over `flat`.
    /// - Parameter ranksPerNode: treat every `ranksPerNode` consecutive ranks as one node
    ///   (nil: the machines MPI reports).
    /// - Throws: `CohortError.invalidParameter` for `ranksPerNode` < 1; `CommunicationError` from MPI.
    public init(_ flat: MPICommunicator, algorithm: AllreduceAlgorithm, thresholdBytes: Int = defaultThresholdBytes,
                ranksPerNode: Int? = nil) throws {
        self.flat = flat
        self.algorithm = algorithm
        self.thresholdBytes = thresholdBytes
        if let n = ranksPerNode {
            guard n >= 1 else { throw CohortError.invalidParameter(name: "ranksPerNode", "\(n) must be at least 1") }
            guard let c = try flat.split(color: flat.rank / n, key: flat.rank) as? MPICommunicator else {
                throw CommunicationError.backend(operation: "split", rank: flat.rank, message: "not an MPI communicator")
            }
            node = c
        } else {
            var c: MPI_Comm? = cohort_mpi_comm_null()
            try flat.check(MPI_Comm_split_type(flat.comm, cohort_mpi_comm_type_shared(), Int32(flat.rank), cohort_mpi_info_null(), &c),
                           "split_type(shared)")
            guard let c else { throw CommunicationError.backend(operation: "split_type(shared)", rank: flat.rank, message: "no communicator returned") }
            node = try MPICommunicator(borrowing: c, owned: true)
        }
        let extremes = try flat.allreduce([Int64(node.size), -Int64(node.size)], op: .max)
        nodes = Int(try flat.allreduce([Int64(node.rank == 0 ? 1 : 0)], op: .sum)[0])
        maxRanksPerNode = Int(extremes[0])
        uniform = extremes[0] == -extremes[1]
        let color = uniform ? node.rank : (node.rank == 0 ? 0 : 1)
        guard let c = try flat.split(color: color, key: flat.rank) as? MPICommunicator else {
            throw CommunicationError.backend(operation: "split", rank: flat.rank, message: "not an MPI communicator")
        }
        cross = c
        func dup(_ c: MPICommunicator) throws -> MPICommunicator {
            guard let d = try c.duplicate() as? MPICommunicator else {
                throw CommunicationError.backend(operation: "dup", rank: flat.rank, message: "not an MPI communicator")
            }
            return d
        }
        asyncStages = [node, cross, try dup(node)]
        blockingStages = [try dup(node), try dup(cross), try dup(node)]
    }

    /// Advances every non-blocking allreduce in flight, oldest first; drops the completed ones.
    func progress() throws {
        for r in inFlight { _ = try r.step() }
        inFlight.removeAll { $0.done }
    }

    /// `COHORT_NODE_SIZE` from `environment`: nil when unset or empty.
    /// - Throws: `CohortError.invalidArgument` naming the variable when it is not a whole number ≥ 1.
    public static func nodeSizeOverride(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int? {
        guard let text = environment["COHORT_NODE_SIZE"], !text.isEmpty else { return nil }
        guard let n = Int(text), n >= 1 else {
            throw CohortError.invalidArgument("COHORT_NODE_SIZE must be a whole number of ranks per node ≥ 1, got '\(text)'")
        }
        return n
    }

    /// Whether an allreduce of `count` elements of `bytes` bytes goes hierarchical.
    public func isHierarchical(count: Int, bytes: Int) -> Bool {
        // One rank per node everywhere: the cross-node stage alone is the flat allreduce.
        guard count > 0, Int32(exactly: count) != nil, maxRanksPerNode > 1 else { return false }
        switch algorithm {
        case .flat: return false
        case .hierarchical: return true
        case .auto: return nodes > 1 && maxRanksPerNode > 1 && bytes >= thresholdBytes
        }
    }

    public func allreduce<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOperation) throws {
        guard isHierarchical(count: buffer.count, bytes: buffer.count * MemoryLayout<T>.stride) else {
            return try flat.allreduce(buffer, op: op)
        }
        try HierarchicalPlan(self, buffer, op: op, blocking: true).runBlocking()
    }

    public func allreduceAsync<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOperation) throws -> any CommunicationRequest {
        guard isHierarchical(count: buffer.count, bytes: buffer.count * MemoryLayout<T>.stride) else {
            return try flat.allreduceAsync(buffer, op: op)
        }
        let request = HierarchicalRequest(plan: try HierarchicalPlan(self, buffer, op: op, blocking: false), sequence: started)
        started += 1
        inFlight.append(request)
        _ = try request.step()   // starts the node-local stage (always its turn: stage 0 starts in start order)
        return request
    }

    public func barrier() throws { try flat.barrier() }
    public func broadcast<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws { try flat.broadcast(buffer, root: root) }
    public func allgather<T: CollectiveElement>(_ send: UnsafeBufferPointer<T>, into receive: UnsafeMutableBufferPointer<T>) throws {
        try flat.allgather(send, into: receive)
    }
    public func allgatherv<T: CollectiveElement>(_ send: UnsafeBufferPointer<T>, counts: [Int], into receive: UnsafeMutableBufferPointer<T>) throws {
        try flat.allgatherv(send, counts: counts, into: receive)
    }
    public func allgatherInPlace<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, counts: [Int]) throws {
        try flat.allgatherInPlace(buffer, counts: counts)
    }
    public func reduceScatterAsync<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, counts: [Int], op: ReduceOperation) throws -> any CommunicationRequest {
        try flat.reduceScatterAsync(buffer, counts: counts, op: op)
    }
    public func send<T: CollectiveElement>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws {
        try flat.send(buffer, to: destination, tag: tag)
    }
    public func receive<T: CollectiveElement>(into buffer: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int) throws {
        try flat.receive(into: buffer, from: source, tag: tag)
    }
    public func split(color: Int, key: Int) throws -> any Communicator { try flat.split(color: color, key: key) }

    /// The flat communicator's window when the job is one node (real, not a `ranksPerNode`
    /// split into several); nil otherwise — so DDP keeps its shared-memory averager on one node.
    public func allocateNodeSharedWindow(bytesPerRank: Int) throws -> (any NodeSharedWindow)? {
        guard nodes == 1 else { return nil }
        return try flat.allocateNodeSharedWindow(bytesPerRank: bytesPerRank)
    }
}
