// `cohort train --trace-samples FILE`: each step's global sample ids appended to a file
// (rank 0), for checking the data order.
import CohortCore
import Foundation

/// Appends "step N: id id …" lines to a file (the samples each step trained on).
final class SampleTrace {
    let handle: FileHandle
    let path: String
    init(_ path: String) throws {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw CohortError.badFile(path: path, "cannot open for --trace-samples") }
        h.seekToEndOfFile()
        handle = h
    }
    func record(step: Int, _ ids: [Int]) throws {
        handle.write(Data(("step \(step): " + ids.map(String.init).joined(separator: " ") + "\n").utf8))
    }
    deinit { try? handle.close() }
}
