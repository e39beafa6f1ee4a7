// One JSON string escaper for every hand-written JSON (and YAML double-quoted) text:
// event logs, metrics lines, export headers, config output.

/// `s` as a JSON string literal, quotes included: `"`, `\` and control characters
/// (and DEL) escaped, everything else as is (UTF-8 stays UTF-8).
public func jsonStringLiteral(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where u.value < 0x20 || u.value == 0x7F:
            let hex = String(u.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}

/// A JSON array of string literals: `["a","b"]`.
public func jsonStringArray(_ items: [String]) -> String { "[" + items.map(jsonStringLiteral).joined(separator: ",") + "]" }
