// `cohort trace merge`: the per-rank files of one `--trace` run joined into one
// Chrome trace with a process per rank. Each file is checked to be a Cohort trace,
// and all of them to come from the same run (run id, world size, one file per rank).
// Timestamps are already on a common axis (wall-clock µs since the Unix epoch);
// `--align barrier` instead lines up the instant every rank left a start barrier.
import CohortCore
import Foundation
import Glibc

/// Joining ranks' trace files.
public enum TraceMerge {
    /// How ranks' clocks are put on one axis.
    public enum Alignment: String, Sendable, CaseIterable {
        /// Each rank's wall clock as recorded (right when hosts' clocks are synchronized, e.g. by NTP/PTP).
        case clock
        /// Shift every rank so its exit from the start barrier coincides with rank 0's.
        case barrier
    }

    /// What a merge did.
    public struct Report: Sendable {
        public var ranks: [Int] = []
        public var worldSize = 0
        public var events = 0
        /// Largest difference between ranks' wall clocks at the start barrier, in µs (nil: not recorded):
        /// an estimate of the clock skew plus the barrier's exit spread.
        public var barrierSpreadMicroseconds: Int64?
        /// Ranks of the world with no file among the inputs.
        public var missingRanks: [Int] = []
    }

    /// The files `arguments` name: each an existing file, a glob (`trace.rank*.json`), or the
    /// `--trace` path itself (`trace.json`), standing for its rank files (`trace.rank0.json`, …) in rank order.
    /// - Throws: `CohortError.badFile` naming an argument that matches no file.
    public static func inputs(_ arguments: [String]) throws -> [String] {
        var out: [String] = []
        for a in arguments {
            if FileManager.default.fileExists(atPath: a) { out.append(a); continue }
            if a.contains(where: { "*?[".contains($0) }) {
                let found = glob(a)
                guard !found.isEmpty else { throw CohortError.badFile(path: a, "no file matches this pattern") }
                out += found
                continue
            }
            var ranks: [String] = []
            while FileManager.default.fileExists(atPath: TraceFile.rankPath(a, rank: ranks.count)) {
                ranks.append(TraceFile.rankPath(a, rank: ranks.count))
            }
            guard !ranks.isEmpty else {
                throw CohortError.badFile(path: a, "no such file, and no rank files such as \(TraceFile.rankPath(a, rank: 0))")
            }
            out += ranks
        }
        return out
    }

    private static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }

    /// One rank's file, read and checked.
    struct RankFile {
        let path: String
        let events: [Any]
        let rank: Int, worldSize: Int, runID: String
        let barrier: Int64?

        init(path: String) throws {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw CohortError.badFile(path: path, "cannot read it (\(error.localizedDescription))")
            }
            guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
                  let events = root["traceEvents"] as? [Any] else {
                throw CohortError.badFile(path: path, "not a Chrome trace file (a JSON object with a \"traceEvents\" array)")
            }
            guard let other = root["otherData"] as? [String: Any], other["format"] as? String == TraceFile.format,
                  let rank = (other["rank"] as? NSNumber)?.intValue, let size = (other["world_size"] as? NSNumber)?.intValue,
                  let run = other["run_id"] as? String else {
                throw CohortError.badFile(path: path, "a Chrome trace, but not one written by `cohort train --trace` (no otherData of format \(TraceFile.format))")
            }
            guard rank >= 0, rank < size else { throw CohortError.badFile(path: path, "rank \(rank) outside its world size \(size)") }
            (self.path, self.events, self.rank, self.worldSize, self.runID) = (path, events, rank, size, run)
            barrier = (other["barrier_wall_us"] as? NSNumber)?.int64Value
        }
    }

    /// Merges the rank files `paths` into `output`: one process per rank (pid = rank).
    /// - Throws: `CohortError.badFile` naming the file that is not a Cohort trace, comes from
    ///   another run or world size than the first, or repeats a rank; or the output that cannot be written.
    public static func merge(_ paths: [String], alignment: Alignment = .clock, into output: String) throws -> Report {
        guard !paths.isEmpty else { throw CohortError.invalidArgument("trace merge: no input files") }
        var files: [RankFile] = []
        for p in paths {
            let f = try RankFile(path: p)
            if let first = files.first {
                guard f.runID == first.runID else {
                    throw CohortError.badFile(path: p, "from another run than \(first.path) (run id \(f.runID), not \(first.runID))")
                }
                guard f.worldSize == first.worldSize else {
                    throw CohortError.badFile(path: p, "world size \(f.worldSize), but \(first.path) has \(first.worldSize)")
                }
                if let same = files.first(where: { $0.rank == f.rank }) {
                    throw CohortError.badFile(path: p, "rank \(f.rank) again (also in \(same.path))")
                }
            }
            files.append(f)
        }
        files.sort { $0.rank < $1.rank }
        var report = Report()
        report.ranks = files.map(\.rank)
        report.worldSize = files[0].worldSize
        report.missingRanks = (0..<report.worldSize).filter { r in !files.contains { $0.rank == r } }
        let barriers = files.compactMap(\.barrier)
        if barriers.count == files.count, let lo = barriers.min(), let hi = barriers.max() { report.barrierSpreadMicroseconds = hi - lo }
        if alignment == .barrier && barriers.count != files.count {
            let without = files.first { $0.barrier == nil }!
            throw CohortError.badFile(path: without.path, "has no start-barrier time to align on (use --align clock)")
        }
        let reference = files[0].barrier ?? 0
        var all: [Any] = []
        for f in files {
            let shift = alignment == .barrier ? reference - (f.barrier ?? reference) : 0
            for case var e as [String: Any] in f.events {
                if shift != 0, let ts = (e["ts"] as? NSNumber)?.int64Value { e["ts"] = ts + shift }
                all.append(e)
            }
        }
        report.events = all.count
        let merged: [String: Any] = [
            "traceEvents": all, "displayTimeUnit": "ms",
            "otherData": ["format": TraceFile.format + "-merged", "world_size": report.worldSize, "ranks": report.ranks,
                          "run_id": files[0].runID, "alignment": alignment.rawValue, "clock": "unix_epoch_us"] as [String: Any],
        ]
        do {
            let data = try JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys])
            try data.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw CohortError.badFile(path: output, "cannot write the merged trace (\(error.localizedDescription))")
        }
        return report
    }
}
