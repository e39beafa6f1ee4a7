// This process's memory as the Linux kernel counts it (/proc/self/status).
import Foundation

/// Resident-memory figures of the running process.
public enum ProcessMemory {
    /// The peak resident set size so far (VmHWM), in MiB; 0 where /proc is not readable.
    public static func peakResidentMiB() -> Double { statusField("VmHWM:") / 1024 }

    /// The resident set size now (VmRSS), in MiB; 0 where /proc is not readable.
    public static func residentMiB() -> Double { statusField("VmRSS:") / 1024 }

    /// A `kB` field of /proc/self/status.
    static func statusField(_ key: String) -> Double {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix(key) {
            return line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        }
        return 0
    }
}
