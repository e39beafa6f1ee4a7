// Logging for every rank: a `[rank r/N]` prefix when the job has more than
// one rank, and rank-0-only output for progress lines.
import Foundation

/// Where this process sits in the job: before MPI starts, what the launcher's environment
/// says (`LauncherDetection`); once `MPIRuntime.initialize` has run, MPI's own answer.
public struct RunInfo: Sendable, Equatable {
    /// This process's rank (0 when not launched by mpirun).
    public var rank: Int
    /// Number of ranks in the job (1 when not launched by mpirun).
    public var worldSize: Int
    /// Ranks on this node and this process's index among them.
    public var localRank: Int
    public var localSize: Int

    public init(rank: Int, worldSize: Int, localRank: Int, localSize: Int) {
        (self.rank, self.worldSize, self.localRank, self.localSize) = (rank, worldSize, localRank, localSize)
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var published: RunInfo?

    /// This process's place: MPI's once published, else the launcher's hints (rank 0 of 1
    /// without a launcher). Safe from any thread.
    public static var current: RunInfo {
        lock.lock(); defer { lock.unlock() }
        if let published { return published }
        let hints = LauncherDetection.current.hints
        published = hints
        return hints
    }

    /// Replaces `current` with MPI's answer (called by `MPIRuntime.initialize`; CohortCore links no MPI).
    public static func publish(_ info: RunInfo) {
        lock.lock(); defer { lock.unlock() }
        published = info
    }
}

/// Minimal rank-aware logger writing to standard error (progress) or output.
public enum Log {
    private static func prefix() -> String {
        let r = RunInfo.current
        return r.worldSize > 1 ? "[rank \(r.rank)/\(r.worldSize)] " : ""
    }

    private static let sinkLock = NSLock()
    nonisolated(unsafe) private static var sink: ((String) -> Void)?

    /// Sends every line (without its newline) to `lines` instead of standard error, e.g. to print
    /// above a live progress bar; nil restores standard error. `lines` is called under a lock.
    public static func redirect(_ lines: ((String) -> Void)?) {
        sinkLock.lock(); defer { sinkLock.unlock() }
        sink = lines
    }

    private static func emit(_ line: String) {
        sinkLock.lock(); defer { sinkLock.unlock() }
        if let sink { sink(line) } else { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    /// Prints a line on every rank, prefixed with the rank when there are several.
    public static func info(_ message: String) {
        emit(prefix() + message)
    }

    /// Prints a line on rank 0 only.
    public static func main(_ message: String) {
        guard RunInfo.current.rank == 0 else { return }
        emit(prefix() + message)
    }

    /// Prints a warning on every rank.
    public static func warning(_ message: String) {
        info("warning: " + message)
    }
}

/// Seconds on a monotonic clock (for durations; the origin is arbitrary).
public func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// The text of a NUL-terminated C character buffer.
public func string(fromCString buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
