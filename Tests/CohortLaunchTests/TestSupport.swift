// Helpers of the CohortLaunch tests beyond CohortProcessTestSupport's (scratch
// directories, liveness, polling): whether mpirun is on PATH, and a settable clock.
import CohortProcessTestSupport
import Foundation
import Synchronization

/// True when `mpirun` is on PATH (the real-OpenMPI tests need it).
let mpirunAvailable: Bool = {
    (baseEnvironment["PATH"] ?? "").split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/mpirun")
    }
}()

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let value = Mutex(1000.0)
    func now() -> Double { value.withLock { $0 } }
    func advance(_ seconds: Double) { value.withLock { $0 += seconds } }
}
