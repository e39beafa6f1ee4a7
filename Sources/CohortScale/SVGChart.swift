// Minimal, dependency-free SVG charts for the scaling report: lines with optional
// error bars and a dashed reference line, and stacked bars. Output is plain SVG
// 1.1 (no scripts, no external fonts), valid XML that any browser or converter renders.
import Foundation

/// One line of a line chart.
public struct SVGSeries: Sendable {
    public var name: String
    /// Points (x, y) with an optional interval (lower, upper) drawn as an error bar.
    public var points: [(x: Double, y: Double, interval: (Double, Double)?)]
    public var dashed = false

    public init(name: String, points: [(x: Double, y: Double, interval: (Double, Double)?)], dashed: Bool = false) {
        self.name = name; self.points = points; self.dashed = dashed
    }
}

public enum SVGChart {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
    static let width = 640.0, height = 400.0, left = 70.0, right = 170.0, top = 40.0, bottom = 50.0

    /// A line chart; x values are shown at their own ticks (world sizes), y from 0.
    public static func lines(title: String, xLabel: String, yLabel: String, series: [SVGSeries]) -> String {
        let xs = Array(Set(series.flatMap { $0.points.map(\.x) })).sorted()
        let yMax = niceCeiling(series.flatMap { $0.points.flatMap { [$0.y, $0.interval?.1 ?? $0.y] } }.max() ?? 1)
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double {
            guard let lo = xs.first, let hi = xs.last, hi > lo else { return left + plotW / 2 }
            return left + (x - lo) / (hi - lo) * plotW
        }
        func py(_ y: Double) -> Double { top + plotH - y / yMax * plotH }
        var svg = header(title)
        svg += axes(yMax: yMax, py: py, xLabel: xLabel, yLabel: yLabel)
        for x in xs { svg += text(px(x), top + plotH + 18, fmt(x), anchor: "middle") }
        for (i, s) in series.enumerated() {
            let color = s.dashed ? "#777777" : palette[i % palette.count]
            let path = s.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"6 4\"" : "") points=\"\(path)\"/>\n"
            for p in s.points {
                if let (lo, hi) = p.interval {
                    svg += "<line x1=\"\(f(px(p.x)))\" y1=\"\(f(py(lo)))\" x2=\"\(f(px(p.x)))\" y2=\"\(f(py(hi)))\" stroke=\"\(color)\" stroke-width=\"1.5\"/>\n"
                    for y in [lo, hi] {
                        svg += "<line x1=\"\(f(px(p.x) - 5))\" y1=\"\(f(py(y)))\" x2=\"\(f(px(p.x) + 5))\" y2=\"\(f(py(y)))\" stroke=\"\(color)\" stroke-width=\"1.5\"/>\n"
                    }
                }
                if !s.dashed { svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3.5\" fill=\"\(color)\"/>\n" }
            }
            svg += legend(i, s.name, color, dashed: s.dashed)
        }
        return svg + "</svg>\n"
    }

    /// Stacked horizontal bars: one bar per label, one segment per component (same order in every bar).
    public static func stackedBars(title: String, unit: String, components: [String], bars: [(label: String, values: [Double])]) -> String {
        let total = niceCeiling(bars.map { $0.values.reduce(0, +) }.max() ?? 1)
        let plotW = width - left - right - 60, rowH = max(14, min(34, (height - top - bottom) / Double(max(bars.count, 1)) - 6))
        let h = top + Double(bars.count) * (rowH + 6) + bottom
        var svg = header(title, height: h)
        let x0 = left + 60
        for (b, bar) in bars.enumerated() {
            let y = top + Double(b) * (rowH + 6)
            svg += text(x0 - 6, y + rowH / 2 + 4, bar.label, anchor: "end")
            var x = x0
            for (i, v) in bar.values.enumerated() {
                let w = v / total * plotW
                svg += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(max(w, 0)))\" height=\"\(f(rowH))\" fill=\"\(palette[i % palette.count])\"><title>\(escape(components[i])): \(fmt(v)) \(escape(unit))</title></rect>\n"
                x += w
            }
        }
        let axisY = top + Double(bars.count) * (rowH + 6) + 4
        svg += "<line x1=\"\(f(x0))\" y1=\"\(f(axisY))\" x2=\"\(f(x0 + plotW))\" y2=\"\(f(axisY))\" stroke=\"#333\"/>\n"
        for k in 0...4 {
            let v = total * Double(k) / 4
            svg += text(x0 + plotW * Double(k) / 4, axisY + 16, fmt(v), anchor: "middle")
        }
        svg += text(x0 + plotW / 2, axisY + 34, unit, anchor: "middle")
        for (i, c) in components.enumerated() { svg += legend(i, c, palette[i % palette.count], dashed: false, box: true) }
        return svg + "</svg>\n"
    }

    // MARK: pieces

    static func header(_ title: String, height h: Double = height) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(f(width))\" height=\"\(f(h))\" viewBox=\"0 0 \(f(width)) \(f(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + text(width / 2, 22, title, anchor: "middle", size: 15)
    }

    static func axes(yMax: Double, py: (Double) -> Double, xLabel: String, yLabel: String) -> String {
        let plotW = width - left - right, plotH = height - top - bottom
        var s = "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\" stroke=\"#333\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\" stroke=\"#333\"/>\n"
        for k in 0...5 {
            let v = yMax * Double(k) / 5
            s += "<line x1=\"\(f(left))\" y1=\"\(f(py(v)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(v)))\" stroke=\"#e5e5e5\"/>\n"
            s += text(left - 6, py(v) + 4, fmt(v), anchor: "end")
        }
        s += text(left + plotW / 2, height - 12, xLabel, anchor: "middle")
        s += "<text x=\"16\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f(top + plotH / 2)))\">\(escape(yLabel))</text>\n"
        return s
    }

    static func legend(_ i: Int, _ name: String, _ color: String, dashed: Bool, box: Bool = false) -> String {
        let x = width - right + 14, y = top + 10 + Double(i) * 18
        let mark = box
            ? "<rect x=\"\(f(x))\" y=\"\(f(y - 8))\" width=\"14\" height=\"10\" fill=\"\(color)\"/>\n"
            : "<line x1=\"\(f(x))\" y1=\"\(f(y - 4))\" x2=\"\(f(x + 18))\" y2=\"\(f(y - 4))\" stroke=\"\(color)\" stroke-width=\"2\"\(dashed ? " stroke-dasharray=\"6 4\"" : "")/>\n"
        return mark + text(x + 24, y, name, anchor: "start")
    }

    static func text(_ x: Double, _ y: Double, _ s: String, anchor: String, size: Double = 12) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" font-size=\"\(f(size))\">\(escape(s))</text>\n"
    }

    /// The smallest of 1, 2, 2.5, 5 × 10^k at or above `v` (axis tops).
    static func niceCeiling(_ v: Double) -> Double {
        guard v > 0, v.isFinite else { return 1 }
        let p = pow(10, floor(log10(v)))
        return ([1, 2, 2.5, 5, 10].map { $0 * p }.first { $0 >= v * 1.0001 }) ?? 10 * p
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    /// Tick and tooltip numbers: `250k`, `1.5M`, `12`, `0.25`.
    static func fmt(_ v: Double) -> String {
        if abs(v) >= 1e6 { return trimmed(v / 1e6) + "M" }
        if abs(v) >= 1e4 { return trimmed(v / 1e3) + "k" }
        return v == v.rounded() ? String(Int(v)) : abs(v) >= 100 ? String(format: "%.0f", v) : String(format: "%.3g", v)
    }
    static func trimmed(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(format: "%.3g", v) }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
