// Memory that every rank of a node maps: the one primitive a backend offers for
// shared-memory transports. A backend that can map it (MPI-3 shared windows)
// conforms to `NodeSharedMemory`; what to build on it — DDP's bucket averager —
// belongs to its user (CohortDistributed), not to the backend.

/// Memory allocated collectively by the ranks of one node: one segment per rank,
/// each mapped into every rank's address space, readable and writable by all.
public protocol NodeSharedWindow: AnyObject {
    /// This rank's index among the window's ranks (node-local order).
    var rank: Int { get }
    /// Number of ranks sharing the window.
    var size: Int { get }
    /// The start of rank `r`'s segment (at least the bytes requested),
    /// as mapped in this process.
    func segment(of r: Int) -> UnsafeMutableRawPointer
    /// Blocks until every rank of the window arrives.
    func barrier() throws
    /// Unmaps and frees the memory; every segment pointer is invalid afterwards.
    /// Collective over the window's ranks: call it only where every rank does.
    func free()
}

/// A communicator whose ranks can share memory when they all run on one node.
public protocol NodeSharedMemory: Communicator {
    /// Allocates `bytesPerRank` bytes for each rank, collectively (every rank of the group
    /// calls it), or returns nil on every rank when the ranks do not all share this node.
    func allocateNodeSharedWindow(bytesPerRank: Int) throws -> (any NodeSharedWindow)?
}
