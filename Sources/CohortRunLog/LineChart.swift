// SVG line charts with a numeric x axis (training steps) and "nice" ticks on
// both axes; the y range follows the data (a loss need not start at 0). Output
// is plain SVG 1.1 (no scripts or external fonts): valid XML any viewer renders.
import Foundation

/// One line of a `LineChart`: points in x order; NaN y values break the line.
public struct ChartSeries: Sendable, Equatable {
    public var name: String
    public var points: [ChartPoint]
    public init(name: String, points: [ChartPoint]) { self.name = name; self.points = points }
}

/// A point of a series.
public struct ChartPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public init(x: Double, y: Double) { self.x = x; self.y = y }
}

/// Renders line charts as SVG text.
public enum LineChart {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
    static let width = 720.0, height = 420.0, left = 78.0, right = 170.0, top = 42.0, bottom = 52.0

    /// A chart of `series` over a shared x axis; series with no finite point are listed but not drawn.
    public static func svg(title: String, xLabel: String, yLabel: String, series: [ChartSeries]) -> String {
        let finite = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xt = AxisTicks(low: finite.map(\.x).min() ?? 0, high: finite.map(\.x).max() ?? 1, count: 6)
        let yt = AxisTicks(low: finite.map(\.y).min() ?? 0, high: finite.map(\.y).max() ?? 1, count: 5)
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - xt.lower) / (xt.upper - xt.lower) * plotW }
        func py(_ y: Double) -> Double { top + plotH - (y - yt.lower) / (yt.upper - yt.lower) * plotH }

        var s = SVG.header(title: title, width: width, height: height)
        for v in yt.values {
            s += SVG.line(left, py(v), left + plotW, py(v), stroke: "#e5e5e5")
            s += SVG.text(left - 6, py(v) + 4, yt.label(v), anchor: "end")
        }
        for v in xt.values {
            s += SVG.line(px(v), top, px(v), top + plotH, stroke: "#f0f0f0")
            s += SVG.line(px(v), top + plotH, px(v), top + plotH + 4, stroke: "#333")
            s += SVG.text(px(v), top + plotH + 18, xt.label(v), anchor: "middle")
        }
        s += SVG.line(left, top + plotH, left + plotW, top + plotH, stroke: "#333")
        s += SVG.line(left, top, left, top + plotH, stroke: "#333")
        s += SVG.text(left + plotW / 2, height - 12, xLabel, anchor: "middle")
        s += "<text x=\"16\" y=\"\(SVG.f(top + plotH / 2))\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 \(SVG.f(top + plotH / 2)))\">\(SVG.escape(yLabel))</text>\n"

        for (i, series) in series.enumerated() {
            let color = palette[i % palette.count]
            s += "<g><title>\(SVG.escape(series.name))</title>\n"
            for run in segments(series.points) {
                if run.count == 1 {
                    s += "<circle cx=\"\(SVG.f(px(run[0].x)))\" cy=\"\(SVG.f(py(run[0].y)))\" r=\"2.5\" fill=\"\(color)\"/>\n"
                } else {
                    let path = run.map { "\(SVG.f(px($0.x))),\(SVG.f(py($0.y)))" }.joined(separator: " ")
                    s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\" points=\"\(path)\"/>\n"
                }
            }
            if series.points.count <= 40 {
                for p in series.points where p.x.isFinite && p.y.isFinite {
                    s += "<circle cx=\"\(SVG.f(px(p.x)))\" cy=\"\(SVG.f(py(p.y)))\" r=\"2.5\" fill=\"\(color)\"/>\n"
                }
            }
            s += "</g>\n"
            let ly = top + 10 + Double(i) * 18, lx = width - right + 14
            s += SVG.line(lx, ly - 4, lx + 18, ly - 4, stroke: color, width: 2)
            s += SVG.text(lx + 24, ly, series.name, anchor: "start")
        }
        return s + "</svg>\n"
    }

    /// Runs of consecutive finite points.
    static func segments(_ points: [ChartPoint]) -> [[ChartPoint]] {
        var out: [[ChartPoint]] = [], run: [ChartPoint] = []
        for p in points {
            if p.x.isFinite && p.y.isFinite { run.append(p) } else if !run.isEmpty { out.append(run); run = [] }
        }
        if !run.isEmpty { out.append(run) }
        return out
    }
}

/// SVG building blocks shared by the charts.
enum SVG {
    static func header(title: String, width: Double, height: Double) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + text(width / 2, 24, title, anchor: "middle", size: 15)
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String, width: Double = 1) -> String {
        "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(f(width))\"/>\n"
    }

    static func text(_ x: Double, _ y: Double, _ s: String, anchor: String, size: Double = 12, fill: String = "#222") -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" font-size=\"\(f(size))\" fill=\"\(fill)\">\(escape(s))</text>\n"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
