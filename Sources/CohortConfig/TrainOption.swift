// The options of a command as data (names, kind, default): what config files are
// checked against. The command line builds the table from ArgumentParser's own
// description of `cohort train` (Sources/cohort/TrainFlagTable.swift).

/// How `cohort train` takes an option.
public enum TrainOptionKind: Sendable {
    /// A Boolean flag (`--deterministic`): present or absent.
    case flag
    /// One value; given twice, the later wins.
    case single
    /// A value per use (`--metadata a=1 --metadata b=2`).
    case repeating
}

/// One `cohort train` option as ArgumentParser declares it.
public struct TrainOption: Sendable {
    /// Long names without `--`, the preferred one first (e.g. `global-batch`, `batch-size`).
    public var names: [String]
    public var kind: TrainOptionKind
    /// The default as ArgumentParser renders it (`--x` for a flag on by default); nil when none.
    public var defaultValue: String?
    /// A flag's negative name (`no-tensorboard`), which config files write as `tensorboard: false`.
    public var inversion: String?
    /// The name config files and `cohort config show` use.
    public var key: String { names[0] }

    public init(names: [String], kind: TrainOptionKind, defaultValue: String?, inversion: String? = nil) {
        (self.names, self.kind, self.defaultValue, self.inversion) = (names, kind, defaultValue, inversion)
    }
}

/// Every option of a command, looked up by name.
public struct OptionTable: Sendable {
    /// Every option in declaration order.
    public let all: [TrainOption]

    public init(_ all: [TrainOption]) { self.all = all }

    /// The option called `name` (`_` accepted for `-`), if any.
    public func named(_ name: String) -> TrainOption? {
        let n = name.replacingOccurrences(of: "_", with: "-")
        return all.first { $0.names.contains(n) }
    }

    /// Whether a flag is on when not given.
    public static func isOnByDefault(_ o: TrainOption) -> Bool { o.defaultValue == "true" || o.defaultValue == "--" + o.key }
}
