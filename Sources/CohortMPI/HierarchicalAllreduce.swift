// One hierarchical allreduce as three MPI stages (HierarchicalCommunicator.swift):
// node-local reduce-scatter (or reduce to the leader), the cross-node allreduce,
// node-local allgather (or broadcast from the leader). The blocking form calls
// MPI's blocking collectives in turn; the non-blocking form chains MPI's
// non-blocking ones, starting a stage when the previous one has completed and every
// allreduce started earlier has started that stage (so all ranks start the
// collectives of each communicator in one order), whenever any of them is tested.
import CMPI
import CMPIShims
import CohortCollectives
import CohortCore
import Foundation

/// The buffers and block layout of one hierarchical allreduce; owns its scratch and count arrays
/// (they must outlive non-blocking stages).
final class HierarchicalPlan {
    static let stages = 3
    private static let names = ["node-local reduce", "cross-node allreduce", "node-local gather"]
    let owner: HierarchicalCommunicator
    private let base: UnsafeMutableRawPointer
    private let count: Int32
    private let type: MPI_Datatype
    private let op: MPI_Op
    /// Uniform nodes: each node-local rank's block (elements) and offset; this rank's block in `scratch`.
    private let counts: UnsafeMutablePointer<Int32>
    private let displacements: UnsafeMutablePointer<Int32>
    private let scratch: UnsafeMutableRawPointer

    init<T: CollectiveElement>(_ owner: HierarchicalCommunicator, _ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOperation,
                               blocking: Bool) throws {
        guard let base = buffer.baseAddress, let count = Int32(exactly: buffer.count) else {
            throw CommunicationError.invalidArgument("hierarchical allreduce: \(buffer.count) elements (needs 1 … Int32.max)")
        }
        self.owner = owner
        self.base = UnsafeMutableRawPointer(base)
        self.count = count
        type = MPICommunicator.datatype(T.elementKind)
        self.op = try owner.flat.mpiOp(op, T.elementKind)
        let l = owner.node.size
        counts = .allocate(capacity: l)
        displacements = .allocate(capacity: l)
        var offset: Int32 = 0
        for k in 0..<l {
            counts[k] = count / Int32(l) + (Int32(k) < count % Int32(l) ? 1 : 0)
            displacements[k] = offset
            offset += counts[k]
        }
        let mine = owner.uniform ? Int(counts[owner.node.rank]) : 0
        let bytes = max(mine, 1) * MemoryLayout<T>.stride
        // A blocking allreduce borrows the communicator's scratch (a fresh multi-MiB buffer per call
        // page-faults through every page); a non-blocking one owns its own until it completes.
        ownsScratch = !blocking
        scratch = blocking ? owner.blockingScratch(bytes: bytes) : .allocate(byteCount: bytes, alignment: 64)
    }

    private let ownsScratch: Bool

    deinit {
        counts.deallocate()
        displacements.deallocate()
        if ownsScratch { scratch.deallocate() }
    }

    /// Runs `stage` (0, 1, 2): blocking when `request` is nil, else started non-blocking into it.
    /// Returns false when this rank takes no part in the stage (a non-leader's cross-node stage).
    func run(_ stage: Int, request: UnsafeMutablePointer<MPI_Request?>?) throws -> Bool {
        let comms = request == nil ? owner.blockingStages : owner.asyncStages
        let comm = comms[stage].comm, me = owner.node.rank
        let inPlace = cohort_mpi_in_place()
        let rc: Int32
        if owner.uniform {
            switch stage {
            case 0:
                rc = request.map { MPI_Ireduce_scatter(base, scratch, counts, type, op, comm, $0) }
                    ?? MPI_Reduce_scatter(base, scratch, counts, type, op, comm)
            case 1:
                guard owner.cross.size > 1 else { return false }
                rc = request.map { MPI_Iallreduce(inPlace, scratch, counts[me], type, op, comm, $0) }
                    ?? MPI_Allreduce(inPlace, scratch, counts[me], type, op, comm)
            default:
                rc = request.map { MPI_Iallgatherv(scratch, counts[me], type, base, counts, displacements, type, comm, $0) }
                    ?? MPI_Allgatherv(scratch, counts[me], type, base, counts, displacements, type, comm)
            }
        } else {
            switch stage {
            case 0:
                let send = me == 0 ? inPlace : UnsafeMutableRawPointer(base)
                rc = request.map { MPI_Ireduce(send, base, count, type, op, 0, comm, $0) }
                    ?? MPI_Reduce(send, base, count, type, op, 0, comm)
            case 1:
                guard me == 0, owner.cross.size > 1 else { return false }
                rc = request.map { MPI_Iallreduce(inPlace, base, count, type, op, comm, $0) }
                    ?? MPI_Allreduce(inPlace, base, count, type, op, comm)
            default:
                rc = request.map { MPI_Ibcast(base, count, type, 0, comm, $0) } ?? MPI_Bcast(base, count, type, 0, comm)
            }
        }
        try owner.flat.check(rc, "hierarchical allreduce (\(HierarchicalPlan.names[stage]))")
        return true
    }

    /// Blocking: the three stages in turn.
    func runBlocking() throws {
        for stage in 0..<HierarchicalPlan.stages { _ = try run(stage, request: nil) }
    }
}

/// A non-blocking hierarchical allreduce: the plan's stages started one after another, each in
/// its turn among the allreduces its communicator started (`HierarchicalCommunicator.progress`).
final class HierarchicalRequest: CommunicationRequest {
    private var plan: HierarchicalPlan?
    private let owner: HierarchicalCommunicator
    /// This allreduce's start number on its communicator.
    private let sequence: Int
    private var next = 0
    private var current: MPI_Request? = cohort_mpi_request_null()
    private var pending = false
    private(set) var done = false

    init(plan: HierarchicalPlan, sequence: Int) {
        self.plan = plan
        owner = plan.owner
        self.sequence = sequence
    }

    /// Completes the stage in flight if MPI has, and starts the following stages whose turn it is;
    /// true once all three are complete.
    func step() throws -> Bool {
        while !done {
            if pending {
                var flag: Int32 = 0
                try owner.flat.check(MPI_Test(&current, &flag, nil), "hierarchical allreduce")
                guard flag != 0 else { return false }
                pending = false
            }
            guard let plan, next < HierarchicalPlan.stages else { done = true; self.plan = nil; break }
            guard owner.turn[next] == sequence else { return false }
            owner.turn[next] += 1
            next += 1
            pending = try plan.run(next - 1, request: &current)
        }
        return true
    }

    func test() throws -> Bool {
        if done { return true }
        try owner.progress()
        return done
    }

    func wait() throws {
        while try !test() {}
    }

    func wait(timeout seconds: Double) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try !test() {
            if Date() >= deadline { throw CommunicationError.timeout(operation: "hierarchical allreduce", rank: owner.rank, seconds: seconds) }
            usleep(50)
        }
    }
}
