// Which hosts can take ranks right now: a static list whose hosts are each
// checked by a time-bounded probe command (run in parallel), or a discovery
// command whose output lists them. Nothing here can hang: every command runs
// under `runWithTimeout`.
import CohortProcess
import Foundation

/// A host that failed its probe, and why.
public struct ProbeFailure: Sendable, Equatable {
    public var host: String
    /// "timed out after 2 s", "exit code 255: ssh: connect to host … refused".
    public var reason: String
}

/// The outcome of one discovery round.
public struct DiscoveredHosts: Sendable, Equatable {
    /// Hosts that answered (or were not probed), in the order given.
    public var healthy: [HostSlots]
    /// Hosts whose probe failed, in the order given.
    public var unreachable: [ProbeFailure]
}

/// Finds the hosts available for the next attempt.
public struct HostDiscovery: Sendable {
    /// Where the host list comes from.
    public enum Source: Sendable, Equatable {
        /// A fixed list (hostfile or `--hosts`).
        case fixed([HostSlots])
        /// A shell command printing `host:slots` lines, run through `/bin/sh -c`.
        case command(String)
    }

    /// Probes running at once (one thread and one child each).
    static let maxConcurrentProbes = 32

    /// Placeholder replaced by the host name in `probe`.
    public static let hostPlaceholder = "{host}"

    /// Where hosts come from.
    public var source: Source
    /// A probe command template run once per host, e.g.
    /// `["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=2", "{host}", "true"]` or
    /// `["/path/agent.sh", "{host}", "true"]`; exit 0 means healthy. nil: no probing.
    /// `localhost`, `127.0.0.1` and `::1` are never probed.
    public var probe: [String]?
    /// Seconds a probe may take before its process group is killed.
    public var probeTimeout: Double
    /// Seconds the discovery command may take.
    public var commandTimeout: Double
    /// Slots of a discovered host printed without `:slots`.
    public var defaultSlots: Int

    public init(source: Source, probe: [String]? = nil, probeTimeout: Double = 5,
                commandTimeout: Double = 30, defaultSlots: Int = 1) {
        self.source = source
        self.probe = probe
        self.probeTimeout = probeTimeout
        self.commandTimeout = commandTimeout
        self.defaultSlots = defaultSlots
    }

    /// True for names that mean this machine, which need no probe.
    public static func isLocal(_ host: String) -> Bool {
        host == "localhost" || host == "127.0.0.1" || host == "::1"
    }

    /// Lists the hosts, skipping those `exclusions` currently exclude, and probes the rest.
    /// - Throws: `LaunchError.commandFailed` naming the discovery command when it
    ///   cannot start, exits non-zero or times out; `LaunchError.badHostList` for
    ///   output it cannot parse; `LaunchError.invalidArgument` for a probe template
    ///   without `{host}`.
    public func discover(excluding exclusions: HostExclusions? = nil) throws -> DiscoveredHosts {
        var hosts: [HostSlots]
        switch source {
        case let .fixed(list): hosts = list
        case let .command(command): hosts = try runDiscoveryCommand(command)
        }
        if let exclusions { hosts = exclusions.filter(hosts) }
        guard let probe else { return DiscoveredHosts(healthy: hosts, unreachable: []) }
        guard probe.contains(where: { $0.contains(Self.hostPlaceholder) }) else {
            throw LaunchError.invalidArgument("probe command \(probe.joined(separator: " ")) has no \(Self.hostPlaceholder) placeholder")
        }
        let outcomes = probeAll(hosts.map(\.host), template: probe)
        var result = DiscoveredHosts(healthy: [], unreachable: [])
        for (host, failure) in zip(hosts, outcomes) {
            if let failure { result.unreachable.append(ProbeFailure(host: host.host, reason: failure)) }
            else { result.healthy.append(host) }
        }
        return result
    }

    /// Runs the discovery command and parses its standard output.
    func runDiscoveryCommand(_ command: String) throws -> [HostSlots] {
        let result: CommandResult
        do {
            result = try runWithTimeout(argv: ["/bin/sh", "-c", command], timeout: commandTimeout)
        } catch {
            throw LaunchError.commandFailed(command: command, "cannot run the discovery command: \(error)")
        }
        if result.timedOut {
            throw LaunchError.commandFailed(command: command, "discovery command timed out after \(formatSeconds(commandTimeout))")
        }
        guard result.status.succeeded else {
            throw LaunchError.commandFailed(command: command,
                                            "discovery command failed with \(result.status)\(lastLine(of: result.stderr))")
        }
        return try HostSlots.parseDiscoveryOutput(result.stdout, source: command, defaultSlots: defaultSlots)
    }

    /// Probes every host in parallel (up to `maxConcurrentProbes` at once); nil for healthy, else the reason.
    func probeAll(_ hosts: [String], template: [String]) -> [String?] {
        let results = ProbeResults(count: hosts.count)
        let group = DispatchGroup()
        let slots = DispatchSemaphore(value: Self.maxConcurrentProbes)
        for (index, host) in hosts.enumerated() {
            if Self.isLocal(host) { continue }
            let argv = template.map { $0.replacingOccurrences(of: Self.hostPlaceholder, with: host) }
            let timeout = probeTimeout
            slots.wait()
            group.enter()
            Thread {
                results.set(index, probeOnce(argv: argv, timeout: timeout))
                slots.signal()
                group.leave()
            }.start()
        }
        group.wait()
        return results.values
    }
}

/// Runs one probe; nil when it exited 0.
private func probeOnce(argv: [String], timeout: Double) -> String? {
    do {
        let r = try runWithTimeout(argv: argv, timeout: timeout, outputLimit: 4096)
        if r.timedOut { return "probe timed out after \(formatSeconds(timeout))" }
        if r.status.succeeded { return nil }
        return "probe failed with \(r.status)\(lastLine(of: r.stderr))"
    } catch {
        return "\(error)"
    }
}

/// Results written by probe threads; guarded by a lock.
private final class ProbeResults: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: String?) { lock.lock(); storage[i] = value; lock.unlock() }
    var values: [String?] { lock.lock(); defer { lock.unlock() }; return storage }
}

/// `: <last non-empty line>` of a command's stderr, or "".
func lastLine(of text: String) -> String {
    guard let line = text.split(separator: "\n").last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
        return ""
    }
    return ": " + line.trimmingCharacters(in: .whitespaces)
}

/// `2 s`, `0.5 s`.
func formatSeconds(_ s: Double) -> String {
    s == s.rounded() && abs(s) < 1e15 ? "\(Int(s)) s" : "\(s) s"
}
