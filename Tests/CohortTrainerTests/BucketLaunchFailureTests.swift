// A gradient bucket whose allreduce fails to start inside a gradient hook (which
// cannot throw) is not an abort in library code: DataParallel records the error and
// `synchronize()` throws it, so the CLI ends the job with its code like any other.
// MPI cannot be made to refuse a start on demand, so a two-rank group that refuses
// every non-blocking allreduce stands in for it; everything else is the real code.
import CohortCollectives
import CohortDistributed
import CohortNN
import CohortTensor
import Foundation
import Testing

/// Two ranks in one process: collectives copy (every rank holds the same values), and
/// every non-blocking allreduce fails to start, as a backend error would make it.
final class RefusingPairCommunicator: Communicator {
    var rank: Int { 0 }
    var size: Int { 2 }
    var localRank: Int { 0 }
    var localSize: Int { 2 }
    var processorName: String { "test" }
    private(set) var refused = 0

    func barrier() throws {}
    func broadcast<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws {}
    func allreduce<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOperation) throws {}
    func allreduceAsync<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOperation) throws -> any CommunicationRequest {
        refused += 1
        throw CommunicationError.backend(operation: "allreduce (non-blocking)", rank: 0, message: "MPI_ERR_NO_MEM: out of memory")
    }
    func allgather<T: CollectiveElement>(_ send: UnsafeBufferPointer<T>, into receive: UnsafeMutableBufferPointer<T>) throws {
        for r in 0..<2 { for i in send.indices { receive[r * send.count + i] = send[i] } }
    }
    func allgatherv<T: CollectiveElement>(_ send: UnsafeBufferPointer<T>, counts: [Int], into receive: UnsafeMutableBufferPointer<T>) throws {
        try allgather(send, into: receive)
    }
    func reduceScatter<T: CollectiveElement>(_ send: UnsafeBufferPointer<T>, into receive: UnsafeMutableBufferPointer<T>, op: ReduceOperation) throws {}
    func send<T: CollectiveElement>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws {}
    func receive<T: CollectiveElement>(into buffer: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int) throws {}
    func split(color: Int, key: Int) throws -> any Communicator { self }
    func duplicate() throws -> any Communicator { self }
    func abort(code: Int32, message: String) -> Never { fatalError("library code aborted the job: \(message)") }
}

@Suite struct BucketLaunchFailureTests {
    @Test func aBucketThatFailsToStartIsThrownBySynchronize() throws {
        var g = RandomGenerator(seed: 1)
        let model = Sequential([Linear(4, 8, generator: &g), ReLU(), Linear(8, 3, generator: &g)])
        let comm = RefusingPairCommunicator()
        let ddp = try DataParallel(model: model, arena: ParameterArena(model), communicator: comm, bucketMegabytes: 0.0001)
        #expect(ddp.buckets.count > 1)
        let x = try Tensor([Float](repeating: 0.5, count: 8), shape: [2, 4])
        try model.forward(x).sum().backward()   // the hooks try to start every bucket, and fail
        #expect(comm.refused >= 1)
        do {
            try ddp.synchronize(timeout: 5)
            Issue.record("synchronize did not throw")
        } catch let error as CommunicationError {
            let text = "\(error)"
            #expect(text.contains("starting the gradient allreduce of bucket") && text.contains("MPI_ERR_NO_MEM"), "\(text)")
        }
        // The error is reported once; the next step starts clean (and fails the same way).
        try model.forward(x).sum().backward()
        #expect(throws: CommunicationError.self) { try ddp.synchronize(timeout: 5) }
    }
}
