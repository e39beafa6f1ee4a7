// A structural SVG check for the report's plots, stricter than "parses as XML":
// the root is <svg> with a viewBox, only the SVG 1.1 elements the charts use
// appear, and every coordinate or size attribute is a finite number (a NaN or
// infinity from an empty series would make renderers drop the element).
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

enum SVGValidation {
    static let elements: Set<String> = ["svg", "rect", "line", "polyline", "circle", "text", "title"]
    static let numeric: Set<String> = ["x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height", "stroke-width", "font-size"]

    /// The problems found (empty: valid).
    static func problems(_ data: Data) -> [String] {
        guard let doc = try? XMLDocument(data: data), let root = doc.rootElement() else { return ["not well-formed XML"] }
        var found: [String] = []
        if root.name != "svg" { found.append("root is <\(root.name ?? "?")>, not <svg>") }
        if !(root.attributes ?? []).contains(where: { $0.name == "viewBox" }) { found.append("no viewBox") }
        func visit(_ e: XMLElement) {
            let name = e.name ?? "?"
            if !elements.contains(name) { found.append("unexpected element <\(name)>") }
            for a in e.attributes ?? [] {
                guard let n = a.name, let v = a.stringValue else { continue }
                if numeric.contains(n) && !(v.hasSuffix("%") || (Double(v)?.isFinite ?? false)) { found.append("<\(name) \(n)=\"\(v)\">") }
                if n == "points" {
                    for pair in v.split(separator: " ") {
                        let xy = pair.split(separator: ",").compactMap { Double($0) }
                        if xy.count != 2 || !xy.allSatisfy(\.isFinite) { found.append("<polyline points> has \"\(pair)\"") }
                    }
                }
            }
            for c in e.children ?? [] { if let c = c as? XMLElement { visit(c) } }
        }
        visit(root)
        return found
    }
}
