// The one builder of `mpirun` command lines: the launcher's attempts, `cohort cv
// --parallel`, and the `cohort bench` workloads that start worker ranks all build
// theirs here, so the options (run-as-root, binding, oversubscription, exports)
// are spelled once.
import Foundation

/// `mpirun [--allow-run-as-root] -np N [--host H] [--bind-to B] [--oversubscribe]
/// [-x E]… <extraArguments> <program>`.
public struct MPIRun: Sendable, Equatable {
    /// The mpirun executable (PATH lookup when it has no `/`).
    public var mpirun = "mpirun"
    /// Ranks (`-np`).
    public var ranks: Int
    /// `--host` value (`h1:2,h2:1`); nil: mpirun's default (this machine).
    public var hosts: String?
    /// Adds `--allow-run-as-root`; default: true when this process runs as root.
    public var allowRunAsRoot: Bool
    /// `--bind-to` value; nil leaves mpirun's default (binding ranks to cores).
    public var bindTo: String?
    /// Adds `--oversubscribe` (more ranks than slots).
    public var oversubscribe: Bool
    /// `-x` values, in order: a variable name (forwarded from mpirun's environment) or `NAME=value`.
    public var exports: [String]
    /// Further mpirun options, passed verbatim before the program.
    public var extraArguments: [String]

    /// An mpirun command for `ranks` ranks; see the properties for the rest.
    public init(ranks: Int, hosts: String? = nil, allowRunAsRoot: Bool? = nil, bindTo: String? = "none",
                oversubscribe: Bool = false, exports: [String] = [], extraArguments: [String] = []) {
        self.ranks = ranks
        self.hosts = hosts
        self.allowRunAsRoot = allowRunAsRoot ?? POSIX.isRoot()
        self.bindTo = bindTo
        self.oversubscribe = oversubscribe
        self.exports = exports
        self.extraArguments = extraArguments
    }

    /// The mpirun options alone (without the executable and the program).
    public var options: [String] {
        var args: [String] = []
        if allowRunAsRoot { args.append("--allow-run-as-root") }
        args += ["-np", String(ranks)]
        if let hosts { args += ["--host", hosts] }
        if let bindTo { args += ["--bind-to", bindTo] }
        if oversubscribe { args.append("--oversubscribe") }
        for e in exports { args += ["-x", e] }
        return args + extraArguments
    }

    /// The full argv running `program` (e.g. `[cohort, "train", …]`) on every rank.
    public func argv(_ program: [String]) -> [String] { [mpirun] + options + program }
}
