// The confusion matrix as an SVG heat map: rows = true class, columns =
// predicted; each cell shows its count, coloured by its share of the row (so
// rare classes are as readable as common ones).
import Foundation

/// Renders a `ConfusionMatrixFile` as SVG text.
public enum ConfusionHeatMap {
    /// The heat map; counts are written in the cells up to 40 classes (beyond, in tooltips only).
    public static func svg(_ c: ConfusionMatrixFile, title: String = "Confusion matrix") -> String {
        let n = c.labels.count
        let cell = n <= 12 ? 44.0 : n <= 25 ? 28.0 : max(8, 700 / Double(n))
        let longest = c.labels.map(\.count).max() ?? 1
        let rotate = longest > 2  // short labels ("0"…"9") stand upright over their columns
        let labelW = rotate ? min(Double(longest) * 7 + 14, 120) : 20
        let left = 40 + labelW, top = 70.0 + labelW * 0.6
        let width = left + cell * Double(n) + 110, height = top + cell * Double(n) + 40
        let fontSize = min(12, cell * 0.32)
        var s = SVG.header(title: "\(title) (rows: true class, colour: share of row)", width: max(width, 460), height: height)
        s += SVG.text(left + cell * Double(n) / 2, top - labelW * 0.6 - 10, "predicted", anchor: "middle")
        s += "<text x=\"16\" y=\"\(SVG.f(top + cell * Double(n) / 2))\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 \(SVG.f(top + cell * Double(n) / 2)))\">true</text>\n"
        for (j, label) in c.labels.enumerated() {
            let x = left + (Double(j) + 0.5) * cell
            s += rotate
                ? "<text x=\"\(SVG.f(x))\" y=\"\(SVG.f(top - 6))\" text-anchor=\"start\" font-size=\"\(SVG.f(fontSize))\" transform=\"rotate(-45 \(SVG.f(x)) \(SVG.f(top - 6)))\">\(SVG.escape(label))</text>\n"
                : SVG.text(x, top - 6, label, anchor: "middle", size: fontSize)
            s += SVG.text(left - 6, top + (Double(j) + 0.5) * cell + fontSize / 3, label, anchor: "end", size: fontSize)
        }
        for (i, row) in c.matrix.enumerated() {
            let total = row.reduce(0, +)
            for (j, count) in row.enumerated() {
                let share = total > 0 ? Double(count) / Double(total) : 0
                let x = left + Double(j) * cell, y = top + Double(i) * cell
                s += "<rect x=\"\(SVG.f(x))\" y=\"\(SVG.f(y))\" width=\"\(SVG.f(cell))\" height=\"\(SVG.f(cell))\" fill=\"\(color(share))\" stroke=\"#ffffff\" stroke-width=\"1\">"
                    + "<title>true \(SVG.escape(c.labels[i])), predicted \(SVG.escape(c.labels[j])): \(count) (\(String(format: "%.1f", share * 100))% of row)</title></rect>\n"
                if n <= 40 {
                    s += SVG.text(x + cell / 2, y + cell / 2 + fontSize / 3, String(count), anchor: "middle", size: fontSize,
                                  fill: share > 0.5 ? "#ffffff" : "#222")
                }
            }
        }
        // Colour scale: row share 0 → 1.
        let sx = left + cell * Double(n) + 24, sh = min(cell * Double(n), 200)
        for k in 0..<20 {
            let y = top + sh - Double(k + 1) * sh / 20
            s += "<rect x=\"\(SVG.f(sx))\" y=\"\(SVG.f(y))\" width=\"14\" height=\"\(SVG.f(sh / 20 + 0.5))\" fill=\"\(color((Double(k) + 0.5) / 20))\"/>\n"
        }
        s += SVG.text(sx + 20, top + 10, "100%", anchor: "start", size: 11)
        s += SVG.text(sx + 20, top + sh, "0%", anchor: "start", size: 11)
        return s + "</svg>\n"
    }

    /// White → dark blue by `share` in [0, 1].
    static func color(_ share: Double) -> String {
        let t = min(max(share, 0), 1)
        let (r, g, b) = (255 - t * (255 - 8), 255 - t * (255 - 48), 255 - t * (255 - 107))
        return String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(b.rounded()))
    }
}
