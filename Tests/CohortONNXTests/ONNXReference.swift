// Runs checks/support/onnx_check.py in the reference venv (onnx's checker, then ONNX
// Runtime at batch N and batch 1) on an exported model, inputs and Cohort's outputs.
// A missing venv or package is a failure, not a skip.
import CohortData
import CohortProcess
import CohortProcessTestSupport
import Foundation
import Testing

enum ONNXReference {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = repo.appendingPathComponent("checks/support/onnx_check.py").path

    /// A fresh scratch directory.
    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// What the script reports.
    struct Report {
        var json: [String: Any]
        var batchN: Double? { json["max_abs_batch_n"] as? Double }
        var batch1: Double? { json["max_abs_batch_1"] as? Double }
        var metadata: [String: String] { json["metadata"] as? [String: String] ?? [:] }
        var inputShape: [String] { (json["input"] as? [String: Any])?["shape"] as? [String] ?? [] }
    }

    /// Writes `inputs`/`expected` as .npy beside `model` and runs the check script on them.
    /// `optimization`: ONNX Runtime's graph optimization level, `all` (its default) or `basic`.
    static func check(model: String, inputs: [Float], inputShape: [Int], expected: [Float], expectedShape: [Int],
                      optimization: String = "all") throws -> Report {
        let dir = URL(fileURLWithPath: model).deletingLastPathComponent()
        let x = dir.appendingPathComponent("inputs.npy").path, y = dir.appendingPathComponent("expected.npy").path
        try Data(try NPY.encode(inputs, shape: inputShape)).write(to: URL(fileURLWithPath: x))
        try Data(try NPY.encode(expected, shape: expectedShape)).write(to: URL(fileURLWithPath: y))
        #expect(FileManager.default.isExecutableFile(atPath: ReferenceVenv.python),
                "reference venv missing: \(ReferenceVenv.python) (run `make deps`)")
        let r = try runChild([ReferenceVenv.python, script, model, x, y, optimization], stdout: .capture, stderr: .capture)
        let out = String(decoding: r.stdout, as: UTF8.self), err = String(decoding: r.stderr, as: UTF8.self)
        guard r.status.succeeded, let json = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] else {
            Issue.record("onnx_check.py failed (\(r.status)): \(out)\n\(err)")
            return Report(json: [:])
        }
        return Report(json: json)
    }
}
