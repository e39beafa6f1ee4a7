// `cohort train`'s memory check before a model is built: the parameter count from the
// flags alone (in Double, so absurd sizes cannot overflow), the bytes its parameters,
// gradients and optimizer state need on each rank of this node, and the memory the
// machine (and its cgroup) has available. Too big is a one-line error, not a crash.
import CohortCore
import Foundation

public enum ModelMemory {
    /// Parameters of `spec` for data of `shape`, counted from the sizes without allocating
    /// anything; nil for the fixed small architectures (cnn, resnet) and unknown names.
    public static func parameterCount(_ spec: ModelSpec, shape: ModelShape) -> Double? {
        switch spec.name {
        case "mlp":
            let widths = ([shape.inputs] + spec.hidden + [shape.outputs]).map(Double.init)
            return zip(widths, widths.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
        case "lstm":
            let v = Double(shape.outputs), e = Double(spec.embedding), h = Double(spec.hidden.first ?? 256)
            let layers = (0..<max(spec.layers, 1)).reduce(0.0) { sum, l in sum + 4 * h * ((l == 0 ? e : h) + h) + 8 * h }
            return v * e + layers + h * v + v
        case "gpt":
            let d = Double(spec.dModel), hidden = 4 * d
            let block = 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (d * hidden + hidden) + (hidden * d + d)
            return Double(shape.outputs) * d + Double(shape.inputs) * d + Double(spec.layers) * block + 2 * d
        default:
            return nil
        }
    }

    /// Float32 copies a parameter takes while training: its value, its gradient and the
    /// optimizer's state (Adam/AdamW two, RMSprop one, SGD's and RMSprop's momentum one).
    public static func copiesPerParameter(optimizer: String, momentum: Float) -> Int {
        switch optimizer {
        case "adam", "adamw": return 4
        case "rmsprop": return momentum != 0 ? 4 : 3
        default: return momentum != 0 ? 3 : 2
        }
    }

    /// The flags that size each model, for the error message.
    public static func sizeFlags(_ model: String) -> String {
        switch model {
        case "mlp": return "--hidden"
        case "lstm": return "--hidden, --embedding or --layers"
        case "gpt": return "--d-model, --layers or --context"
        default: return "the model's sizes"
        }
    }

    /// Memory available to this process in bytes and where the figure comes from: the smaller of
    /// `MemAvailable` (/proc/meminfo) and the cgroup's limit minus its usage (cgroup v2
    /// `memory.max`/`memory.current`, else v1 `memory.limit_in_bytes`/`memory.usage_in_bytes`).
    /// Nil when neither can be read (not Linux).
    public static func available(readFile: (String) -> String? = { try? String(contentsOfFile: $0, encoding: .utf8) })
        -> (bytes: Double, source: String)? {
        var best: (bytes: Double, source: String)?
        if let meminfo = readFile("/proc/meminfo"),
           let line = meminfo.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kb = Double(line.split(separator: " ").dropFirst().first ?? "") {
            best = (kb * 1024, "MemAvailable in /proc/meminfo")
        }
        func number(_ path: String) -> Double? { readFile(path).flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        for (limit, usage) in [("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                               ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes")] {
            // "max" (v2) or a huge number (v1) means no limit.
            guard let max = number(limit), max < 1e18 else { continue }
            let free = Swift.max(0, max - (number(usage) ?? 0))
            if best == nil || free < best!.bytes { best = (free, "the cgroup limit \(limit) (\(bytesText(max))) minus its usage") }
            break
        }
        return best
    }

    /// Throws when `spec`'s parameters, gradients and optimizer state, times the ranks on this
    /// node, exceed the memory available: one line naming the model, the bytes needed and available.
    public static func check(_ spec: ModelSpec, shape: ModelShape, optimizer: String, momentum: Float, ranksOnNode: Int,
                      available: (bytes: Double, source: String)? = ModelMemory.available()) throws {
        guard let parameters = parameterCount(spec, shape: shape) else { return }
        let copies = copiesPerParameter(optimizer: optimizer, momentum: momentum)
        let perRank = parameters * Double(copies) * 4, needed = perRank * Double(max(ranksOnNode, 1))
        let what = "model \(spec.name) (\(countText(parameters)) parameters from \(sizeFlags(spec.name)))"
        let state = copies - 2 > 0 ? "and \(optimizer) state" : "(\(optimizer) keeps no state)"
        let need = "needs \(bytesText(needed)) for its parameters, gradients \(state)"
            + (ranksOnNode > 1 ? " on \(ranksOnNode) ranks of this node" : "")
        guard needed < Double(Int.max) else {
            throw CohortError.invalidArgument("\(what) \(need): more bytes than a 64-bit size can count; reduce \(sizeFlags(spec.name))")
        }
        guard let available, needed > available.bytes else { return }
        throw CohortError.invalidArgument("\(what) \(need), but only \(bytesText(available.bytes)) are available "
                                          + "(\(available.source)); reduce \(sizeFlags(spec.name))")
    }

    /// A parameter count, exact with thousands separators below 10^15, else in scientific notation.
    public static func countText(_ n: Double) -> String {
        guard n < 1e15 else { return String(format: "%.3g", n) }
        let digits = String(Int64(n))
        return String(digits.reversed().enumerated().map { i, c in i > 0 && i % 3 == 0 ? [",", c] : [c] }.joined().reversed())
    }

    /// `bytes` in bytes and binary units, e.g. `1,270,400,016,160 bytes (1.16 TiB)`.
    public static func bytesText(_ bytes: Double) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"]
        var value = bytes, unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        let scaled = unit == 0 ? "" : String(format: " (%.3g %@)", value, units[unit])
        return "\(countText(bytes)) bytes\(scaled)"
    }
}
