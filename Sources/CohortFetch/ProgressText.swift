// Text for download progress: a one-line bar for terminals, redrawn in place,
// and byte/rate formatting shared with the plain per-file messages.
import Foundation

/// Formats download progress for people.
public enum ProgressText {
    /// `512 B`, `4.4 KiB`, `9.5 MiB`.
    public static func bytes(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n), i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
    }

    /// `3.2 MiB/s` for `n` bytes in `seconds` (`-` before any time has passed).
    public static func rate(_ n: Int64, seconds: Double) -> String {
        guard seconds > 0 else { return "-" }
        return bytes(Int64(Double(n) / seconds)) + "/s"
    }

    /// One terminal line: `name  [#########...........]  45%  4.5 MiB / 9.5 MiB  2.3 MiB/s`;
    /// without a total it shows bytes and rate only. `width` is the bar's inner width.
    public static func bar(name: String, received: Int64, total: Int64?, bytesPerSecond: Double, width: Int = 24) -> String {
        let rate = bytesPerSecond > 0 ? bytes(Int64(bytesPerSecond)) + "/s" : "-"
        guard let total, total > 0 else { return "\(name)  \(bytes(received))  \(rate)" }
        let fraction = min(1, max(0, Double(received) / Double(total)))
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let percent = String(format: "%3d%%", Int(fraction * 100))
        return "\(name)  [\(bar)] \(percent)  \(bytes(received)) / \(bytes(total))  \(rate)"
    }
}
