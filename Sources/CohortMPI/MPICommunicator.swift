// The MPI wrapper: the one file that imports OpenMPI (through CMPIShims).
// Runtime init/finalize (singleton without mpirun, or under it), communicators
// with MPI_ERRORS_RETURN so failures come back as Swift errors carrying
// MPI_Error_string, counts above Int32.max chunked, and non-blocking requests
// with a deadline-bounded wait.
import CMPI
import CMPIShims
import CohortCollectives
import CohortCore
import Foundation

/// Process-wide MPI initialisation.
public enum MPIRuntime {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var world: MPICommunicator?

    /// Initialises MPI once (MPI_THREAD_FUNNELED: only the thread that initialised
    /// calls MPI), publishes MPI's rank, world size and node-local placement as
    /// `RunInfo.current`, and returns the world communicator. Works as a singleton without
    /// a launcher.
    /// - Throws: `CohortError.invalidArgument` when the launcher (`launcher`, read from the
    ///   environment) claims more ranks than MPI forms — e.g. MPICH's Hydra or srun without
    ///   PMIx, where every process would otherwise train alone — naming both numbers and the
    ///   variables seen; `CommunicationError.backend` if MPI cannot start or lacks the thread level.
    public static func initialize(launcher: LauncherDetection = .current) throws -> MPICommunicator {
        lock.lock(); defer { lock.unlock() }
        if let world { return world }
        // Open MPI joins a Slurm step only through PMIx: without it, its MPI_Init aborts the
        // process with a message about "direct launch" (before any error handler applies).
        if launcher.inSlurmJob, launcher.kind == .slurm || launcher.kind == .pmi, (launcher.size ?? 2) > 1 {
            throw CohortError.invalidArgument(launcher.unsupported("this Open MPI can join a Slurm job step only through PMIx "
                + "(no PMIX_RANK is set), so MPI was not started"))
        }
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            let rc = MPI_Init_thread(nil, nil, cohort_mpi_thread_funneled(), &provided)
            guard rc == cohort_mpi_success() else {
                throw CommunicationError.backend(operation: "MPI_Init_thread", rank: 0, message: errorString(rc))
            }
            guard provided >= cohort_mpi_thread_funneled() else {
                throw CommunicationError.backend(operation: "MPI_Init_thread", rank: 0,
                                                 message: "the MPI library provides thread level \(provided), Cohort needs MPI_THREAD_FUNNELED")
            }
        }
        let w = try MPICommunicator(borrowing: cohort_mpi_comm_world())
        if let message = launcher.mismatch(mpiRank: w.rank, mpiSize: w.size) {
            MPI_Finalize()   // a world of one: nothing to wait for
            throw CohortError.invalidArgument(message)
        }
        RunInfo.publish(RunInfo(rank: w.rank, worldSize: w.size, localRank: w.localRank, localSize: w.localSize))
        world = w
        return w
    }

    /// Finalises MPI if it was initialised and not yet finalised.
    public static func finalize() {
        lock.lock(); defer { lock.unlock() }
        var initialized: Int32 = 0, finalized: Int32 = 0
        MPI_Initialized(&initialized)
        MPI_Finalized(&finalized)
        if initialized != 0 && finalized == 0 { MPI_Finalize() }
        world = nil
    }

    /// Ends every rank of the job with `code` (`MPI_Abort` on the world), without any
    /// collective cleanup — what a rank that failed alone must do, since its peers may be
    /// waiting in a collective it will never join. Returns (doing nothing) only when MPI is
    /// not initialised or already finalised; the caller then exits with `code` itself.
    public static func abort(code: Int32) {
        var initialized: Int32 = 0, finalized: Int32 = 0
        MPI_Initialized(&initialized)
        MPI_Finalized(&finalized)
        guard initialized != 0, finalized == 0 else { return }
        MPI_Abort(cohort_mpi_comm_world(), code)
    }

    /// MPI's text for an error code.
    static func errorString(_ code: Int32) -> String {
        var buf = [CChar](repeating: 0, count: Int(cohort_mpi_max_error_string()) + 1)
        var len: Int32 = 0
        MPI_Error_string(code, &buf, &len)
        return string(fromCString: buf)
    }

    /// The MPI library's version string.
    public static var libraryVersion: String {
        var buf = [CChar](repeating: 0, count: 8192)
        var len: Int32 = 0
        MPI_Get_library_version(&buf, &len)
        return string(fromCString: buf).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// An MPI communicator. Frees communicators it created (split/dup) when released.
public final class MPICommunicator: Communicator {
    let comm: MPI_Comm
    private let owned: Bool
    public let rank: Int
    public let size: Int
    /// Index among the ranks on this node, and their number.
    public let localRank: Int
    public let localSize: Int

    init(borrowing comm: MPI_Comm, owned: Bool = false) throws {
        self.comm = comm
        self.owned = owned
        MPI_Comm_set_errhandler(comm, cohort_mpi_errors_return())
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        rank = Int(r); size = Int(s)
        // Ranks sharing this node: a shared-memory split of this communicator.
        var node: MPI_Comm? = cohort_mpi_comm_null()
        let rc = MPI_Comm_split_type(comm, cohort_mpi_comm_type_shared(), r, cohort_mpi_info_null(), &node)
        if rc == cohort_mpi_success(), let node {
            var lr: Int32 = 0, ls: Int32 = 0
            MPI_Comm_rank(node, &lr); MPI_Comm_size(node, &ls)
            localRank = Int(lr); localSize = Int(ls)
            var n: MPI_Comm? = node
            MPI_Comm_free(&n)
        } else {
            localRank = 0; localSize = 1
        }
    }

    deinit {
        if owned {
            var c: MPI_Comm? = comm
            var finalized: Int32 = 0
            MPI_Finalized(&finalized)
            if finalized == 0 { MPI_Comm_free(&c) }
        }
    }

    /// Host name as MPI reports it.
    public var processorName: String {
        var buf = [CChar](repeating: 0, count: Int(cohort_mpi_max_processor_name()) + 1)
        var len: Int32 = 0
        MPI_Get_processor_name(&buf, &len)
        return string(fromCString: buf)
    }

    func check(_ rc: Int32, _ op: String) throws {
        guard rc == cohort_mpi_success() else {
            throw CommunicationError.backend(operation: op, rank: rank, message: MPIRuntime.errorString(rc))
        }
    }

    static func datatype(_ k: ElementKind) -> MPI_Datatype {
        switch k {
        case .float32: return cohort_mpi_float()
        case .float64: return cohort_mpi_double()
        case .int32: return cohort_mpi_int32()
        case .int64: return cohort_mpi_int64()
        case .uint8: return cohort_mpi_uint8()
        case .bfloat16, .float16: return cohort_mpi_uint16()
        }
    }

    /// The operator combining `kind` by `op`: MPI's own, or for 16-bit float words the user
    /// operator summing them as floats (CMPIShims); max and min of those are refused.
    func mpiOp(_ op: ReduceOperation, _ kind: ElementKind) throws -> MPI_Op {
        switch kind {
        case .bfloat16, .float16:
            guard op == .sum else {
                throw CommunicationError.invalidArgument("allreduce \(op) of 16-bit float words: only sum is supported")
            }
            var handle: MPI_Op? = cohort_mpi_op_sum()
            try check(cohort_mpi_op_half_sum(kind == .bfloat16 ? 0 : 1, &handle), "creating the 16-bit float sum operator")
            guard let handle else { throw CommunicationError.invalidArgument("the 16-bit float sum operator was not created") }
            return handle
        default:
            switch op {
            case .sum: return cohort_mpi_op_sum()
            case .max: return cohort_mpi_op_max()
            case .min: return cohort_mpi_op_min()
            }
        }
    }

    /// Splits `count` elements into pieces whose counts fit an MPI `int`.
    static func pieces(_ count: Int) -> [(offset: Int, count: Int32)] {
        let limit = Int(Int32.max)
        var out: [(Int, Int32)] = []
        var o = 0
        while o < count { let n = min(limit, count - o); out.append((o, Int32(n))); o += n }
        return out
    }

    func checkRank(_ r: Int, _ op: String) throws {
        guard r >= 0 && r < size else { throw CommunicationError.invalidArgument("\(op): rank \(r) is outside 0..<\(size)") }
    }

    public func barrier() throws { try check(MPI_Barrier(comm), "barrier") }

    public func broadcast<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws {
        try checkRank(root, "broadcast")
        guard let base = buffer.baseAddress else { return }
        for p in MPICommunicator.pieces(buffer.count) {
            try check(MPI_Bcast(base + p.offset, p.count, MPICommunicator.datatype(T.elementKind), Int32(root), comm), "broadcast")
        }
    }

    public func allreduce<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOperation) throws {
        guard let base = buffer.baseAddress else { return }
        if let count = Int32(exactly: buffer.count) {
            // The common case: one call, no piece list (this path is latency-critical).
            try check(MPI_Allreduce(cohort_mpi_in_place(), base, count, MPICommunicator.datatype(T.elementKind),
                                    mpiOp(op, T.elementKind), comm), "allreduce")
            return
        }
        for p in MPICommunicator.pieces(buffer.count) {
            try check(MPI_Allreduce(cohort_mpi_in_place(), base + p.offset, p.count, MPICommunicator.datatype(T.elementKind),
                                    mpiOp(op, T.elementKind), comm), "allreduce")
        }
    }

    public func allreduceAsync<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOperation) throws -> any CommunicationRequest {
        guard let base = buffer.baseAddress else { return MPIRequest(requests: [], communicator: self, operation: "allreduce") }
        var requests: [MPI_Request?] = []
        for p in MPICommunicator.pieces(buffer.count) {
            var r: MPI_Request? = cohort_mpi_request_null()
            try check(MPI_Iallreduce(cohort_mpi_in_place(), base + p.offset, p.count, MPICommunicator.datatype(T.elementKind),
                                     mpiOp(op, T.elementKind), comm, &r), "allreduce (non-blocking)")
            requests.append(r)
        }
        return MPIRequest(requests: requests, communicator: self, operation: "allreduce")
    }

    public func allgather<T: CollectiveElement>(_ send: UnsafeBufferPointer<T>, into receive: UnsafeMutableBufferPointer<T>) throws {
        guard receive.count == send.count * size else {
            throw CommunicationError.invalidArgument("allgather: receive buffer holds \(receive.count) elements, needs \(send.count) × \(size)")
        }
        guard let count = Int32(exactly: send.count) else {
            throw CommunicationError.invalidArgument("allgather: \(send.count) elements per rank exceed MPI's int count")
        }
        try check(MPI_Allgather(send.baseAddress, count, MPICommunicator.datatype(T.elementKind),
                                receive.baseAddress, count, MPICommunicator.datatype(T.elementKind), comm), "allgather")
    }

    public func allgatherv<T: CollectiveElement>(_ send: UnsafeBufferPointer<T>, counts: [Int], into receive: UnsafeMutableBufferPointer<T>) throws {
        guard counts.count == size, counts[rank] == send.count, counts.reduce(0, +) == receive.count else {
            throw CommunicationError.invalidArgument("allgatherv: counts \(counts) do not match \(size) ranks, this rank's \(send.count) elements and a receive buffer of \(receive.count)")
        }
        let c32 = counts.compactMap { Int32(exactly: $0) }
        var displacements: [Int32] = []
        var acc = 0
        for c in counts { guard let d = Int32(exactly: acc) else { break }; displacements.append(d); acc += c }
        guard c32.count == size, displacements.count == size else {
            throw CommunicationError.invalidArgument("allgatherv: counts \(counts) exceed MPI's int range")
        }
        let t = MPICommunicator.datatype(T.elementKind)
        try check(MPI_Allgatherv(send.baseAddress, c32[rank], t, receive.baseAddress, c32, displacements, t, comm), "allgatherv")
    }

    /// MPI_Allgatherv with MPI_IN_PLACE: no copy of this rank's block.
    public func allgatherInPlace<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, counts: [Int]) throws {
        try Self.checkBlocks(counts, total: buffer.count, ranks: size, "allgatherInPlace")
        let (c32, displacements) = try Self.blockLayout(counts, "allgatherInPlace")
        let t = MPICommunicator.datatype(T.elementKind)
        try check(MPI_Allgatherv(cohort_mpi_in_place(), 0, t, buffer.baseAddress, c32, displacements, t, comm), "allgather (in place)")
    }

    /// MPI_Ireduce_scatter with MPI_IN_PLACE, which leaves this rank's block at the start of the
    /// buffer: the request moves it to its own offset when it completes. The counts stay allocated
    /// until then (MPI reads them while the operation runs).
    public func reduceScatterAsync<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, counts: [Int], op: ReduceOperation) throws -> any CommunicationRequest {
        try Self.checkBlocks(counts, total: buffer.count, ranks: size, "reduceScatterAsync")
        guard let base = buffer.baseAddress else { return MPIRequest(requests: [], communicator: self, operation: "reduce-scatter") }
        let (c32, _) = try Self.blockLayout(counts, "reduceScatterAsync")
        let mpiOperation = try mpiOp(op, T.elementKind)
        let kept = UnsafeMutablePointer<Int32>.allocate(capacity: c32.count)
        kept.initialize(from: c32, count: c32.count)
        var r: MPI_Request? = cohort_mpi_request_null()
        let rc = MPI_Ireduce_scatter(cohort_mpi_in_place(), base, kept, MPICommunicator.datatype(T.elementKind), mpiOperation, comm, &r)
        if rc != MPI_SUCCESS { kept.deallocate() }
        try check(rc, "reduce-scatter (non-blocking)")
        let offset = counts[..<rank].reduce(0, +), mine = counts[rank]
        let request = MPIRequest(requests: [r], communicator: self, operation: "reduce-scatter")
        return FollowedRequest(request) {
            if offset > 0 && mine > 0 { memmove(base + offset, base, mine * MemoryLayout<T>.stride) }   // the regions may overlap
            kept.deallocate()
        }
    }

    /// Per-rank counts and displacements as MPI ints.
    static func blockLayout(_ counts: [Int], _ operation: String) throws -> (counts: [Int32], displacements: [Int32]) {
        var c32: [Int32] = [], displacements: [Int32] = [], acc = 0
        for c in counts {
            guard let n = Int32(exactly: c), let d = Int32(exactly: acc) else {
                throw CommunicationError.invalidArgument("\(operation): counts \(counts) exceed MPI's int range")
            }
            c32.append(n); displacements.append(d); acc += c
        }
        return (c32, displacements)
    }

    /// Reduces `send` (size × receive.count elements) across ranks and leaves block r of
    /// the result on rank r.
    public func reduceScatter<T: CollectiveElement>(_ send: UnsafeBufferPointer<T>, into receive: UnsafeMutableBufferPointer<T>, op: ReduceOperation) throws {
        guard send.count == receive.count * size else {
            throw CommunicationError.invalidArgument("reduceScatter: send holds \(send.count) elements, needs \(receive.count) × \(size)")
        }
        guard let count = Int32(exactly: receive.count) else {
            throw CommunicationError.invalidArgument("reduceScatter: \(receive.count) elements per rank exceed MPI's int count")
        }
        try check(MPI_Reduce_scatter_block(send.baseAddress, receive.baseAddress, count, MPICommunicator.datatype(T.elementKind),
                                           mpiOp(op, T.elementKind), comm), "reduceScatter")
    }

    public func send<T: CollectiveElement>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws {
        try checkRank(destination, "send")
        for p in MPICommunicator.pieces(buffer.count) {
            try check(MPI_Send(buffer.baseAddress.map { $0 + p.offset }, p.count, MPICommunicator.datatype(T.elementKind),
                               Int32(destination), Int32(tag), comm), "send")
        }
    }

    public func receive<T: CollectiveElement>(into buffer: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int) throws {
        try checkRank(source, "receive")
        for p in MPICommunicator.pieces(buffer.count) {
            try check(MPI_Recv(buffer.baseAddress.map { $0 + p.offset }, p.count, MPICommunicator.datatype(T.elementKind),
                               Int32(source), Int32(tag), comm, nil), "receive")
        }
    }

    public func split(color: Int, key: Int) throws -> any Communicator {
        var c: MPI_Comm? = cohort_mpi_comm_null()
        try check(MPI_Comm_split(comm, Int32(color), Int32(key), &c), "split")
        guard let c else { throw CommunicationError.backend(operation: "split", rank: rank, message: "no communicator returned") }
        return try MPICommunicator(borrowing: c, owned: true)
    }

    /// A new communicator with the same group (separate message space).
    public func duplicate() throws -> any Communicator {
        var c: MPI_Comm? = cohort_mpi_comm_null()
        try check(MPI_Comm_dup(comm, &c), "dup")
        guard let c else { throw CommunicationError.backend(operation: "dup", rank: rank, message: "no communicator returned") }
        return try MPICommunicator(borrowing: c, owned: true)
    }

    /// `MPI_Allreduce(MPI_IN_PLACE, …, MPI_FLOAT, MPI_SUM)` called directly, with
    /// nothing of the wrapper around it: the reference `cohort bench allreduce`
    /// measures the wrapper against. Returns MPI's error code.
    public func rawAllreduceSumForBenchmark(_ buffer: UnsafeMutableBufferPointer<Float>) -> Int32 {
        MPI_Allreduce(cohort_mpi_in_place(), buffer.baseAddress, Int32(buffer.count), cohort_mpi_float(), cohort_mpi_op_sum(), comm)
    }
}

/// A set of MPI requests completing one logical operation.
final class MPIRequest: CommunicationRequest {
    private var requests: [MPI_Request?]
    private let communicator: MPICommunicator
    private let operation: String

    init(requests: [MPI_Request?], communicator: MPICommunicator, operation: String) {
        self.requests = requests
        self.communicator = communicator
        self.operation = operation
    }

    private func complete() { requests = [] }

    func wait() throws {
        guard !requests.isEmpty else { complete(); return }
        let n = Int32(requests.count)
        try communicator.check(requests.withUnsafeMutableBufferPointer { MPI_Waitall(n, $0.baseAddress, nil) }, operation)
        complete()
    }

    func test() throws -> Bool {
        guard !requests.isEmpty else { complete(); return true }
        var flag: Int32 = 0
        let n = Int32(requests.count)
        try communicator.check(requests.withUnsafeMutableBufferPointer { MPI_Testall(n, $0.baseAddress, &flag, nil) }, operation)
        if flag != 0 { complete() }
        return flag != 0
    }

    func wait(timeout seconds: Double) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try !test() {
            if Date() >= deadline { throw CommunicationError.timeout(operation: operation, rank: communicator.rank, seconds: seconds) }
            usleep(50)
        }
    }
}
