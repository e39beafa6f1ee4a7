// A host and how many ranks it may run, and the three ways users give them:
// an OpenMPI hostfile, a `--hosts h1:2,h2:2` flag, and the output of a
// discovery command (Horovod's `host:slots` per line).
import Foundation

/// A host name or address and its number of slots (ranks it may run).
public struct HostSlots: Sendable, Hashable, CustomStringConvertible {
    /// Host name or address as mpirun should see it.
    public var host: String
    /// Ranks the host may run (≥ 1).
    public var slots: Int

    public init(host: String, slots: Int) {
        self.host = host
        self.slots = slots
    }

    /// `host:slots`, the form of mpirun's `--host` and of discovery output.
    public var description: String { "\(host):\(slots)" }

    /// Total slots of `hosts`.
    public static func totalSlots(_ hosts: [HostSlots]) -> Int { hosts.reduce(0) { $0 + $1.slots } }

    // MARK: parsers

    /// Parses an OpenMPI hostfile: `host [slots=N] [max_slots=M]` per line; a host
    /// alone has 1 slot; `#` starts a comment; blank lines are skipped;
    /// `max_slots`/`max-slots` are accepted and ignored; `count=`/`cpu=` are
    /// OpenMPI's synonyms of `slots=`. A host listed twice gets the sum of its
    /// slots (as OpenMPI does). Order of first appearance is kept.
    /// - Parameter source: the file's path, for messages.
    /// - Throws: `LaunchError.badHostList` naming `source` and the line.
    public static func parseHostfile(_ text: String, source: String) throws -> [HostSlots] {
        var result: [HostSlots] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            // `slots = 4` is accepted too: glue spaces around `=` before splitting.
            let glued = line.replacingOccurrences(of: #"\s*=\s*"#, with: "=", options: .regularExpression)
            let tokens = glued.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard let first = tokens.first else { continue }
            let lineNumber = index + 1
            let host = String(first)
            guard !host.contains("=") else {
                throw LaunchError.badHostList(source: source, line: lineNumber, "expected a host name first, got '\(host)'")
            }
            var slots = 1
            for token in tokens.dropFirst() {
                let parts = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw LaunchError.badHostList(source: source, line: lineNumber, "expected key=value after the host, got '\(token)'")
                }
                switch parts[0].lowercased() {
                case "slots", "count", "cpu":
                    slots = try slotCount(parts[1], source: source, line: lineNumber)
                case "max_slots", "max-slots", "slots_max", "slots-max":
                    _ = try slotCount(parts[1], source: source, line: lineNumber)
                default:
                    throw LaunchError.badHostList(source: source, line: lineNumber,
                                                  "unknown keyword '\(parts[0])' (expected slots=N or max_slots=N)")
                }
            }
            if let i = result.firstIndex(where: { $0.host == host }) {
                result[i].slots += slots
            } else {
                result.append(HostSlots(host: host, slots: slots))
            }
        }
        return result
    }

    /// Reads and parses the hostfile at `path` (see `parseHostfile(_:source:)`).
    /// - Throws: `LaunchError.badHostList` naming the path (unreadable or malformed).
    public static func parseHostfile(path: String) throws -> [HostSlots] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LaunchError.badHostList(source: path, line: 0, "cannot read the hostfile")
        }
        return try parseHostfile(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses `h1:2,h2:2,h3` (slots default to 1).
    /// - Parameter source: the flag's name, for messages.
    /// - Throws: `LaunchError.badHostList` naming the source and the entry's position.
    public static func parseHostList(_ spec: String, source: String = "--hosts") throws -> [HostSlots] {
        var result: [HostSlots] = []
        for (index, entry) in spec.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let item = entry.trimmingCharacters(in: .whitespaces)
            guard !item.isEmpty else {
                throw LaunchError.badHostList(source: source, line: 0, "entry \(index + 1) is empty in '\(spec)'")
            }
            let parsed = try hostAndSlots(item, defaultSlots: 1, source: source, line: 0, what: "entry \(index + 1)")
            guard !result.contains(where: { $0.host == parsed.host }) else {
                throw LaunchError.badHostList(source: source, line: 0, "host \(parsed.host) is listed twice")
            }
            result.append(parsed)
        }
        guard !result.isEmpty else { throw LaunchError.badHostList(source: source, line: 0, "no hosts given") }
        return result
    }

    /// Parses a discovery command's output: one `host:slots` (or `host`, meaning
    /// `defaultSlots`) per line; blank lines and `#` comments are skipped.
    /// Empty output is an empty list (no host available right now).
    /// - Parameter source: the command, for messages.
    /// - Throws: `LaunchError.badHostList` naming the command and the line.
    public static func parseDiscoveryOutput(_ text: String, source: String, defaultSlots: Int = 1) throws -> [HostSlots] {
        var result: [HostSlots] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = (rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                .trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            let parsed = try hostAndSlots(line, defaultSlots: defaultSlots, source: source, line: index + 1, what: "line")
            guard !result.contains(where: { $0.host == parsed.host }) else {
                throw LaunchError.badHostList(source: source, line: index + 1, "host \(parsed.host) is listed twice")
            }
            result.append(parsed)
        }
        return result
    }

    private static func hostAndSlots(_ item: String, defaultSlots: Int, source: String, line: Int,
                                     what: String) throws -> HostSlots {
        let parts = item.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts[0].isEmpty, !parts[0].contains(where: \.isWhitespace) else {
            throw LaunchError.badHostList(source: source, line: line, "\(what) '\(item)' is not host or host:slots")
        }
        let slots = parts.count == 2 ? try slotCount(parts[1], source: source, line: line) : defaultSlots
        return HostSlots(host: String(parts[0]), slots: slots)
    }

    private static func slotCount(_ text: Substring, source: String, line: Int) throws -> Int {
        guard let n = Int(text), n >= 1 else {
            throw LaunchError.badHostList(source: source, line: line, "slot count '\(text)' is not a positive integer")
        }
        return n
    }
}
