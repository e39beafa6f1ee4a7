// Loads Fixtures/linalg.json (written by Fixtures/make_fixtures.py from NumPy/SciPy)
// by path relative to this file, and compares factors that are unique only up to
// sign: column by column, flipping a column when that matches better.
import Foundation
import CohortTensor
import CohortTestSupport
import Testing

enum Reference {
    /// The whole fixture file, parsed once.
    nonisolated(unsafe) static let root: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/linalg.json")
        let data = try! Data(contentsOf: url)
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static func cases(_ key: String) -> [[String: Any]] { root[key] as! [[String: Any]] }
    static func object(_ key: String) -> [String: Any] { root[key] as! [String: Any] }

    /// Values of an encoded array ("inf", "-inf", "nan" as strings).
    static func values(_ entry: Any?) -> [Double] {
        let d = entry as! [String: Any]
        return (d["data"] as! [Any]).map { v in
            if let s = v as? String { return s == "nan" ? .nan : (s == "inf" ? .infinity : -.infinity) }
            return (v as! NSNumber).doubleValue
        }
    }

    static func number(_ entry: Any?) -> Double { (entry as! NSNumber).doubleValue }

    static func shape(_ entry: Any?) -> [Int] { ((entry as! [String: Any])["shape"] as! [Any]).map { ($0 as! NSNumber).intValue } }

    /// The encoded array as a Float32 tensor.
    static func tensor(_ entry: Any?, requiresGrad: Bool = false) -> Tensor {
        try! Tensor(values(entry).map(Float.init), shape: shape(entry), requiresGrad: requiresGrad)
    }
}

/// Expects `actual` `[..., m, c]` to equal `expected` column by column up to each
/// column's sign (eigenvectors, singular vectors, Q factors).
func expectColumnsUpToSign(_ actual: Tensor, _ expected: [Double], atol: Double, _ label: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(label): \(actual.count) vs \(expected.count) values", sourceLocation: sourceLocation)
    guard actual.count == expected.count, actual.rank >= 2 else { return }
    let a = actual.scalars.map(Double.init)
    let m = actual.shape[actual.rank - 2], c = actual.shape[actual.rank - 1]
    let per = m * c
    for b in 0..<(per == 0 ? 0 : actual.count / per) {
        for j in 0..<c {
            let idx = (0..<m).map { b * per + $0 * c + j }
            let same = idx.map { Swift.abs(a[$0] - expected[$0]) }.max() ?? 0
            let flipped = idx.map { Swift.abs(a[$0] + expected[$0]) }.max() ?? 0
            #expect(Swift.min(same, flipped) <= atol, "\(label): column \(j) of matrix \(b) differs by \(Swift.min(same, flipped)) even up to sign",
                    sourceLocation: sourceLocation)
        }
    }
}

/// Row-major product of two matrices given as tensors (test helper, Float64).
func product(_ a: Tensor, _ b: Tensor) -> [Double] {
    let m = a.shape[0], k = a.shape[1], n = b.shape[1]
    let x = a.scalars.map(Double.init), y = b.scalars.map(Double.init)
    var out = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n { for p in 0..<k { out[i * n + j] += x[i * k + p] * y[p * n + j] } } }
    return out
}

/// Records an issue unless the Double arrays have equal length and close values.
func assertClose(_ actual: [Double], _ expected: [Double], atol: Double, rtol: Double, _ comment: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    let c = closeness(actual, expected, atol: atol, rtol: rtol)
    if !c.passed { Issue.record(Comment(rawValue: "\(comment): \(c)"), sourceLocation: sourceLocation) }
}
