// Node-shared memory over MPI-3: `MPI_Win_allocate_shared` on the shared-memory
// split of a communicator whose ranks are all on one node. This is the only
// shared-memory primitive the MPI backend offers; DDP's bucket averager
// (CohortDistributed) is built on it.
import CMPI
import CMPIShims
import CohortCollectives
import CohortCore

extension MPICommunicator: NodeSharedMemory {
    /// A window of `bytesPerRank` bytes per rank when every rank of this communicator is
    /// on this node; nil otherwise (or for a group of one). Collective.
    public func allocateNodeSharedWindow(bytesPerRank: Int) throws -> (any NodeSharedWindow)? {
        guard size > 1, localSize == size else { return nil }
        var node: MPI_Comm? = cohort_mpi_comm_null()
        try check(MPI_Comm_split_type(comm, cohort_mpi_comm_type_shared(), Int32(rank), cohort_mpi_info_null(), &node), "split_type(shared)")
        guard let node else { return nil }
        return try MPISharedWindow(node: node, bytesPerRank: bytesPerRank)
    }
}

/// An MPI shared-memory window over a node-local communicator, which it owns.
final class MPISharedWindow: NodeSharedWindow {
    let rank: Int, size: Int
    private let node: MPI_Comm
    private var window: MPI_Win?
    /// Every rank's segment, in node-rank order.
    private let segments: [UnsafeMutableRawPointer]

    /// Collective over `node` (every rank of a shared-memory communicator calls it).
    init(node: MPI_Comm, bytesPerRank: Int) throws {
        self.node = node
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(node, &r); MPI_Comm_size(node, &s)
        rank = Int(r); size = Int(s)
        var base: UnsafeMutableRawPointer?
        var win: MPI_Win?
        let rc = cohort_shm_window_allocate(node, bytesPerRank, &base, &win)
        guard rc == cohort_mpi_success(), let win else {
            throw CommunicationError.backend(operation: "MPI_Win_allocate_shared", rank: rank, message: MPIRuntime.errorString(rc))
        }
        window = win
        var segments: [UnsafeMutableRawPointer] = []
        for q in 0..<size {
            var b: UnsafeMutableRawPointer?
            let qrc = cohort_shm_window_query(win, Int32(q), &b)
            guard qrc == cohort_mpi_success(), let b else {
                throw CommunicationError.backend(operation: "MPI_Win_shared_query", rank: rank, message: MPIRuntime.errorString(qrc))
            }
            segments.append(b)
        }
        self.segments = segments
    }

    func segment(of r: Int) -> UnsafeMutableRawPointer { segments[r] }

    func barrier() throws {
        let rc = MPI_Barrier(node)
        guard rc == cohort_mpi_success() else {
            throw CommunicationError.backend(operation: "barrier (shared window)", rank: rank, message: MPIRuntime.errorString(rc))
        }
    }

    /// Collective (MPI_Win_free synchronises the node's ranks): the success path only.
    func free() {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        if finalized == 0, window != nil {
            cohort_shm_window_free(&window)
            var n: MPI_Comm? = node
            MPI_Comm_free(&n)
        }
        window = nil
    }

    // No deinit freeing the window: that is collective, and a deinit also runs while an
    // error unwinds on one rank, which would then wait forever for its peers. A window
    // never freed is freed by MPI_Finalize, or with the process.
}
