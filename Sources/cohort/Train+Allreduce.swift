// `cohort train --allreduce flat|hierarchical|auto`: how a multi-node job's gradient
// allreduce runs (CohortMPI's HierarchicalCommunicator; docs/cli.md, docs/scaling.md).
import ArgumentParser
import CohortCollectives
import CohortCore
import CohortRuntime

/// The allreduce algorithm of data-parallel gradient averaging.
struct AllreduceFlags: ParsableArguments {
    @Option(name: .customLong("allreduce"), help: "Multi-node gradient allreduce: flat (one MPI_Allreduce over all ranks), hierarchical (reduce inside each node, allreduce across nodes, gather inside each node) or auto (hierarchical for buckets of 1 MiB or more when several nodes run several ranks each). Default flat: on the machines measured (docs/scaling.md) Open MPI's own allreduce was faster. Jobs on one node keep the shared-memory averager; --deterministic sums along its fixed tree instead.") var allreduce = "flat"

    /// The algorithm `--allreduce` names; errors name the flag.
    func algorithm() throws -> AllreduceAlgorithm {
        guard let a = AllreduceAlgorithm(rawValue: allreduce) else {
            throw ValidationError("--allreduce must be flat, hierarchical or auto, got '\(allreduce)'")
        }
        return a
    }

    /// `comm` with its allreduce run as asked. Deterministic mode keeps `comm`: its gradients
    /// travel point to point along the fixed tree, and its other sums stay flat so the run's
    /// bits do not depend on the flag. Collective.
    func arrange(_ comm: any Communicator, deterministic: Bool) throws -> any Communicator {
        let a = try algorithm()
        if deterministic {
            if a == .hierarchical { Log.main("--allreduce hierarchical: deterministic mode sums gradients along its fixed tree (point to point), not by allreduce; the flag changes nothing") }
            return comm
        }
        let arranged = try World.arranging(comm, allreduce: a)
        if let line = World.allreduceDescription(arranged) { Log.main(line) }
        return arranged
    }
}
