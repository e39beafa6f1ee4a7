// How a multi-node job's allreduce runs (`cohort train --allreduce`): one flat
// collective over every rank, or the hierarchical form (inside each node first,
// then across nodes, then inside each node again), or a choice by topology and
// message size. The MPI backend implements it (CohortMPI's HierarchicalCommunicator).

/// The allreduce algorithm a job asks for.
public enum AllreduceAlgorithm: String, Sendable, CaseIterable {
    /// One collective over all ranks (the MPI library's own algorithm).
    case flat
    /// Node-local reduce-scatter, an allreduce across nodes per node-local rank, node-local allgather.
    case hierarchical
    /// Hierarchical when there is more than one node, some node runs more than one rank and the
    /// message is at least the measured threshold; flat otherwise.
    case auto
}
