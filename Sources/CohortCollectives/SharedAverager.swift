// Averaging through node-local shared memory: when every rank of a group runs
// on one machine, gradients can live in memory all of them map, and a bucket is
// averaged by each rank summing its own slice of it across every rank's copy
// and writing the mean back into all of them — no message copies at all, and
// the work is split evenly between the ranks (a reduce-scatter and an
// all-gather in one pass).

/// Float buffers, one per rank of a node-local group, that every rank can read
/// and write, averaged bucket by bucket.
///
/// Protocol per step (every rank calls the same sequence):
/// `markReady(bucket:)` as each bucket's gradients become final, optionally
/// `progress()` while other work continues, then `finish(timeout:)`, after
/// which every rank's `buffer` holds the average over all ranks, bitwise the
/// same on every rank.
public protocol SharedAverager: AnyObject {
    /// This rank's buffer, `count` floats, in shared memory. Owned by the averager.
    var buffer: UnsafeMutablePointer<Float> { get }
    /// Number of floats in `buffer`.
    var count: Int { get }
    /// Declares that this rank's values in `bucket` are final for this step.
    func markReady(bucket: Int)
    /// Averages this rank's slice of every bucket that all ranks have marked
    /// ready, without waiting. Cheap when there is nothing to do.
    func progress()
    /// Marks any bucket not yet marked, averages the rest of this rank's slices,
    /// and waits until every rank has finished its slices. Throws
    /// `CommunicationError.timeout` naming the ranks still missing after `timeout` seconds.
    func finish(timeout: Double) throws
    /// Frees the shared memory; `buffer` is invalid afterwards. Collective over the node's
    /// ranks, so call it only where every rank does (after the last step, on success). An
    /// averager released without it frees nothing collectively: a rank failing alone must
    /// never wait in a collective free for peers that will not come.
    func close()
}

extension Communicator {
    /// The default: no shared memory.
    public func makeSharedAverager(count: Int, buckets: [Range<Int>]) throws -> (any SharedAverager)? { nil }
}
