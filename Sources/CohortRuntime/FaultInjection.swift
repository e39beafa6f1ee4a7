// Fault injection for tests and drills (the `faultSpec` parameter, `--inject-fault SPEC`, or COHORT_FAULT):
// a rank kills, stops or slows itself, exits, poisons its loss with NaN, or dies inside a checkpoint write
// at a chosen step, so supervision and recovery can be exercised on purpose.
// Faults fire only in the launch attempt they name, so a restart runs clean.
import CohortCore
import Foundation

/// One injected fault: `KIND@STEP[:rank=R][:attempt=A][:ms=M]`.
struct Fault: Equatable, Sendable {
    enum Kind: String, CaseIterable, Sendable {
        /// SIGKILL this rank at the start of the step.
        case kill
        /// SIGSTOP this rank at the start of the step (a hang).
        case stop
        /// Sleep `ms` milliseconds in every step from this one on.
        case slow
        /// SIGKILL inside the data phase of the first checkpoint write at or after the step.
        case checkpointFail = "checkpoint-fail"
        /// `exit(1)` at the start of the step: a plain crash.
        case exit
        /// This rank's loss becomes NaN in the step (tests the non-finite guard, `--on-nan`).
        case nan
        /// Handled by the coordinator's test harness; ignored by ranks.
        case launcherCrash = "launcher-crash"
    }

    var kind: Kind
    /// 1-based step number.
    var step: Int
    var rank = 0
    var attempt = 0
    /// Milliseconds per step for `slow`.
    var ms = 1000

    /// Parses a comma-separated SPEC; `source` (the parameter `faultSpec` or the variable
    /// `COHORT_FAULT`) names it in errors.
    /// - Throws: `CohortError.invalidParameter` (for `faultSpec`) or `badFlag` (naming the
    ///   variable) with the part that is wrong.
    static func parse(_ spec: String, source: String) throws -> [Fault] {
        let syntax = "expected KIND@STEP[:rank=R][:attempt=A][:ms=M] with KIND one of "
            + Kind.allCases.map(\.rawValue).joined(separator: ", ")
        func bad(_ part: Substring, _ why: String) -> CohortError {
            let message = "bad fault '\(part)' in '\(spec)': \(why)"
            return source == "faultSpec" ? .invalidParameter(name: source, message) : .badFlag(flag: source, message)
        }
        var faults: [Fault] = []
        for part in spec.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            let fields = item.split(separator: ":", omittingEmptySubsequences: false)
            let head = fields[0].split(separator: "@", omittingEmptySubsequences: false)
            guard head.count == 2 else { throw bad(part, syntax) }
            guard let kind = Kind(rawValue: String(head[0])) else { throw bad(part, "unknown kind '\(head[0])'; " + syntax) }
            guard let step = Int(head[1]), step >= 1 else { throw bad(part, "the step must be a positive integer, got '\(head[1])'") }
            var fault = Fault(kind: kind, step: step)
            for option in fields.dropFirst() {
                let kv = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard kv.count == 2, let value = Int(kv[1]), value >= 0 else {
                    throw bad(part, "option '\(option)' must be rank=R, attempt=A or ms=M with a non-negative integer")
                }
                switch kv[0] {
                case "rank": fault.rank = value
                case "attempt": fault.attempt = value
                case "ms": fault.ms = value
                default: throw bad(part, "unknown option '\(kv[0])' (rank, attempt, ms)")
                }
            }
            faults.append(fault)
        }
        return faults
    }
}

/// The faults this rank will inject in this attempt, and their firing.
struct FaultPlan {
    private(set) var faults: [Fault]
    let rank: Int
    private var slowFrom: Fault?
    /// The step whose loss this rank poisons (a `nan` fault firing now).
    private(set) var nanStep: Int?

    /// No faults.
    init() { faults = []; rank = 0 }

    /// The faults of `spec` meant for `rank` in `attempt`.
    init(spec: String, source: String, rank: Int, attempt: Int, worldSize: Int) throws {
        let all = try Fault.parse(spec, source: source)
        if rank == 0 {
            for f in all where f.kind != .launcherCrash && f.rank >= worldSize {
                Log.warning("fault injection: \(f.kind.rawValue)@\(f.step) names rank \(f.rank), but the job has \(worldSize) ranks: it never fires")
            }
            for f in all where f.kind == .checkpointFail && f.rank != 0 {
                Log.warning("fault injection: checkpoint-fail@\(f.step) names rank \(f.rank), which writes checkpoints only when they are sharded (--checkpoint-sharding): otherwise it never fires")
            }
        }
        faults = all.filter { $0.rank == rank && $0.attempt == attempt && $0.kind != .launcherCrash }
        self.rank = rank
    }

    var isEmpty: Bool { faults.isEmpty }

    /// Fires the faults due at the start of `step` (1-based): kill, stop, exit, slow.
    mutating func beforeStep(_ step: Int) {
        guard !faults.isEmpty || slowFrom != nil else { return }
        // kill/stop/exit fire at exactly their step; slow from its step on, also when
        // this attempt resumed past it.
        for f in faults where f.step == step || (f.kind == .slow && step >= f.step) {
            switch f.kind {
            case .kill:
                announce(f)
                kill(getpid(), SIGKILL)
            case .stop:
                announce(f)
                kill(getpid(), SIGSTOP)
            case .exit:
                announce(f)
                fflush(nil)
                _exit(1)
            case .slow:
                announce(f, extra: " (\(f.ms) ms per step from here on)")
                slowFrom = f
            case .nan:
                announce(f, extra: " (this rank's loss becomes NaN)")
                nanStep = step
            case .checkpointFail, .launcherCrash:
                break
            }
        }
        faults.removeAll { ($0.step == step || ($0.kind == .slow && step >= $0.step)) && $0.kind != .checkpointFail }
        if let slow = slowFrom { usleep(UInt32(min(slow.ms, Int(UInt32.max / 1000)) * 1000)) }
    }

    /// True (once) when the save after `step` completed steps must be killed mid-write.
    mutating func crashesCheckpoint(atStep step: Int) -> Bool {
        guard let i = faults.firstIndex(where: { $0.kind == .checkpointFail && step >= $0.step }) else { return false }
        announce(faults[i], extra: " (killing the step-\(step) checkpoint write)")
        faults.remove(at: i)
        return true
    }

    private func announce(_ f: Fault, extra: String = "") {
        Log.info("fault injection: \(f.kind.rawValue) at step \(f.step) on rank \(rank)\(extra)")
    }
}
