// Helpers shared by the CohortData tests: a scratch directory per test, file
// byte writes for hand-made fixtures, and the message of a `badFile` error.
import Foundation
import CohortCore

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-data-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// `name` inside the directory.
    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` and returns its path.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let p = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    /// The bytes of `name`.
    func read(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: file(name)))) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The description of the `CohortError.badFile` that `body` throws, or nil if it throws
/// something else or nothing.
func badFileMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as CohortError {
        if case .badFile = error { return error.description }
        return nil
    } catch {
        return nil
    }
}
