// The logistic-regression example's convergence plot: log10(f − f*) against the
// iteration for each method, as SVG line charts (CohortRunLog's LineChart).
import CohortRunLog
import Foundation

/// Writes the chart of every run's f − f* (log10; values ≤ f* leave a gap) to `path`, and
/// the same chart cut at iteration `zoom` beside it (`…-first60.svg`). Returns both paths.
/// - Throws: the file system's errors (a directory that cannot be created, a read-only file).
func writeConvergenceCharts(_ runs: [(name: String, values: [Double])], optimum: Double, title: String,
                            to path: String, zoom: Int) throws -> [String] {
    func chart(upTo last: Int) -> String {
        LineChart.svg(title: title, xLabel: "iteration (mini-batch SGD: epoch)", yLabel: "log10(f − f*)",
                      series: runs.map { run in
                          ChartSeries(name: run.name, points: run.values.prefix(last + 1).enumerated().map { k, f in
                              ChartPoint(x: Double(k), y: f - optimum > 0 ? log10(f - optimum) : .nan)
                          })
                      })
    }
    let stem = path.hasSuffix(".svg") ? String(path.dropLast(4)) : path
    let zoomed = stem + "-first\(zoom).svg"
    try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
    try chart(upTo: runs.map(\.values.count).max() ?? 0).write(toFile: path, atomically: true, encoding: .utf8)
    try chart(upTo: zoom).write(toFile: zoomed, atomically: true, encoding: .utf8)
    return [path, zoomed]
}
