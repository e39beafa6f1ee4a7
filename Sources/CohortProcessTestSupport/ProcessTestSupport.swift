// Helpers for the tests of code that starts processes (CohortProcess, CohortLaunch):
// scratch directories, process liveness read from /proc (orphans' zombies may never be
// reaped here), polling with a deadline, and the pid files children write.
import Foundation

/// A fresh directory under the system temporary directory, named `prefix-UUID`.
public func makeScratchDirectory(prefix: String = "cohort-tests") throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// True when `pid` exists and is not a zombie.
public func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// Polls `condition` every 10 ms for up to `timeout` seconds.
public func eventually(timeout: Double = 3, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Reads a pid a child wrote to `path`, waiting for the file to appear.
public func readPid(_ path: String) -> Int32? {
    var pid: Int32?
    _ = eventually {
        pid = (try? String(contentsOfFile: path, encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return pid != nil
    }
    return pid
}

/// The test process's environment, for children that need PATH.
public let baseEnvironment = ProcessInfo.processInfo.environment
