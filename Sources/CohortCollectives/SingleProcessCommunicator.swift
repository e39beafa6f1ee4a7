// A communicator of size 1: every collective is the identity (or a copy), so a
// program written against `Communicator` runs unchanged without mpirun.
import CohortCore
#if canImport(Glibc)
import Glibc
#endif

/// The size-1 group.
public final class SingleProcessCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public var localRank: Int { 0 }
    public var localSize: Int { 1 }
    public var processorName: String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, 255)
        return string(fromCString: buf)
    }

    final class Done: CommunicationRequest {
        func wait() throws {}
        func test() throws -> Bool { true }
        func wait(timeout seconds: Double) throws {}
    }

    public func barrier() throws {}
    public func broadcast<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws {
        guard root == 0 else { throw CommunicationError.invalidArgument("broadcast: root \(root) is not a rank of a size-1 group") }
    }
    public func allreduce<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOperation) throws {}
    public func allreduceAsync<T: CollectiveElement>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOperation) throws -> any CommunicationRequest { Done() }
    public func allgather<T: CollectiveElement>(_ send: UnsafeBufferPointer<T>, into receive: UnsafeMutableBufferPointer<T>) throws {
        guard receive.count == send.count else {
            throw CommunicationError.invalidArgument("allgather: receive buffer holds \(receive.count), needs \(send.count)")
        }
        if let s = send.baseAddress, let r = receive.baseAddress { r.update(from: s, count: send.count) }
    }
    public func allgatherv<T: CollectiveElement>(_ send: UnsafeBufferPointer<T>, counts: [Int], into receive: UnsafeMutableBufferPointer<T>) throws {
        guard counts == [send.count] else { throw CommunicationError.invalidArgument("allgatherv: counts \(counts) for one rank sending \(send.count)") }
        try allgather(send, into: receive)
    }
    public func send<T: CollectiveElement>(_ buffer: UnsafeBufferPointer<T>, to destination: Int, tag: Int) throws {
        throw CommunicationError.invalidArgument("send: a size-1 group has no rank \(destination)")
    }
    public func receive<T: CollectiveElement>(into buffer: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int) throws {
        throw CommunicationError.invalidArgument("receive: a size-1 group has no rank \(source)")
    }
    public func split(color: Int, key: Int) throws -> any Communicator { SingleProcessCommunicator() }
}
