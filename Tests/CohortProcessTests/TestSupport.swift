// Helpers of the CohortProcess tests: scratch directories and process liveness
// read from /proc (orphans' zombies may never be reaped here).
import Foundation

/// A fresh directory under the system temporary directory.
func makeScratchDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("cohort-process-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// True when `pid` exists and is not a zombie.
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// Polls `condition` every 10 ms for up to `timeout` seconds.
func eventually(timeout: Double = 3, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Reads a pid a child wrote to `path`, waiting for the file to appear.
func readPid(_ path: String) -> Int32? {
    var pid: Int32?
    _ = eventually {
        pid = (try? String(contentsOfFile: path, encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return pid != nil
    }
    return pid
}

/// The launcher's environment, for children that need PATH.
let baseEnvironment = ProcessInfo.processInfo.environment
